//! The three changes a user or an agent can ask for (`ScheduleUpdate`, `CancelReservations`,
//! `SetOtaMode`) in the caller's words, and the rules each must meet before anything is read
//! or sent. Every broken rule is reported, field by field.

use std::collections::HashSet;

use rmm_api::{DeviceId, OtaMode, TimeZoneOffset};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::problems::Problems;

/// Most devices one change may name (a bigger change is a mistake more often than not).
pub const MAX_DEVICES_PER_CHANGE: usize = 1000;

/// Schedule a firmware file onto devices (an `UpdateReservation` in the cloud).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScheduleUpdate {
    pub device_ids: Vec<String>,
    pub firmware_file_id: String,
    /// When the file is sent, Unix milliseconds; must be in the future.
    pub transfer_datetime: i64,
    /// When the update runs, `YYYYMMDDHHMM` local to `timezone`; not before the transfer.
    pub execute_datetime: String,
    /// `UTC±hh:mm`, e.g. `UTC+05:30`.
    pub timezone: String,
    pub group_id: Option<String>,
}

/// Cancel the reservations of devices.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CancelReservations {
    pub device_ids: Vec<String>,
    pub group_id: Option<String>,
}

/// Set devices' OTA mode and update window (`OtaWindow`).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SetOtaMode {
    pub device_ids: Vec<String>,
    /// auto, confirmation or off.
    pub ota_mode: String,
    /// 0-23, or -1 for any time of day.
    pub start_hour: i64,
    pub end_hour: i64,
    pub group_id: Option<String>,
}

/// Any change, as recorded in the audit log.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ChangeRequest {
    ScheduleFirmwareUpdate(ScheduleUpdate),
    CancelScheduledUpdate(CancelReservations),
    ConfigureOtaMode(SetOtaMode),
}

impl ChangeRequest {
    /// The action's name, the same as the MCP tool's.
    pub fn action(&self) -> &'static str {
        match self {
            Self::ScheduleFirmwareUpdate(_) => "schedule_firmware_update",
            Self::CancelScheduledUpdate(_) => "cancel_scheduled_update",
            Self::ConfigureOtaMode(_) => "configure_ota_mode",
        }
    }

    pub fn device_ids(&self) -> &[String] {
        match self {
            Self::ScheduleFirmwareUpdate(r) => &r.device_ids,
            Self::CancelScheduledUpdate(r) => &r.device_ids,
            Self::ConfigureOtaMode(r) => &r.device_ids,
        }
    }

    pub fn group_id(&self) -> Option<&str> {
        match self {
            Self::ScheduleFirmwareUpdate(r) => r.group_id.as_deref(),
            Self::CancelScheduledUpdate(r) => r.group_id.as_deref(),
            Self::ConfigureOtaMode(r) => r.group_id.as_deref(),
        }
    }

    /// Every rule that can be checked without the cloud, at `now_ms` (Unix milliseconds).
    pub fn validate(&self, now_ms: i64) -> Problems {
        let mut problems = Problems::new();
        check_device_ids(self.device_ids(), &mut problems);
        if let Some(group) = self.group_id() {
            check_group_id(group, &mut problems);
        }
        match self {
            Self::ScheduleFirmwareUpdate(r) => r.check(now_ms, &mut problems),
            Self::CancelScheduledUpdate(_) => {}
            Self::ConfigureOtaMode(r) => r.check(&mut problems),
        }
        problems
    }

    /// The device ids parsed; call after `validate` found no problem with them.
    pub fn parsed_device_ids(&self) -> Vec<DeviceId> {
        self.device_ids()
            .iter()
            .filter_map(|id| id.trim().parse().ok())
            .collect()
    }
}

fn check_group_id(group: &str, problems: &mut Problems) {
    if group.trim().is_empty() || group.len() > 128 || group.chars().any(char::is_control) {
        problems.push(
            "group_id",
            "must be 1-128 printable characters when given (omit it to use your tenant)",
        );
    }
}

fn check_device_ids(ids: &[String], problems: &mut Problems) {
    if ids.is_empty() {
        problems.push(
            "device_ids",
            "must name at least one device (`mn=<base64>:sn=<base64>`, see list_devices)",
        );
        return;
    }
    if ids.len() > MAX_DEVICES_PER_CHANGE {
        problems.push(
            "device_ids",
            format!(
                "must name at most {MAX_DEVICES_PER_CHANGE} devices, got {}",
                ids.len()
            ),
        );
    }
    let mut seen = HashSet::new();
    for (i, id) in ids.iter().enumerate() {
        match id.trim().parse::<DeviceId>() {
            Err(e) => problems.push(format!("device_ids[{i}]"), e.to_string()),
            Ok(parsed) => {
                if !seen.insert(parsed) {
                    problems.push(format!("device_ids[{i}]"), "is listed twice");
                }
            }
        }
    }
}

impl ScheduleUpdate {
    fn check(&self, now_ms: i64, problems: &mut Problems) {
        let file = self.firmware_file_id.trim();
        if file.is_empty() || file.len() > 128 || file.chars().any(char::is_control) {
            problems.push(
                "firmware_file_id",
                "must name a staged firmware file (see list_staged_firmware)",
            );
        }
        let transfer_ok = if self.transfer_datetime <= now_ms {
            problems.push(
                "transfer_datetime",
                format!(
                    "must be in the future (Unix milliseconds); got {}, now is {now_ms}",
                    self.transfer_datetime
                ),
            );
            false
        } else {
            true
        };
        let offset = match parse_utc_offset(&self.timezone) {
            Some(offset) => Some(offset),
            None => {
                problems.push(
                    "timezone",
                    format!("must be `UTC±hh:mm` between UTC-12:00 and UTC+14:00, e.g. UTC+05:30; got {:?}", self.timezone),
                );
                None
            }
        };
        let execute_local_ms = match local_minute_ms(&self.execute_datetime) {
            Some(ms) => Some(ms),
            None => {
                problems.push(
                    "execute_datetime",
                    format!("must be a real date and time written YYYYMMDDHHMM, e.g. 202508111400; got {:?}", self.execute_datetime),
                );
                None
            }
        };
        if let (true, Some(offset), Some(local)) = (transfer_ok, offset, execute_local_ms) {
            let execute_utc_ms = local - i64::from(offset.minutes()) * 60_000;
            if execute_utc_ms < self.transfer_datetime {
                problems.push(
                    "execute_datetime",
                    format!(
                        "must not be before transfer_datetime: {} in {} is before the transfer",
                        self.execute_datetime, self.timezone
                    ),
                );
            }
        }
    }
}

impl SetOtaMode {
    fn check(&self, problems: &mut Problems) {
        let mode = OtaMode::from(self.ota_mode.as_str());
        if matches!(mode, OtaMode::Other(_)) {
            problems.push(
                "ota_mode",
                format!(
                    "must be one of {}, got {:?}",
                    OtaMode::KNOWN.join(", "),
                    self.ota_mode
                ),
            );
        }
        let mut hours_ok = true;
        for (field, hour) in [("start_hour", self.start_hour), ("end_hour", self.end_hour)] {
            if !(-1..=23).contains(&hour) {
                problems.push(
                    field,
                    format!("must be 0-23, or -1 for any time of day; got {hour}"),
                );
                hours_ok = false;
            }
        }
        if hours_ok
            && mode == OtaMode::Auto
            && self.start_hour >= 0
            && self.end_hour >= 0
            && self.start_hour >= self.end_hour
        {
            problems.push(
                "end_hour",
                format!(
                    "must be after start_hour in auto mode ({} is not after {})",
                    self.end_hour, self.start_hour
                ),
            );
        }
    }
}

/// The time zone a schedule is in when the caller names none: the old tool's default, kept so
/// that existing agent prompts and scripts mean the same thing.
pub const DEFAULT_SCHEDULE_TIME_ZONE: &str = "UTC+05:30";

/// `UTC+05:30` → the offset; `None` when not of that form or out of range.
pub fn parse_utc_offset(text: &str) -> Option<TimeZoneOffset> {
    text.strip_prefix("UTC")?.parse().ok()
}

/// `YYYYMMDDHHMM` local to `timezone` (`UTC±hh:mm`) → Unix milliseconds: the transfer time as
/// people write it (`rmm schedule --transfer`). `None` when either is malformed.
pub fn local_time_to_unix_ms(text: &str, timezone: &str) -> Option<i64> {
    let offset = parse_utc_offset(timezone)?;
    Some(local_minute_ms(text)? - i64::from(offset.minutes()) * 60_000)
}

/// `YYYYMMDDHHMM` → milliseconds since 1970 as if the local time were UTC.
pub fn local_minute_ms(text: &str) -> Option<i64> {
    if text.len() != 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r).and_then(|s| s.parse::<i64>().ok());
    let (year, month, day, hour, minute) = (
        num(0..4)?,
        num(4..6)?,
        num(6..8)?,
        num(8..10)?,
        num(10..12)?,
    );
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if year < 1970 || day == 0 || day > days_in_month || hour > 23 || minute > 59 {
        return None;
    }
    Some((days_from_civil(year, month, day) * 1440 + hour * 60 + minute) * 60_000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_750_000_000_000; // 2025-06-15T15:06:40Z
    const DEVICE: &str = "mn=U2hhcnA=:sn=MTIzNDU2Nzg=";

    fn schedule() -> ScheduleUpdate {
        ScheduleUpdate {
            device_ids: vec![DEVICE.into()],
            firmware_file_id: "f-1".into(),
            transfer_datetime: NOW + 3_600_000,
            execute_datetime: "202506160200".into(),
            timezone: "UTC+05:30".into(),
            group_id: None,
        }
    }

    #[test]
    fn calendar_arithmetic_is_right() {
        assert_eq!(local_minute_ms("197001010000"), Some(0));
        assert_eq!(local_minute_ms("202506151506"), Some(1_749_999_960_000));
        assert_eq!(
            local_minute_ms("202402291200").map(|ms| ms % 86_400_000),
            Some(43_200_000)
        );
        for bad in [
            "202502291200",
            "202513011200",
            "202506152400",
            "20250615120",
            "2025061512x0",
        ] {
            assert_eq!(local_minute_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_good_schedule_passes() {
        let problems = ChangeRequest::ScheduleFirmwareUpdate(schedule()).validate(NOW);
        assert!(problems.is_empty(), "{problems}");
    }

    #[test]
    fn every_schedule_rule_is_reported_at_once() {
        let request = ChangeRequest::ScheduleFirmwareUpdate(ScheduleUpdate {
            device_ids: vec![DEVICE.into(), "not an id".into(), DEVICE.into()],
            firmware_file_id: " ".into(),
            transfer_datetime: NOW - 1,
            execute_datetime: "2025-06-16".into(),
            timezone: "+05:30".into(),
            group_id: Some(String::new()),
        });
        let problems = request.validate(NOW);
        for field in [
            "device_ids[1]",
            "device_ids[2]",
            "firmware_file_id",
            "transfer_datetime",
            "execute_datetime",
            "timezone",
            "group_id",
        ] {
            assert!(
                problems.iter().any(|p| p.field == field),
                "{field} missing: {problems}"
            );
        }
    }

    #[test]
    fn execute_before_transfer_is_refused_in_the_zone() {
        // Transfer 2025-06-16 00:00 UTC; execute 02:00 at UTC+05:30 is 2025-06-15 20:30 UTC.
        let transfer = local_minute_ms("202506160000").unwrap();
        let mut r = schedule();
        r.transfer_datetime = transfer;
        let problems = ChangeRequest::ScheduleFirmwareUpdate(r.clone()).validate(NOW);
        assert!(
            problems
                .iter()
                .any(|p| p.field == "execute_datetime" && p.rule.contains("before")),
            "{problems}"
        );
        r.timezone = "UTC-05:00".into();
        assert!(
            ChangeRequest::ScheduleFirmwareUpdate(r)
                .validate(NOW)
                .is_empty()
        );
    }

    #[test]
    fn ota_rules() {
        let ota = |mode: &str, start, end| {
            ChangeRequest::ConfigureOtaMode(SetOtaMode {
                device_ids: vec![DEVICE.into()],
                ota_mode: mode.into(),
                start_hour: start,
                end_hour: end,
                group_id: None,
            })
            .validate(NOW)
        };
        assert!(ota("auto", 2, 4).is_empty());
        assert!(ota("auto", -1, -1).is_empty());
        assert!(ota("off", 5, 2).is_empty());
        assert!(ota("auto", 4, 2).mentions("end_hour"));
        let all = ota("sometimes", 24, -2);
        assert!(
            all.mentions("ota_mode") && all.mentions("start_hour") && all.mentions("end_hour"),
            "{all}"
        );
    }

    #[test]
    fn cancel_needs_devices() {
        let problems = ChangeRequest::CancelScheduledUpdate(CancelReservations {
            device_ids: vec![],
            group_id: None,
        })
        .validate(NOW);
        assert!(problems.mentions("device_ids"));
    }
}
