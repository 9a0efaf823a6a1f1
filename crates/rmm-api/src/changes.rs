//! The change requests: `UpdateReservation` (schedule firmware), `ReservationRemoval` (cancel),
//! `OtaSettings` (automatic-update preferences), the `DeviceSelection` they act on, and the
//! cloud's `ChangeReceipt`. Each validates itself before anything is sent.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::TimeZoneOffset;
use crate::device::OtaMode;
use crate::device_id::DeviceId;
use crate::error::RequestError;
use crate::lenient;

/// The devices a change applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceSelection {
    pub device_ids: Vec<DeviceId>,
    /// When true the change applies to every device of the group except `device_ids`.
    pub is_exclude: bool,
}

impl DeviceSelection {
    /// Exactly these devices.
    pub fn only(device_ids: Vec<DeviceId>) -> Self {
        Self {
            device_ids,
            is_exclude: false,
        }
    }

    /// Every device of the group except these (none: the whole group).
    pub fn all_except(device_ids: Vec<DeviceId>) -> Self {
        Self {
            device_ids,
            is_exclude: true,
        }
    }

    pub fn validate(&self) -> Result<(), RequestError> {
        if !self.is_exclude && self.device_ids.is_empty() {
            return Err(RequestError::new(
                "deviceIds",
                "must name at least one device (or use isExclude to select the whole group)",
            ));
        }
        let mut seen = HashSet::new();
        for (i, id) in self.device_ids.iter().enumerate() {
            if !seen.insert(id) {
                return Err(RequestError::new(
                    format!("deviceIds[{i}]"),
                    format!("{id} is listed twice"),
                ));
            }
        }
        Ok(())
    }
}

/// Group ids are opaque to us, but they go into JSON and error messages.
pub(crate) fn check_group_id(group_id: &str) -> Result<(), RequestError> {
    if group_id.trim().is_empty() {
        return Err(RequestError::new("groupId", "must not be empty"));
    }
    if group_id.len() > 128 || group_id.chars().any(char::is_control) {
        return Err(RequestError::new(
            "groupId",
            "must be at most 128 printable characters",
        ));
    }
    Ok(())
}

/// Schedules a firmware file onto devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateReservation {
    pub group_id: String,
    pub selection: DeviceSelection,
    pub file_id: String,
    /// When the file is sent, Unix milliseconds.
    pub file_transfer_timestamp: i64,
    /// The zone of `execute_update_date_time`, e.g. "UTC+05:30".
    pub file_transfer_time_zone: String,
    /// When the update runs, `YYYYMMDDHHMM` local to the zone.
    pub execute_update_date_time: String,
}

impl UpdateReservation {
    pub fn validate(&self) -> Result<(), RequestError> {
        check_group_id(&self.group_id)?;
        self.selection.validate()?;
        if self.file_id.trim().is_empty() {
            return Err(RequestError::new(
                "fileId",
                "must name a staged firmware file",
            ));
        }
        if self.file_transfer_timestamp <= 0 {
            return Err(RequestError::new(
                "fileTransferTimestamp",
                "must be Unix milliseconds after 1970",
            ));
        }
        let zone = self
            .file_transfer_time_zone
            .strip_prefix("UTC")
            .ok_or_else(|| RequestError::new("fileTransferTimeZone", "must look like UTC+05:30"))?;
        zone.parse::<TimeZoneOffset>().map_err(|_| {
            RequestError::new(
                "fileTransferTimeZone",
                "must look like UTC+05:30 (-12:00 to +14:00)",
            )
        })?;
        check_local_date_time(&self.execute_update_date_time)
    }

    /// The reservation's zone as an offset (validated by `validate`): the request also says
    /// it in `x-time-zone`, so that a cloud reading the execute time in the header's zone
    /// reads it in the reservation's.
    pub(crate) fn time_zone(&self) -> Option<TimeZoneOffset> {
        self.file_transfer_time_zone
            .strip_prefix("UTC")
            .and_then(|zone| zone.parse().ok())
    }

    pub(crate) fn wire_body(&self) -> Value {
        serde_json::json!({
            "groupId": self.group_id,
            "deviceIds": self.selection.device_ids,
            "fileId": self.file_id,
            "fileTransferTimestamp": self.file_transfer_timestamp,
            "fileTransferTimeZone": self.file_transfer_time_zone,
            "executeUpdateDateTime": self.execute_update_date_time,
            "isExclude": self.selection.is_exclude,
        })
    }
}

/// `YYYYMMDDHHMM` naming a real calendar minute.
fn check_local_date_time(text: &str) -> Result<(), RequestError> {
    let field = "executeUpdateDateTime";
    if text.len() != 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RequestError::new(
            field,
            format!("must be 12 digits YYYYMMDDHHMM, got {text:?}"),
        ));
    }
    let num = |r: std::ops::Range<usize>| text[r].parse::<u32>().unwrap_or(0);
    let (year, month, day, hour, minute) =
        (num(0..4), num(4..6), num(6..8), num(8..10), num(10..12));
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => {
            return Err(RequestError::new(
                field,
                format!("month must be 01-12, got {text:?}"),
            ));
        }
    };
    if year < 1970 || day == 0 || day > days || hour > 23 || minute > 59 {
        return Err(RequestError::new(
            field,
            format!("is not a real date and time, got {text:?}"),
        ));
    }
    Ok(())
}

/// Cancels the reservations of devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationRemoval {
    pub group_id: String,
    pub selection: DeviceSelection,
}

impl ReservationRemoval {
    pub fn validate(&self) -> Result<(), RequestError> {
        check_group_id(&self.group_id)?;
        self.selection.validate()
    }

    pub(crate) fn wire_body(&self) -> Value {
        serde_json::json!({
            "groupId": self.group_id,
            "deviceIds": self.selection.device_ids,
            "isExclude": self.selection.is_exclude,
        })
    }
}

/// Sets devices' automatic-update mode and window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtaSettings {
    pub group_id: String,
    pub selection: DeviceSelection,
    pub ota_mode: OtaMode,
    /// 0-23, or -1 for any time of day.
    pub ota_start_hour: i32,
    pub ota_end_hour: i32,
}

impl OtaSettings {
    pub fn validate(&self) -> Result<(), RequestError> {
        check_group_id(&self.group_id)?;
        self.selection.validate()?;
        if let OtaMode::Other(text) = &self.ota_mode {
            return Err(RequestError::new(
                "otaMode",
                format!("must be one of {}, got {text:?}", OtaMode::KNOWN.join(", ")),
            ));
        }
        for (field, hour) in [
            ("otaStartHour", self.ota_start_hour),
            ("otaEndHour", self.ota_end_hour),
        ] {
            if !(-1..=23).contains(&hour) {
                return Err(RequestError::new(
                    field,
                    format!("must be 0-23, or -1 for any time, got {hour}"),
                ));
            }
        }
        if self.ota_mode == OtaMode::Auto
            && self.ota_start_hour >= 0
            && self.ota_end_hour >= 0
            && self.ota_start_hour >= self.ota_end_hour
        {
            return Err(RequestError::new(
                "otaEndHour",
                format!(
                    "must be after otaStartHour for auto mode ({} is not after {})",
                    self.ota_end_hour, self.ota_start_hour
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn wire_body(&self) -> Value {
        serde_json::json!({
            "groupId": self.group_id,
            "deviceIds": self.selection.device_ids,
            "isExclude": self.selection.is_exclude,
            "otaMode": self.ota_mode,
            "otaStartHour": self.ota_start_hour,
            "otaEndHour": self.ota_end_hour,
        })
    }
}

/// The cloud's answer to an accepted change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeReceipt {
    #[serde(default, deserialize_with = "lenient::string")]
    pub result: String,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub affected_count: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(serial: &str) -> DeviceId {
        DeviceId::new("Sharp", serial).unwrap()
    }

    fn reservation() -> UpdateReservation {
        UpdateReservation {
            group_id: "g1".into(),
            selection: DeviceSelection::only(vec![id("1")]),
            file_id: "f1".into(),
            file_transfer_timestamp: 1_692_012_000_000,
            file_transfer_time_zone: "UTC+05:30".into(),
            execute_update_date_time: "202508111400".into(),
        }
    }

    #[test]
    fn reservation_body_is_the_documented_json() {
        let r = reservation();
        r.validate().unwrap();
        assert_eq!(
            r.wire_body(),
            json!({"groupId": "g1", "deviceIds": ["mn=U2hhcnA=:sn=MQ=="], "fileId": "f1",
                   "fileTransferTimestamp": 1692012000000_i64, "fileTransferTimeZone": "UTC+05:30",
                   "executeUpdateDateTime": "202508111400", "isExclude": false})
        );
    }

    #[test]
    fn reservation_rules_name_their_field() {
        type BreakIt = fn(&mut UpdateReservation);
        let cases: Vec<(BreakIt, &str)> = vec![
            (|r| r.group_id = String::new(), "groupId"),
            (|r| r.selection = DeviceSelection::only(vec![]), "deviceIds"),
            (
                |r| r.selection = DeviceSelection::only(vec![id("1"), id("1")]),
                "deviceIds[1]",
            ),
            (|r| r.file_id = " ".into(), "fileId"),
            (|r| r.file_transfer_timestamp = 0, "fileTransferTimestamp"),
            (
                |r| r.file_transfer_time_zone = "+05:30".into(),
                "fileTransferTimeZone",
            ),
            (
                |r| r.file_transfer_time_zone = "UTC+25:00".into(),
                "fileTransferTimeZone",
            ),
            (
                |r| r.execute_update_date_time = "2025081114".into(),
                "executeUpdateDateTime",
            ),
            (
                |r| r.execute_update_date_time = "202502301400".into(),
                "executeUpdateDateTime",
            ),
            (
                |r| r.execute_update_date_time = "202513011400".into(),
                "executeUpdateDateTime",
            ),
            (
                |r| r.execute_update_date_time = "202508112400".into(),
                "executeUpdateDateTime",
            ),
        ];
        for (break_it, field) in cases {
            let mut r = reservation();
            break_it(&mut r);
            assert_eq!(r.validate().unwrap_err().field, field);
        }
        let mut leap = reservation();
        leap.execute_update_date_time = "202402291400".into();
        assert!(leap.validate().is_ok());
    }

    #[test]
    fn exclusion_with_no_ids_means_the_whole_group() {
        let removal = ReservationRemoval {
            group_id: "g".into(),
            selection: DeviceSelection::all_except(vec![]),
        };
        removal.validate().unwrap();
        assert_eq!(
            removal.wire_body(),
            json!({"groupId": "g", "deviceIds": [], "isExclude": true})
        );
    }

    #[test]
    fn ota_rules_name_their_field() {
        let ota = |mode: OtaMode, start, end| OtaSettings {
            group_id: "g".into(),
            selection: DeviceSelection::only(vec![id("1")]),
            ota_mode: mode,
            ota_start_hour: start,
            ota_end_hour: end,
        };
        assert!(ota(OtaMode::Auto, 2, 4).validate().is_ok());
        assert!(ota(OtaMode::Auto, -1, -1).validate().is_ok());
        assert!(ota(OtaMode::Off, 5, 2).validate().is_ok());
        assert_eq!(
            ota(OtaMode::Auto, 4, 2).validate().unwrap_err().field,
            "otaEndHour"
        );
        assert_eq!(
            ota(OtaMode::Auto, 24, 2).validate().unwrap_err().field,
            "otaStartHour"
        );
        assert_eq!(
            ota(OtaMode::Auto, 1, -2).validate().unwrap_err().field,
            "otaEndHour"
        );
        let err = ota(OtaMode::Other("sometimes".into()), 1, 2)
            .validate()
            .unwrap_err();
        assert_eq!(err.field, "otaMode");
        assert!(err.rule.contains("auto, confirmation, off"), "{err}");
        assert_eq!(
            ota(OtaMode::Auto, 2, 4).wire_body(),
            json!({"groupId": "g", "deviceIds": ["mn=U2hhcnA=:sn=MQ=="], "isExclude": false,
                   "otaMode": "auto", "otaStartHour": 2, "otaEndHour": 4})
        );
    }
}
