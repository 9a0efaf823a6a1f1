//! Time zones, once: how a zone may be written (`UTC+05:30`, `utc+05:30`, `+05:30`, spaces
//! around), its range (the cloud's, UTC-12:00 to UTC+14:00), how it is kept (`+05:30`) and how
//! it is shown (`UTC+05:30`). Profiles, settings, schedules and every face use these, so a zone
//! that saves is a zone that connects and schedules.

use rmm_api::TimeZoneOffset;

/// The rule, in words, for every message about a zone.
pub const TIME_ZONE_RULE: &str =
    "must be UTC±hh:mm between UTC-12:00 and UTC+14:00, e.g. UTC+05:30 or UTC-08:00";

/// `UTC+05:30`, `utc+05:30`, `+05:30` (spaces around allowed) → the offset; `None` when not of
/// that form or outside UTC-12:00..UTC+14:00.
pub fn parse_time_zone(text: &str) -> Option<TimeZoneOffset> {
    let text = text.trim();
    let offset = match text.get(..3) {
        Some(prefix) if prefix.eq_ignore_ascii_case("utc") => text.get(3..)?,
        _ => text,
    };
    offset.parse().ok()
}

/// How a profile keeps a zone (`+05:30`), the form `ApiConfig` takes.
pub fn stored_time_zone(zone: TimeZoneOffset) -> String {
    zone.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_reads_and_the_range_is_the_clouds() {
        for (text, minutes) in [
            ("UTC+05:30", 330),
            (" utc-08:00 ", -480),
            ("+01:00", 60),
            ("UTC+14:00", 840),
            ("UTC-12:00", -720),
        ] {
            assert_eq!(
                parse_time_zone(text).map(|z| z.minutes()),
                Some(minutes),
                "{text}"
            );
        }
        for bad in [
            "UTC-13:00",
            "UTC+14:30",
            "+5:30",
            "UTC",
            "",
            "GMT+01:00",
            "utc+1",
        ] {
            assert_eq!(parse_time_zone(bad), None, "{bad}");
        }
    }
}
