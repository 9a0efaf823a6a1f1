//! Property tests of when a rollout may run a device's update: for random plans (hours, days,
//! blackout dates, OTA windows) and random device time zones, the first allowed instant is
//! allowed and nothing earlier is, checked against a plain calendar written here (not the
//! `time` crate the engine uses); and for random fleets, the site limit is never exceeded
//! while every device that fits is taken.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use proptest::prelude::*;
use rmm_core::rollout::{DeviceRecord, DeviceState, TimeRules, Windows, within_site_limit};

const HOUR_MS: i64 = 3_600_000;
const BASE: i64 = 1_796_169_600_000; // 2026-12-02 00:00 UTC
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// (year, month, day) of days since 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[derive(Debug, Clone)]
struct Case {
    hours: Vec<(u8, u8)>,
    days: Vec<usize>,
    blackouts: Vec<i64>,
    ota: Option<(u8, u8)>,
    offset: i32,
    from: i64,
}

fn in_range((s, e): (u8, u8), hour: i64) -> bool {
    let (s, e) = (i64::from(s), i64::from(e));
    if s < e {
        hour >= s && hour < e
    } else {
        hour >= s || hour < e
    }
}

/// The rules, read plainly: local hour, weekday and date from arithmetic on milliseconds.
fn allowed(c: &Case, at: i64) -> bool {
    let local = at + i64::from(c.offset) * 60_000;
    let days = local.div_euclid(86_400_000);
    let hour = local.rem_euclid(86_400_000) / HOUR_MS;
    let weekday = usize::try_from((days + 3).rem_euclid(7)).unwrap(); // 1970-01-01 was a Thursday
    let blackout = c.blackouts.contains(&days);
    let day_ok = c.days.is_empty() || c.days.contains(&weekday);
    let hour_ok = c.hours.is_empty() || c.hours.iter().any(|&h| in_range(h, hour));
    let ota_ok = c.ota.is_none_or(|o| in_range(o, hour));
    !blackout && day_ok && hour_ok && ota_ok
}

fn rules(c: &Case) -> TimeRules {
    TimeRules::from_plan(&Windows {
        hours: c.hours.iter().map(|(s, e)| format!("{s}-{e}")).collect(),
        days: c.days.iter().map(|&d| DAYS[d].to_owned()).collect(),
        blackout_dates: c
            .blackouts
            .iter()
            .map(|&d| {
                let (y, m, day) = civil(d);
                format!("{y:04}-{m:02}-{day:02}")
            })
            .collect(),
        respect_ota_window: true,
        site_limit: None,
    })
}

fn hour_range() -> impl Strategy<Value = (u8, u8)> {
    (0u8..24, 1u8..=24).prop_filter("start != end", |(s, e)| s != e)
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(hour_range(), 0..3),
        prop::collection::vec(0usize..7, 0..4),
        prop::collection::vec(0i64..40, 0..6),
        prop::option::of(hour_range()),
        (-48i32..=56).prop_map(|q| q * 15),
        0i64..(20 * 24 * 60),
    )
        .prop_map(|(hours, days, blackouts, ota, offset, minutes)| Case {
            hours,
            days,
            blackouts: blackouts
                .into_iter()
                .map(|d| BASE / 86_400_000 + d)
                .collect(),
            ota,
            offset,
            from: BASE + minutes * 60_000,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn the_first_allowed_instant_is_allowed_and_nothing_earlier_is(c in case()) {
        let ota = c.ota.map(|(s, e)| rmm_core::rollout::HourRange { start: s, end: e });
        let found = rules(&c).next_allowed(c.from, c.offset, ota);
        // Candidates: `from` and every local hour boundary after it, for 60 days.
        let offset_ms = i64::from(c.offset) * 60_000;
        let local = c.from + offset_ms;
        let first_boundary = local - local.rem_euclid(HOUR_MS) + HOUR_MS - offset_ms;
        let candidates = std::iter::once(c.from)
            .chain((0..60 * 24).map(|h| first_boundary + h * HOUR_MS));
        let expected = candidates.into_iter().find(|&t| allowed(&c, t));
        prop_assert_eq!(found, expected, "{:?}", c);
        if let Some(t) = found {
            prop_assert!(t >= c.from);
            prop_assert!(rules(&c).allows(t, c.offset, ota));
        }
    }

    #[test]
    fn the_site_limit_is_never_exceeded_and_nothing_that_fits_waits(
        sites in prop::collection::vec(0usize..5, 0..80),
        busy in prop::collection::vec(0usize..4, 5),
        limit in prop::option::of(1usize..6),
    ) {
        let devices: Vec<DeviceRecord> = sites
            .iter()
            .enumerate()
            .map(|(i, s)| DeviceRecord {
                device_id: format!("d{i}"),
                wave: 0,
                model: "M".into(),
                site: format!("site {s}"),
                file_id: "f".into(),
                target_version: "1".into(),
                time_zone: "UTC+00:00".into(),
                ota_start: None,
                ota_end: None,
                ota_auto: false,
                ota_held: false,
                state: DeviceState::Pending,
                attempts: 0,
                failed_attempts: 0,
                not_before_ms: 0,
                execute_ms: None,
                last_status: String::new(),
                last_progress_ms: 0,
                detail: String::new(),
                intent_id: None,
            })
            .collect();
        let in_flight: HashMap<String, usize> = busy
            .iter()
            .enumerate()
            .map(|(s, n)| (format!("site {s}"), *n))
            .collect();
        let chosen = within_site_limit(&devices, &in_flight, limit);
        let mut per_site: HashMap<&str, usize> = HashMap::new();
        for d in &chosen {
            *per_site.entry(d.site.as_str()).or_insert(0) += 1;
        }
        for (site, n) in &per_site {
            let total = n + in_flight.get(*site).copied().unwrap_or(0);
            if let Some(k) = limit {
                prop_assert!(total <= k, "{site}: {total} > {k}");
            }
        }
        // Every device left out belongs to a site that is full.
        for d in &devices {
            if !chosen.iter().any(|c| c.device_id == d.device_id) {
                let k = limit.expect("without a limit every device is taken");
                let total = per_site.get(d.site.as_str()).copied().unwrap_or(0)
                    + in_flight.get(&d.site).copied().unwrap_or(0);
                prop_assert!(total >= k);
            }
        }
    }
}
