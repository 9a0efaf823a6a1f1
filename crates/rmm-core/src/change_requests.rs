//! The three changes a user or an agent can ask for (`ScheduleUpdate`, `CancelReservations`,
//! `SetOtaMode`) in the caller's words, and the rules each must meet before anything is read
//! or sent. Every broken rule is reported, field by field.

use std::collections::HashSet;

use rmm_api::{DeviceId, OtaMode, TimeZoneOffset};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::checked_change::{
    ChangeDetails, CheckedChange, CheckedOta, CheckedSchedule, OtaHour, OtaWindow, unix_ms,
    utc_offset,
};
use crate::problems::{Hint, Problems};

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
    /// Go ahead although the file names another model than a device's: only when a person
    /// (or an agent) says so explicitly; the preview and the audit log show it.
    #[serde(default)]
    pub allow_other_model: bool,
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

/// Which change: the one list of changes, each named as its MCP tool. Every face matches on
/// it (tool catalog, dispatch, CLI, app) without a catch-all, so a new change cannot be
/// mistaken for another.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    ScheduleFirmwareUpdate,
    CancelScheduledUpdate,
    ConfigureOtaMode,
}

impl ChangeKind {
    /// Every change.
    pub const ALL: [Self; 3] = [
        Self::ScheduleFirmwareUpdate,
        Self::ConfigureOtaMode,
        Self::CancelScheduledUpdate,
    ];

    /// The name of its MCP tool (and its `action` in requests and the audit log).
    pub const fn tool_name(self) -> &'static str {
        match self {
            Self::ScheduleFirmwareUpdate => "schedule_firmware_update",
            Self::CancelScheduledUpdate => "cancel_scheduled_update",
            Self::ConfigureOtaMode => "configure_ota_mode",
        }
    }

    /// The change a tool name stands for; `None` for any other name.
    pub fn from_tool_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.tool_name() == name)
    }
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tool_name())
    }
}

/// Any change, as a caller asks for it (strings and numbers, not yet checked).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ChangeRequest {
    ScheduleFirmwareUpdate(ScheduleUpdate),
    CancelScheduledUpdate(CancelReservations),
    ConfigureOtaMode(SetOtaMode),
}

impl ChangeRequest {
    pub fn kind(&self) -> ChangeKind {
        match self {
            Self::ScheduleFirmwareUpdate(_) => ChangeKind::ScheduleFirmwareUpdate,
            Self::CancelScheduledUpdate(_) => ChangeKind::CancelScheduledUpdate,
            Self::ConfigureOtaMode(_) => ChangeKind::ConfigureOtaMode,
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

    /// Parses the request into a checked change at `now_ms` (Unix milliseconds), or gives
    /// every rule it breaks, all at once.
    pub fn check(&self, now_ms: i64) -> Result<CheckedChange, Problems> {
        self.check_beside(now_ms, Problems::new())
    }

    /// As `check`, for a face that could not even read some fields (`unreadable`, read as
    /// defaults): those problems come first, and core's findings on the same fields are left
    /// out, so each field is reported once, for the reason the caller can act on.
    pub fn check_beside(
        &self,
        now_ms: i64,
        unreadable: Problems,
    ) -> Result<CheckedChange, Problems> {
        let mut problems = Problems::new();
        let device_ids = check_device_ids(self.device_ids(), &mut problems);
        let group_id = self.group_id().map(str::trim).map(str::to_owned);
        if let Some(group) = self.group_id() {
            check_group_id(group, &mut problems);
        }
        let details = match self {
            Self::ScheduleFirmwareUpdate(r) => {
                r.check(now_ms, &mut problems).map(ChangeDetails::Schedule)
            }
            Self::CancelScheduledUpdate(_) => Some(ChangeDetails::Cancel),
            Self::ConfigureOtaMode(r) => r.check(&mut problems).map(ChangeDetails::Ota),
        };
        let problems = unreadable.beside(problems);
        match details {
            Some(details) if problems.is_empty() => {
                Ok(CheckedChange::new(device_ids, group_id, details))
            }
            _ => Err(problems),
        }
    }

    /// Every rule that can be checked without the cloud, at `now_ms` (none broken: empty).
    pub fn validate(&self, now_ms: i64) -> Problems {
        self.check(now_ms).err().unwrap_or_default()
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

fn check_device_ids(ids: &[String], problems: &mut Problems) -> Vec<DeviceId> {
    if ids.is_empty() {
        problems.push_with_hint(
            "device_ids",
            "must name at least one device (`mn=<base64>:sn=<base64>`)",
            Hint::ListDevices,
        );
        return Vec::new();
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
    let mut parsed_ids = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        match id.trim().parse::<DeviceId>() {
            Err(e) => problems.push(format!("device_ids[{i}]"), e.to_string()),
            Ok(parsed) => {
                if seen.insert(parsed.clone()) {
                    parsed_ids.push(parsed);
                } else {
                    problems.push(format!("device_ids[{i}]"), "is listed twice");
                }
            }
        }
    }
    parsed_ids
}

impl ScheduleUpdate {
    fn check(&self, now_ms: i64, problems: &mut Problems) -> Option<CheckedSchedule> {
        let file = self.firmware_file_id.trim();
        if file.is_empty() || file.len() > 128 || file.chars().any(char::is_control) {
            problems.push_with_hint(
                "firmware_file_id",
                "must name a staged firmware file",
                Hint::ListStagedFirmware,
            );
        }
        let transfer_at = if self.transfer_datetime <= now_ms {
            // Shown in the request's zone when it can be read (else UTC), never as raw ms.
            let zone = parse_utc_offset(&self.timezone).unwrap_or(TimeZoneOffset::UTC);
            let text = |ms: i64| {
                instant_of_ms(ms).map_or_else(
                    || format!("{ms} ms"),
                    |at| crate::checked_change::local_time_text(at, zone),
                )
            };
            problems.push(
                "transfer_datetime",
                format!(
                    "must be in the future; got {}, now is {}",
                    text(self.transfer_datetime),
                    text(now_ms)
                ),
            );
            None
        } else {
            instant_of_ms(self.transfer_datetime)
        };
        let offset = match parse_utc_offset(&self.timezone) {
            Some(offset) => Some(offset),
            None => {
                problems.push(
                    "timezone",
                    format!(
                        "{}; got {:?}",
                        crate::time_zone::TIME_ZONE_RULE,
                        self.timezone
                    ),
                );
                None
            }
        };
        let execute_local = match local_minute(&self.execute_datetime) {
            Some(local) => Some(local),
            None => {
                problems.push(
                    "execute_datetime",
                    format!("must be a real date and time written YYYYMMDDHHMM, e.g. 202508111400; got {:?}", self.execute_datetime),
                );
                None
            }
        };
        let (transfer_at, offset, local) = (transfer_at?, offset?, execute_local?);
        let execute_at = local.assume_offset(utc_offset(offset));
        if execute_at < transfer_at {
            problems.push(
                "execute_datetime",
                format!(
                    "must not be before transfer_datetime: {} in {} is before the transfer",
                    self.execute_datetime, self.timezone
                ),
            );
        }
        Some(CheckedSchedule {
            firmware_file_id: file.to_owned(),
            transfer_at,
            execute_at,
            time_zone: offset,
            allow_other_model: self.allow_other_model,
        })
    }
}

impl SetOtaMode {
    fn check(&self, problems: &mut Problems) -> Option<CheckedOta> {
        let mode = OtaMode::from(self.ota_mode.as_str());
        let mode_ok = if matches!(mode, OtaMode::Other(_)) {
            problems.push(
                "ota_mode",
                format!(
                    "must be one of {}, got {:?}",
                    OtaMode::KNOWN.join(", "),
                    self.ota_mode
                ),
            );
            false
        } else {
            true
        };
        let mut hour = |field: &str, value: i64| {
            let parsed = OtaHour::from_wire(value);
            if parsed.is_none() {
                problems.push(
                    field,
                    format!("must be 0-23, or -1 for any time of day; got {value}"),
                );
            }
            parsed
        };
        let (start, end) = (
            hour("start_hour", self.start_hour),
            hour("end_hour", self.end_hour),
        );
        let window = OtaWindow {
            start: start?,
            end: end?,
        };
        if let (OtaMode::Auto, Some(s), Some(e)) = (&mode, window.start.hour(), window.end.hour())
            && s >= e
        {
            problems.push(
                "end_hour",
                format!("must be after start_hour in auto mode ({e} is not after {s})"),
            );
        }
        mode_ok.then_some(CheckedOta { mode, window })
    }
}

/// The OTA window a change sets when the caller names none: 2 to 4 at night.
pub const DEFAULT_OTA_START_HOUR: i64 = 2;
pub const DEFAULT_OTA_END_HOUR: i64 = 4;

/// `UTC+05:30` (the prefix in any case, spaces around) → the offset, by `crate::time_zone`'s
/// rule; `None` without the `UTC` prefix, when malformed or out of range. Schedules and plans
/// name the zone with its prefix so that `+05:30` is never mistaken for a time.
pub fn parse_utc_offset(text: &str) -> Option<TimeZoneOffset> {
    let text = text.trim();
    if !text.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("utc")) {
        return None;
    }
    crate::time_zone::parse_time_zone(text)
}

/// `YYYYMMDDHHMM` local to `timezone` (`UTC±hh:mm`) → Unix milliseconds: the transfer time as
/// people write it (`rmm schedule --transfer`). `None` when either is malformed.
pub fn local_time_to_unix_ms(text: &str, timezone: &str) -> Option<i64> {
    let offset = parse_utc_offset(timezone)?;
    Some(unix_ms(
        local_minute(text)?.assume_offset(utc_offset(offset)),
    ))
}

/// `YYYYMMDDHHMM` → milliseconds since 1970 as if the local time were UTC.
pub fn local_minute_ms(text: &str) -> Option<i64> {
    Some(unix_ms(local_minute(text)?.assume_utc()))
}

/// `YYYYMMDDHHMM` (a real date and time, 1970 or later) → that local minute.
fn local_minute(text: &str) -> Option<PrimitiveDateTime> {
    if text.len() != 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r).and_then(|s| s.parse::<u16>().ok());
    let year = i32::from(num(0..4)?);
    if year < 1970 {
        return None;
    }
    let month = Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?;
    let date = Date::from_calendar_date(year, month, u8::try_from(num(6..8)?).ok()?).ok()?;
    let time = Time::from_hms(
        u8::try_from(num(8..10)?).ok()?,
        u8::try_from(num(10..12)?).ok()?,
        0,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time))
}

/// Unix milliseconds → the instant (`None` beyond the years `time` knows).
pub(crate) fn instant_of_ms(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
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
            allow_other_model: false,
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
    fn a_good_schedule_is_parsed_into_typed_parts() {
        let mut asked = schedule();
        asked.device_ids = vec![format!("  {DEVICE} ")];
        asked.firmware_file_id = " f-1 ".into();
        let checked = ChangeRequest::ScheduleFirmwareUpdate(asked)
            .check(NOW)
            .unwrap();
        assert_eq!(checked.kind(), ChangeKind::ScheduleFirmwareUpdate);
        assert_eq!(checked.device_ids()[0].as_str(), DEVICE);
        let ChangeDetails::Schedule(s) = checked.details() else {
            panic!("a schedule")
        };
        assert_eq!(s.firmware_file_id, "f-1");
        assert_eq!(s.transfer_unix_ms(), NOW + 3_600_000);
        assert_eq!(s.execute_digits(), "202506160200");
        assert_eq!(s.time_zone.minutes(), 330);
        // Written back in its one spelling: what the audit log and the digest see.
        assert_eq!(
            checked.to_request(),
            ChangeRequest::ScheduleFirmwareUpdate(schedule())
        );
        assert!(checked.late_at(NOW).is_empty());
        assert!(
            checked
                .late_at(NOW + 3_600_000)
                .mentions("transfer_datetime")
        );
    }

    #[test]
    fn each_kind_has_one_tool_name_and_no_other_name_is_a_change() {
        for kind in ChangeKind::ALL {
            assert_eq!(ChangeKind::from_tool_name(kind.tool_name()), Some(kind));
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.tool_name());
        }
        for other in ["", "cancel", "cancel_scheduled_updates", "list_devices"] {
            assert_eq!(ChangeKind::from_tool_name(other), None, "{other}");
        }
        let cancel = ChangeRequest::CancelScheduledUpdate(CancelReservations {
            device_ids: vec![DEVICE.into()],
            group_id: None,
        });
        assert_eq!(
            serde_json::to_value(&cancel).unwrap()["action"],
            cancel.kind().tool_name()
        );
    }

    #[test]
    fn every_schedule_rule_is_reported_at_once() {
        let request = ChangeRequest::ScheduleFirmwareUpdate(ScheduleUpdate {
            device_ids: vec![DEVICE.into(), "not an id".into(), DEVICE.into()],
            firmware_file_id: " ".into(),
            transfer_datetime: NOW - 1,
            execute_datetime: "2025-06-16".into(),
            timezone: "UTC+5:30".into(),
            group_id: Some(String::new()),
            allow_other_model: false,
        });
        let problems = request.check(NOW).unwrap_err();
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
        let transfer = local_minute_ms("202506160000").unwrap_or_default();
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
        let checked = ChangeRequest::ConfigureOtaMode(SetOtaMode {
            device_ids: vec![DEVICE.into()],
            ota_mode: "auto".into(),
            start_hour: -1,
            end_hour: 4,
            group_id: None,
        })
        .check(NOW)
        .unwrap();
        let ChangeDetails::Ota(o) = checked.details() else {
            panic!("an OTA change")
        };
        assert_eq!(
            (o.mode.clone(), o.window.start, o.window.end.hour()),
            (OtaMode::Auto, OtaHour::ANY, Some(4))
        );
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
