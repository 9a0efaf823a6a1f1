//! Paging, `simpleFilters` and `orderBy` of the list endpoints, over indices (never cloning devices).

use std::cmp::Ordering;

use serde_json::Value;

use crate::device::{Device, DeviceField, SortKey};
use crate::modes::Modes;
use crate::problems::Problems;

pub const MAX_COUNT: i64 = 100;
pub const DEFAULT_COUNT: i64 = 25;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub start: usize,
    pub count: usize,
}

pub fn parse_paging(body: &Value, problems: &mut Problems) -> Paging {
    let count = problems.int(body, "count", DEFAULT_COUNT, "INVALID_COUNT");
    let start = problems.int(body, "startIndex", 0, "INVALID_START_INDEX");
    if let Some(c) = count
        && !(1..=MAX_COUNT).contains(&c)
    {
        problems.add(
            "INVALID_COUNT",
            "count",
            format!("count must be between 1 and {MAX_COUNT}, got {c}"),
        );
    }
    if let Some(s) = start
        && s < 0
    {
        problems.add(
            "INVALID_START_INDEX",
            "startIndex",
            format!("startIndex must be 0 or more, got {s}"),
        );
    }
    Paging {
        start: usize::try_from(start.unwrap_or(0)).unwrap_or(0),
        count: usize::try_from(count.unwrap_or(DEFAULT_COUNT)).unwrap_or(0),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Equals {
        key: DeviceField,
        value: String,
    },
    /// `needle` is lower-cased.
    Contains {
        key: DeviceField,
        needle: String,
    },
    NeedsUpdate(bool),
    Keyword(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeviceQuery {
    filters: Vec<Filter>,
    order: Vec<(DeviceField, bool)>,
    pub paging: Paging,
}

fn filter_value_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Keys the API notes document as device fields (`deviceId` aside): the only filter keys a
/// cloud in `unknown-filters-ignored` mode applies.
const DOCUMENTED_FILTER_KEYS: [&str; 11] = [
    "modelName",
    "serialNumber",
    "ipAddress",
    "friendlyName",
    "firmwareVersion",
    "latestFirmwareVersion",
    "updateStatus",
    "otaMode",
    "otaSettingStatus",
    "otaStartHour",
    "otaEndHour",
];

/// `unknown-filters-ignored` mode: a filter on a documented key compares `equals` (the
/// `operator` field is ignored); any other entry is dropped without a word.
fn parse_filter_ignoring_unknown(entry: &Value) -> Option<Filter> {
    let key = entry.get("key").and_then(Value::as_str)?;
    if !DOCUMENTED_FILTER_KEYS.contains(&key) {
        return None;
    }
    Some(Filter::Equals {
        key: DeviceField::parse(key)?,
        value: filter_value_text(entry.get("value"))?,
    })
}

pub fn parse_device_query(body: &Value, modes: &Modes, problems: &mut Problems) -> DeviceQuery {
    let paging = parse_paging(body, problems);
    let mut filters = Vec::new();
    match body.get("simpleFilters") {
        None | Some(Value::Null) => {}
        Some(Value::Array(entries)) if modes.unknown_filters_ignored => {
            filters.extend(entries.iter().filter_map(parse_filter_ignoring_unknown));
        }
        Some(Value::Array(entries)) => {
            for (i, entry) in entries.iter().enumerate() {
                if let Some(filter) = parse_filter(entry, i, problems) {
                    filters.push(filter);
                }
            }
        }
        Some(_) => problems.add(
            "INVALID_FILTER",
            "simpleFilters",
            "simpleFilters must be an array",
        ),
    }
    let mut order = Vec::new();
    match body.get("orderBy") {
        None | Some(Value::Null) => {}
        Some(Value::Array(entries)) => {
            for (i, entry) in entries.iter().enumerate() {
                let key = entry
                    .get("key")
                    .and_then(Value::as_str)
                    .and_then(DeviceField::parse);
                let direction = entry
                    .get("order")
                    .and_then(Value::as_str)
                    .unwrap_or("ascending");
                if key.is_none() {
                    problems.add(
                        "INVALID_ORDER",
                        format!("orderBy[{i}].key"),
                        format!("orderBy key must be one of: {}", DeviceField::names()),
                    );
                }
                let descending = match direction {
                    "ascending" => false,
                    "descending" => true,
                    _ => {
                        problems.add(
                            "INVALID_ORDER",
                            format!("orderBy[{i}].order"),
                            "order must be \"ascending\" or \"descending\"",
                        );
                        false
                    }
                };
                if let Some(key) = key {
                    order.push((key, descending));
                }
            }
        }
        Some(_) => problems.add("INVALID_ORDER", "orderBy", "orderBy must be an array"),
    }
    DeviceQuery {
        filters,
        order,
        paging,
    }
}

fn parse_filter(entry: &Value, i: usize, problems: &mut Problems) -> Option<Filter> {
    let key = entry.get("key").and_then(Value::as_str);
    let value = filter_value_text(entry.get("value"));
    let operator = match entry.get("operator") {
        None | Some(Value::Null) => Some("equals"),
        Some(Value::String(op)) if op == "equals" || op == "contains" => Some(op.as_str()),
        Some(_) => {
            problems.add(
                "INVALID_FILTER",
                format!("simpleFilters[{i}].operator"),
                "operator must be \"equals\" or \"contains\"",
            );
            None
        }
    };
    let key_ok = key
        .is_some_and(|k| DeviceField::parse(k).is_some() || k == "needsUpdate" || k == "keyword");
    if !key_ok {
        problems.add(
            "INVALID_FILTER",
            format!("simpleFilters[{i}].key"),
            format!(
                "filter key must be one of: {}, needsUpdate, keyword",
                DeviceField::names()
            ),
        );
    }
    if value.is_none() {
        problems.add(
            "INVALID_FILTER",
            format!("simpleFilters[{i}].value"),
            "filter value must be a string",
        );
    }
    let (key, value, operator) = (key.filter(|_| key_ok)?, value?, operator?);
    match key {
        "needsUpdate" => match value.as_str() {
            "true" => Some(Filter::NeedsUpdate(true)),
            "false" => Some(Filter::NeedsUpdate(false)),
            _ => {
                problems.add(
                    "INVALID_FILTER",
                    format!("simpleFilters[{i}].value"),
                    "needsUpdate value must be \"true\" or \"false\"",
                );
                None
            }
        },
        "keyword" => Some(Filter::Keyword(value.to_lowercase())),
        field => {
            let key = DeviceField::parse(field)?;
            if operator == "contains" {
                Some(Filter::Contains {
                    key,
                    needle: value.to_lowercase(),
                })
            } else {
                Some(Filter::Equals { key, value })
            }
        }
    }
}

fn contains_ignore_case(hay: &str, needle_lower: &str) -> bool {
    if hay.is_ascii() && needle_lower.is_ascii() {
        let (hay, needle) = (hay.as_bytes(), needle_lower.as_bytes());
        needle.is_empty()
            || hay
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle))
    } else {
        hay.to_lowercase().contains(needle_lower)
    }
}

fn matches(device: &Device, filter: &Filter, now_ms: i64) -> bool {
    match filter {
        Filter::Equals { key, value } => device.field_text(*key, now_ms) == value.as_str(),
        Filter::Contains { key, needle } => {
            contains_ignore_case(&device.field_text(*key, now_ms), needle)
        }
        Filter::NeedsUpdate(wanted) => device.latest_shown().is_empty() != *wanted,
        Filter::Keyword(needle) => device.search_text.contains(needle.as_str()),
    }
}

/// Sorts just the page `start..start + count` of `items` into place (the rest stays partly
/// ordered) and returns it: linear work on average instead of sorting the whole fleet.
/// `cmp` must be a total order, so the page equals that of a full sort.
fn sorted_page<T>(
    items: &mut [T],
    start: usize,
    count: usize,
    mut cmp: impl FnMut(&T, &T) -> Ordering,
) -> &[T] {
    let end = start.saturating_add(count).min(items.len());
    if start >= end {
        return &[];
    }
    if start > 0 {
        items.select_nth_unstable_by(start, &mut cmp);
    }
    let rest = &mut items[start..];
    let len = end - start;
    if len < rest.len() {
        rest.select_nth_unstable_by(len - 1, &mut cmp);
    }
    let page = &mut rest[..len];
    page.sort_unstable_by(&mut cmp);
    page
}

/// Another default order than the stored one: device indices by position, and each device's
/// position (`shuffled-order` / `moving-devices` modes).
#[derive(Debug, Clone, Copy)]
pub struct Permutation<'a> {
    pub order: &'a [u32],
    pub rank: &'a [u32],
}

impl Permutation<'_> {
    fn rank_of(&self, i: usize) -> u32 {
        self.rank.get(i).copied().unwrap_or(u32::MAX)
    }
}

/// The indices of one page of `devices` and the total that matched. Devices are stored in
/// `deviceId` order, so without a permutation an index comparison is the contract's
/// `deviceId` tie-break; with one, its order is the default and breaks ties.
pub fn select(
    devices: &[Device],
    permutation: Option<Permutation<'_>>,
    query: &DeviceQuery,
    now_ms: i64,
) -> (Vec<usize>, usize) {
    let Paging { start, count } = query.paging;
    let end_of = |total: usize| start.saturating_add(count).min(total);
    if query.filters.is_empty() && query.order.is_empty() {
        let end = end_of(devices.len());
        let page = match permutation {
            None => (start.min(end)..end).collect(),
            Some(p) => p
                .order
                .get(start.min(end)..end)
                .unwrap_or_default()
                .iter()
                .map(|&i| i as usize)
                .collect(),
        };
        return (page, devices.len());
    }
    let keep = |&i: &usize| {
        query
            .filters
            .iter()
            .all(|f| matches(&devices[i], f, now_ms))
    };
    let mut chosen: Vec<usize> = match permutation {
        None => (0..devices.len()).filter(keep).collect(),
        Some(p) => p.order.iter().map(|&i| i as usize).filter(keep).collect(),
    };
    // The tie-break: a device's place in the default order.
    let tie = |i: usize| permutation.map_or(i, |p| p.rank_of(i) as usize);
    let total = chosen.len();
    let page = match query.order.as_slice() {
        [] => {
            let end = end_of(total);
            chosen
                .get(start.min(end)..end)
                .map(<[usize]>::to_vec)
                .unwrap_or_default()
        }
        [(field, descending)] => {
            // One key: extract it once, so comparisons do not chase every device.
            let mut keyed: Vec<(SortKey<'_>, usize)> = chosen
                .iter()
                .map(|&i| (devices[i].sort_key(*field, now_ms), i))
                .collect();
            sorted_page(&mut keyed, start, count, |a, b| {
                let ordering = a.0.cmp(&b.0);
                let ordering = if *descending {
                    ordering.reverse()
                } else {
                    ordering
                };
                ordering.then(tie(a.1).cmp(&tie(b.1)))
            })
            .iter()
            .map(|(_, i)| *i)
            .collect()
        }
        keys => sorted_page(&mut chosen, start, count, |&a, &b| {
            let (da, db) = (&devices[a], &devices[b]);
            keys.iter()
                .map(|(field, descending)| {
                    let ordering = da.compare(db, *field, now_ms);
                    if *descending {
                        ordering.reverse()
                    } else {
                        ordering
                    }
                })
                .find(|o| *o != Ordering::Equal)
                .unwrap_or_else(|| tie(a).cmp(&tie(b)))
        })
        .to_vec(),
    };
    (page, total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn all_paging_and_filter_problems_are_listed() {
        let mut problems = Problems::default();
        parse_device_query(
            &json!({"count": 0, "startIndex": -1,
                    "simpleFilters": [{"key": "nope", "value": "x"}, {"key": "modelName", "value": "x", "operator": "like"}],
                    "orderBy": [{"key": "bogus", "order": "up"}]}),
            &Modes::default(),
            &mut problems,
        );
        let fields: Vec<_> = problems
            .0
            .iter()
            .map(|p| (p.code, p.field.as_str()))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("INVALID_COUNT", "count"),
                ("INVALID_START_INDEX", "startIndex"),
                ("INVALID_FILTER", "simpleFilters[0].key"),
                ("INVALID_FILTER", "simpleFilters[1].operator"),
                ("INVALID_ORDER", "orderBy[0].key"),
                ("INVALID_ORDER", "orderBy[0].order"),
            ]
        );
    }

    #[test]
    fn ignoring_mode_drops_unknown_keys_and_operators_without_problems() {
        let mut problems = Problems::default();
        let modes = Modes {
            unknown_filters_ignored: true,
            ..Modes::default()
        };
        let query = parse_device_query(
            &json!({"simpleFilters": [
                {"key": "needsUpdate", "value": "true"},
                {"key": "keyword", "value": "x"},
                {"key": "deviceId", "value": "mn=U2hhcnA=:sn=MTIz"},
                {"key": "bogus", "value": "x"},
                {"key": "modelName", "value": "MX", "operator": "contains"}
            ]}),
            &modes,
            &mut problems,
        );
        assert!(problems.is_empty(), "{:?}", problems.0);
        assert_eq!(
            query.filters,
            vec![Filter::Equals {
                key: DeviceField::ModelName,
                value: "MX".into()
            }]
        );
    }

    #[test]
    fn sorted_page_equals_the_same_slice_of_a_full_sort() {
        let items: Vec<u32> = (0..500u32).map(|i| (i * 7919) % 503).collect();
        let mut full = items.clone();
        full.sort_unstable();
        for (start, count) in [(0, 10), (0, 500), (37, 25), (490, 25), (499, 1), (500, 5)] {
            let mut work = items.clone();
            let page = sorted_page(&mut work, start, count, |a, b| a.cmp(b)).to_vec();
            let end = (start + count).min(full.len());
            assert_eq!(page, full[start.min(end)..end].to_vec(), "{start} {count}");
        }
    }

    #[test]
    fn contains_ignores_case() {
        assert!(contains_ignore_case("MX-3071", "mx-30"));
        assert!(!contains_ignore_case("MX-3071", "bp"));
    }
}
