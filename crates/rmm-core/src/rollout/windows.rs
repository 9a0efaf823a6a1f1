//! `TimeRules`: when a rollout may start a device's update, in that device's local time — the
//! plan's allowed hours and days, its blackout dates, and (when asked) the device's own OTA
//! window — and the first allowed instant from a given one.

use std::collections::HashSet;

use time::{Date, OffsetDateTime, UtcOffset};

use super::plan::{HourRange, Windows, parse_date, parse_day};

const HOUR_MS: i64 = 3_600_000;
/// How far ahead a free slot is looked for (a plan that allows nothing for 60 days allows nothing).
const SEARCH_HOURS: i64 = 60 * 24;

/// The plan's time rules, parsed once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeRules {
    hours: Vec<HourRange>,
    /// 0 = Monday; empty = every day.
    days: Vec<u8>,
    blackouts: HashSet<Date>,
    respect_ota_window: bool,
}

/// A device's own OTA window from its `otaStartHour`/`otaEndHour` (`None`: any time).
pub fn ota_window(start: Option<i32>, end: Option<i32>) -> Option<HourRange> {
    let (s, e) = (u8::try_from(start?).ok()?, u8::try_from(end?).ok()?);
    (s < 24 && e <= 24 && s != e).then_some(HourRange { start: s, end: e })
}

/// The local civil time of `at_ms` at `offset_minutes` east of UTC.
pub fn local(at_ms: i64, offset_minutes: i32) -> Option<OffsetDateTime> {
    let offset = UtcOffset::from_whole_seconds(offset_minutes.saturating_mul(60)).ok()?;
    let utc = OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000).ok()?;
    Some(utc.to_offset(offset))
}

/// `2026-12-03 02:00 UTC+09:00`.
pub fn local_text(at_ms: i64, offset_minutes: i32) -> String {
    let Some(t) = local(at_ms, offset_minutes) else {
        return format!("{at_ms} ms");
    };
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let abs = offset_minutes.unsigned_abs();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC{sign}{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        abs / 60,
        abs % 60
    )
}

/// `YYYYMMDDHHMM` local to the offset (the cloud's `executeUpdateDateTime`).
pub fn local_compact(at_ms: i64, offset_minutes: i32) -> String {
    match local(at_ms, offset_minutes) {
        Some(t) => format!(
            "{:04}{:02}{:02}{:02}{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        None => String::new(),
    }
}

/// `UTC±hh:mm` of an offset.
pub fn zone_text(offset_minutes: i32) -> String {
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let abs = offset_minutes.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", abs / 60, abs % 60)
}

impl TimeRules {
    /// From a validated plan's windows (unreadable entries, which validation reports, are skipped).
    pub fn from_plan(w: &Windows) -> Self {
        Self {
            hours: w.hours.iter().filter_map(|h| HourRange::parse(h)).collect(),
            days: w.days.iter().filter_map(|d| parse_day(d)).collect(),
            blackouts: w
                .blackout_dates
                .iter()
                .filter_map(|d| parse_date(d))
                .collect(),
            respect_ota_window: w.respect_ota_window,
        }
    }

    /// Whether an update may start at `at_ms` on a device `offset_minutes` east of UTC whose
    /// own OTA window is `ota`.
    pub fn allows(&self, at_ms: i64, offset_minutes: i32, ota: Option<HourRange>) -> bool {
        let Some(t) = local(at_ms, offset_minutes) else {
            return false;
        };
        let hour = t.hour();
        if self.blackouts.contains(&t.date()) {
            return false;
        }
        if !self.days.is_empty() && !self.days.contains(&t.weekday().number_days_from_monday()) {
            return false;
        }
        if !self.hours.is_empty() && !self.hours.iter().any(|h| h.contains(hour)) {
            return false;
        }
        if self.respect_ota_window
            && let Some(ota) = ota
            && !ota.contains(hour)
        {
            return false;
        }
        true
    }

    /// The first instant at or after `from_ms` at which an update may start (`None`: none in
    /// the next 60 days). Rules change only on local hour boundaries, so those are tried.
    pub fn next_allowed(
        &self,
        from_ms: i64,
        offset_minutes: i32,
        ota: Option<HourRange>,
    ) -> Option<i64> {
        if self.allows(from_ms, offset_minutes, ota) {
            return Some(from_ms);
        }
        let offset_ms = i64::from(offset_minutes) * 60_000;
        let local_ms = from_ms + offset_ms;
        let mut boundary = local_ms - local_ms.rem_euclid(HOUR_MS) + HOUR_MS - offset_ms;
        for _ in 0..SEARCH_HOURS {
            if self.allows(boundary, offset_minutes, ota) {
                return Some(boundary);
            }
            boundary += HOUR_MS;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-02 (a Wednesday) 00:00 UTC.
    const WED: i64 = 1_796_169_600_000;

    fn rules(hours: &[&str], days: &[&str], blackouts: &[&str]) -> TimeRules {
        TimeRules::from_plan(&Windows {
            hours: hours.iter().map(|s| s.to_string()).collect(),
            days: days.iter().map(|s| s.to_string()).collect(),
            blackout_dates: blackouts.iter().map(|s| s.to_string()).collect(),
            respect_ota_window: true,
            site_limit: None,
        })
    }

    #[test]
    fn local_time_follows_the_offset() {
        assert_eq!(local_text(WED, 0), "2026-12-02 00:00 UTC+00:00");
        assert_eq!(local_text(WED, 9 * 60), "2026-12-02 09:00 UTC+09:00");
        assert_eq!(local_text(WED, -330), "2026-12-01 18:30 UTC-05:30");
        assert_eq!(local_compact(WED, 330), "202612020530");
        assert_eq!(zone_text(-330), "UTC-05:30");
    }

    #[test]
    fn next_slot_is_in_the_device_zone() {
        let night = rules(&["22-5"], &[], &[]);
        // 00:00 UTC is 09:00 in Tokyo: the next slot is 22:00 Tokyo = 13:00 UTC.
        assert_eq!(night.next_allowed(WED, 540, None), Some(WED + 13 * HOUR_MS));
        // Already inside the window in London.
        assert_eq!(night.next_allowed(WED, 0, None), Some(WED));
        // A half-hour zone: 22:00 at +05:30 is 16:30 UTC.
        assert_eq!(
            night.next_allowed(WED + 6 * HOUR_MS, 330, None),
            Some(WED + 16 * HOUR_MS + 30 * 60_000)
        );
    }

    #[test]
    fn blackouts_days_and_ota_windows_are_kept() {
        // Weekends only, 2-4, not on Saturday 2026-12-05: Sunday 02:00.
        let weekend = rules(&["2-4"], &["sat", "sun"], &["2026-12-05"]);
        assert_eq!(
            weekend.next_allowed(WED, 0, None),
            Some(WED + 4 * 24 * HOUR_MS + 2 * HOUR_MS)
        );
        // Any plan hour, but the device's own window is 1-2.
        let any = rules(&[], &[], &[]);
        assert_eq!(
            any.next_allowed(WED + 5 * HOUR_MS, 0, ota_window(Some(1), Some(2))),
            Some(WED + 25 * HOUR_MS)
        );
        assert_eq!(ota_window(Some(-1), Some(-1)), None);
        // Windows that never meet: no slot.
        let never = rules(&["9-10"], &[], &[]);
        assert_eq!(
            never.next_allowed(WED, 0, ota_window(Some(1), Some(2))),
            None
        );
    }
}
