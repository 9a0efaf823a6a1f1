//! `CheckedChange`: a change request that met every rule checkable without the cloud, parsed
//! into typed parts (`DeviceId`s, `OtaMode`, `TimeZoneOffset`, hours, instants). Only
//! `ChangeRequest::check` makes one, so holding a `CheckedChange` proves its rules held; the
//! preview and the apply step take nothing else, and never parse a string again.

use std::fmt;

use rmm_api::{DeviceId, OtaMode, TimeZoneOffset};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::change_requests::{
    CancelReservations, ChangeKind, ChangeRequest, ScheduleUpdate, SetOtaMode,
};
use crate::problems::Problems;

/// A change whose every local rule held when it was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedChange {
    device_ids: Vec<DeviceId>,
    group_id: Option<String>,
    details: ChangeDetails,
}

/// What the change does, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeDetails {
    Schedule(CheckedSchedule),
    Cancel,
    Ota(CheckedOta),
}

/// A firmware file scheduled onto devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedSchedule {
    /// The staged file's id, trimmed.
    pub firmware_file_id: String,
    /// When the file is sent.
    pub transfer_at: OffsetDateTime,
    /// When the update runs, in `time_zone` (not before `transfer_at`).
    pub execute_at: OffsetDateTime,
    /// The devices' time zone, the one `execute_at` is written in for the cloud.
    pub time_zone: TimeZoneOffset,
    /// The person said to go ahead although the file names another model.
    pub allow_other_model: bool,
}

/// An OTA mode and window for devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedOta {
    /// `auto`, `confirmation` or `off` (never an unknown mode).
    pub mode: OtaMode,
    pub window: OtaWindow,
}

/// One end of an OTA update window: an hour 0-23, or any time of day (the cloud's -1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OtaHour(Option<u8>);

impl OtaHour {
    /// Any time of day.
    pub const ANY: Self = Self(None);

    /// `0..=23` is that hour, `-1` any time; anything else is no hour.
    pub fn from_wire(hour: i64) -> Option<Self> {
        match hour {
            -1 => Some(Self::ANY),
            0..=23 => u8::try_from(hour).ok().map(|h| Self(Some(h))),
            _ => None,
        }
    }

    /// The hour, `None` for any time.
    pub fn hour(self) -> Option<u8> {
        self.0
    }

    /// What the cloud takes: the hour, or -1.
    pub fn wire(self) -> i32 {
        self.0.map_or(-1, i32::from)
    }
}

/// An OTA update window, shown as `2-4` or `any time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OtaWindow {
    pub start: OtaHour,
    pub end: OtaHour,
}

impl OtaWindow {
    /// A device's window as the cloud reports it (`None`: not reported).
    pub fn from_device(start: Option<i32>, end: Option<i32>) -> Option<Self> {
        Some(Self {
            start: OtaHour::from_wire(i64::from(start?))?,
            end: OtaHour::from_wire(i64::from(end?))?,
        })
    }
}

impl fmt::Display for OtaWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.start.hour(), self.end.hour()) {
            (None, None) => f.write_str("any time"),
            (Some(s), Some(e)) => write!(f, "{s}-{e}"),
            (Some(s), None) => write!(f, "from {s}"),
            (None, Some(e)) => write!(f, "until {e}"),
        }
    }
}

/// `UTC+05:30`: how a zone is written everywhere (the cloud's spelling too).
pub fn zone_text(zone: TimeZoneOffset) -> String {
    format!("UTC{zone}")
}

/// The `time` offset of a zone (always in range: both allow far more than ±14:00).
pub(crate) fn utc_offset(zone: TimeZoneOffset) -> UtcOffset {
    UtcOffset::from_whole_seconds(zone.minutes() * 60).unwrap_or(UtcOffset::UTC)
}

/// `2030-01-01 00:00 UTC+05:30`: an instant as local time in `zone`, for people.
pub fn local_time_text(at: OffsetDateTime, zone: TimeZoneOffset) -> String {
    let local = at.to_offset(utc_offset(zone));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} {}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        zone_text(zone)
    )
}

/// `2024-02-29 12:34:56 UTC`: a Unix millisecond (an audit entry's time) for people; the raw
/// number when it is out of `time`'s range.
pub fn utc_time_text(ms: i64) -> String {
    match crate::change_requests::instant_of_ms(ms) {
        Some(at) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second()
        ),
        None => format!("{ms} ms"),
    }
}

/// `YYYYMMDDHHMM` of an instant's local time in its own offset (the cloud's execute time).
pub(crate) fn minute_digits(at: PrimitiveDateTime) -> String {
    format!(
        "{:04}{:02}{:02}{:02}{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// Unix milliseconds of an instant.
pub(crate) fn unix_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

impl CheckedSchedule {
    /// The transfer time in Unix milliseconds (what the cloud takes).
    pub fn transfer_unix_ms(&self) -> i64 {
        unix_ms(self.transfer_at)
    }

    /// The execute time as the cloud takes it: `YYYYMMDDHHMM` local to `time_zone`.
    pub fn execute_digits(&self) -> String {
        let local = self.execute_at.to_offset(utc_offset(self.time_zone));
        minute_digits(PrimitiveDateTime::new(local.date(), local.time()))
    }
}

impl CheckedChange {
    pub(crate) fn new(
        device_ids: Vec<DeviceId>,
        group_id: Option<String>,
        details: ChangeDetails,
    ) -> Self {
        Self {
            device_ids,
            group_id,
            details,
        }
    }

    pub fn kind(&self) -> ChangeKind {
        match &self.details {
            ChangeDetails::Schedule(_) => ChangeKind::ScheduleFirmwareUpdate,
            ChangeDetails::Cancel => ChangeKind::CancelScheduledUpdate,
            ChangeDetails::Ota(_) => ChangeKind::ConfigureOtaMode,
        }
    }

    /// The devices, parsed, in the order asked (no two the same).
    pub fn device_ids(&self) -> &[DeviceId] {
        &self.device_ids
    }

    /// The group asked for (trimmed), if any; else the signed-in user's tenant is used.
    pub fn group_id(&self) -> Option<&str> {
        self.group_id.as_deref()
    }

    pub fn details(&self) -> &ChangeDetails {
        &self.details
    }

    /// The rules that depend on the time, at `now_ms`: a change checked a while ago may have
    /// become late (its transfer time passed) before it is previewed or carried out.
    pub fn late_at(&self, now_ms: i64) -> Problems {
        let mut problems = Problems::new();
        if let ChangeDetails::Schedule(s) = &self.details
            && s.transfer_unix_ms() <= now_ms
        {
            problems.push(
                "transfer_datetime",
                format!(
                    "must be in the future; {} has passed",
                    local_time_text(s.transfer_at, s.time_zone)
                ),
            );
        }
        problems
    }

    /// The change written back as a request, every field in its one spelling (trimmed ids,
    /// `UTC±hh:mm`): what the audit log records and the preview's digest covers.
    pub fn to_request(&self) -> ChangeRequest {
        let device_ids: Vec<String> = self.device_ids.iter().map(ToString::to_string).collect();
        let group_id = self.group_id.clone();
        match &self.details {
            ChangeDetails::Schedule(s) => ChangeRequest::ScheduleFirmwareUpdate(ScheduleUpdate {
                device_ids,
                firmware_file_id: s.firmware_file_id.clone(),
                transfer_datetime: s.transfer_unix_ms(),
                execute_datetime: s.execute_digits(),
                timezone: zone_text(s.time_zone),
                group_id,
                allow_other_model: s.allow_other_model,
            }),
            ChangeDetails::Cancel => ChangeRequest::CancelScheduledUpdate(CancelReservations {
                device_ids,
                group_id,
            }),
            ChangeDetails::Ota(o) => ChangeRequest::ConfigureOtaMode(SetOtaMode {
                device_ids,
                ota_mode: o.mode.to_string(),
                start_hour: i64::from(o.window.start.wire()),
                end_hour: i64::from(o.window.end.wire()),
                group_id,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_times_are_utc_dates_with_seconds() {
        assert_eq!(utc_time_text(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_time_text(1_709_210_096_000), "2024-02-29 12:34:56 UTC");
        assert_eq!(utc_time_text(-1_000), "1969-12-31 23:59:59 UTC");
        assert_eq!(utc_time_text(i64::MAX), format!("{} ms", i64::MAX));
    }

    #[test]
    fn windows_and_times_read_as_people_write_them() {
        let w = |s, e| OtaWindow {
            start: OtaHour::from_wire(s).unwrap(),
            end: OtaHour::from_wire(e).unwrap(),
        };
        assert_eq!(w(2, 4).to_string(), "2-4");
        assert_eq!(w(-1, -1).to_string(), "any time");
        assert_eq!(OtaHour::from_wire(24), None);
        assert_eq!(OtaHour::from_wire(-2), None);
        assert_eq!(OtaHour::ANY.wire(), -1);
        let zone: TimeZoneOffset = "+05:30".parse().unwrap();
        let at = OffsetDateTime::from_unix_timestamp(1_893_436_200).unwrap();
        assert_eq!(local_time_text(at, zone), "2030-01-01 00:00 UTC+05:30");
        assert_eq!(unix_ms(at), 1_893_436_200_000);
    }
}
