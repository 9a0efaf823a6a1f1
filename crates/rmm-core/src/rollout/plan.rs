//! `RolloutPlan`: a phased firmware rollout as data (read from TOML or built from flags) — the
//! firmware to reach, the devices, the canary and the waves, the gates, timeouts and retries,
//! the execution windows and the OTA guard — and every rule it must meet, all reported at once.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::change_requests::parse_utc_offset;
use crate::problems::Problems;

/// Most waves a plan may have after the canary.
pub const MAX_WAVES: usize = 20;

/// A phased firmware rollout.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloutPlan {
    /// A name for people ("Q4 firmware, EMEA").
    pub name: String,
    /// The group; else the token's tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default)]
    pub target: TargetFirmware,
    #[serde(default)]
    pub devices: DeviceSelector,
    #[serde(default)]
    pub canary: CanarySpec,
    /// The waves after the canary; the last one takes whatever remains.
    #[serde(default = "default_waves")]
    pub waves: Vec<WaveSpec>,
    #[serde(default)]
    pub gates: Gates,
    #[serde(default)]
    pub execution: Execution,
    #[serde(default)]
    pub windows: Windows,
    #[serde(default)]
    pub time_zones: TimeZones,
    #[serde(default)]
    pub ota_guard: OtaGuard,
}

/// The firmware each device should reach.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetFirmware {
    /// Each model's latest firmware (the version the cloud offers), from the staged file that
    /// fits the model and names that version. Used when `files` is empty.
    #[serde(default)]
    pub latest: bool,
    /// One staged file per model: model name → file id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, String>,
}

/// Which devices take part: an explicit list, or a query over the group.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceSelector {
    /// Exactly these device ids (the query fields are then not allowed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    /// Only these models.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// Only devices on one of these firmware versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub firmware: Vec<String>,
    /// Only devices whose location contains this text (any case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Only devices with newer firmware on offer (default true).
    #[serde(default = "yes")]
    pub needs_update: bool,
    /// Text searched in name, model, serial, IP and location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
}

/// The first wave: few devices, covering every model × current firmware (× site).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CanarySpec {
    /// Devices in the canary (it grows to cover every stratum when there are more strata).
    pub count: usize,
    /// Stratify by site (from `location`) as well, when the fleet has several sites.
    #[serde(default = "yes")]
    pub by_site: bool,
    /// Soak after the canary before the next wave, minutes.
    #[serde(default = "default_soak")]
    pub soak_minutes: u32,
}

impl Default for CanarySpec {
    fn default() -> Self {
        Self {
            count: 10,
            by_site: true,
            soak_minutes: default_soak(),
        }
    }
}

/// One wave after the canary: a share or a count of the devices left after the canary.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaveSpec {
    /// Percent (0-100] of the devices after the canary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    /// Or a number of devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// Soak after this wave before the next one, minutes.
    #[serde(default = "default_soak")]
    pub soak_minutes: u32,
}

/// When a wave lets the next one start, and when the rollout stops.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gates {
    /// Share of a wave verified updated that lets the next wave start (default 0.95).
    #[serde(default = "default_success")]
    pub success_share: f64,
    /// Wait for a person (`rmm rollout promote`) after each wave instead of going on.
    #[serde(default)]
    pub pause_after_each_wave: bool,
    /// Failures above this share of the wave's finished devices...
    #[serde(default = "default_failure_share")]
    pub failure_share: f64,
    /// ...and above this count pause the rollout...
    #[serde(default = "default_failure_count")]
    pub failure_count: usize,
    /// ...once at least this many of the wave's devices have finished.
    #[serde(default = "default_min_finished")]
    pub min_finished: usize,
}

impl Default for Gates {
    fn default() -> Self {
        Self {
            success_share: default_success(),
            pause_after_each_wave: false,
            failure_share: default_failure_share(),
            failure_count: default_failure_count(),
            min_finished: default_min_finished(),
        }
    }
}

/// Per-device timeout and retries.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Execution {
    /// No progress for this long (minutes) counts as a failure.
    #[serde(default = "default_timeout")]
    pub device_timeout_minutes: u32,
    /// A failed device is tried again up to this many times...
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// ...waiting this long first, doubled on each retry (minutes).
    #[serde(default = "default_backoff")]
    pub retry_backoff_minutes: u32,
    /// The file is sent this long (minutes) before the update runs.
    #[serde(default = "default_lead")]
    pub transfer_lead_minutes: u32,
}

impl Default for Execution {
    fn default() -> Self {
        Self {
            device_timeout_minutes: default_timeout(),
            retries: default_retries(),
            retry_backoff_minutes: default_backoff(),
            transfer_lead_minutes: default_lead(),
        }
    }
}

/// When updates may run, in each device's local time.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Windows {
    /// Allowed hours, `start-end` (end excluded; `22-5` runs over midnight). Empty: any hour.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<String>,
    /// Allowed days (`mon` .. `sun`). Empty: every day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<String>,
    /// Local dates (`YYYY-MM-DD`) on which nothing runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blackout_dates: Vec<String>,
    /// Also keep inside each device's own OTA window (`otaStartHour`-`otaEndHour`).
    #[serde(default)]
    pub respect_ota_window: bool,
    /// At most this many devices of one site updating at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_limit: Option<usize>,
}

/// Devices' time zones: the cloud does not give one, so the plan says, per site.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeZones {
    /// `UTC±hh:mm` of devices whose site is not listed.
    #[serde(default = "default_zone")]
    pub default: String,
    /// Site (the part of `location` before ` / `) → `UTC±hh:mm`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sites: BTreeMap<String, String>,
}

impl Default for TimeZones {
    fn default() -> Self {
        Self {
            default: default_zone(),
            sites: BTreeMap::new(),
        }
    }
}

/// What to do with existing reservations on the rollout's devices.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExistingReservations {
    /// Leave those devices out of the rollout (and their reservation alone).
    #[default]
    KeepOut,
    /// Replace their reservation with the rollout's.
    Replace,
}

/// Devices in OTA `auto` mode could update themselves outside the plan: hold them in
/// `confirmation` for the rollout and restore them after.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OtaGuard {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub existing_reservations: ExistingReservations,
}

impl Default for TargetFirmware {
    fn default() -> Self {
        Self {
            latest: true,
            files: BTreeMap::new(),
        }
    }
}

impl Default for DeviceSelector {
    fn default() -> Self {
        Self {
            ids: Vec::new(),
            models: Vec::new(),
            firmware: Vec::new(),
            location: None,
            needs_update: true,
            search: None,
        }
    }
}

impl Default for OtaGuard {
    fn default() -> Self {
        Self {
            enabled: true,
            existing_reservations: ExistingReservations::KeepOut,
        }
    }
}

fn yes() -> bool {
    true
}
fn default_soak() -> u32 {
    60
}
fn default_success() -> f64 {
    0.95
}
fn default_failure_share() -> f64 {
    0.10
}
fn default_failure_count() -> usize {
    2
}
fn default_min_finished() -> usize {
    5
}
fn default_timeout() -> u32 {
    240
}
fn default_retries() -> u32 {
    2
}
fn default_backoff() -> u32 {
    30
}
fn default_lead() -> u32 {
    10
}
fn default_zone() -> String {
    "UTC+00:00".to_owned()
}
fn default_waves() -> Vec<WaveSpec> {
    [10.0, 30.0, 100.0]
        .into_iter()
        .map(|p| WaveSpec {
            percent: Some(p),
            count: None,
            soak_minutes: default_soak(),
        })
        .collect()
}

/// An hour range `start-end` of a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourRange {
    pub start: u8,
    pub end: u8,
}

impl HourRange {
    /// `"22-5"` → 22..5 (over midnight); start and end 0-24, not equal.
    pub fn parse(text: &str) -> Option<Self> {
        let (s, e) = text.trim().split_once('-')?;
        let (start, end): (u8, u8) = (s.trim().parse().ok()?, e.trim().parse().ok()?);
        (start < 24 && end <= 24 && start != end).then_some(Self { start, end })
    }

    pub fn contains(self, hour: u8) -> bool {
        if self.start < self.end {
            (self.start..self.end).contains(&hour)
        } else {
            hour >= self.start || hour < self.end
        }
    }
}

/// `mon`..`sun` → 0..6 (Monday first).
pub fn parse_day(text: &str) -> Option<u8> {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let lower = text.trim().to_ascii_lowercase();
    DAYS.iter()
        .position(|d| lower.starts_with(d) && lower.len() >= 3)
        .and_then(|i| u8::try_from(i).ok())
}

/// `YYYY-MM-DD` → a date.
pub fn parse_date(text: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), format).ok()
}

impl RolloutPlan {
    /// A plan with the defaults and this name (what flags start from).
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            group_id: None,
            target: TargetFirmware::default(),
            devices: DeviceSelector::default(),
            canary: CanarySpec::default(),
            waves: default_waves(),
            gates: Gates::default(),
            execution: Execution::default(),
            windows: Windows::default(),
            time_zones: TimeZones::default(),
            ota_guard: OtaGuard::default(),
        }
    }

    /// Reads a plan from TOML; a syntax or shape error names the line and the key.
    pub fn from_toml(text: &str) -> Result<Self, Problems> {
        let plan: Self = toml::from_str(text).map_err(|e| {
            let mut p = Problems::new();
            p.push("plan", format!("is not a valid rollout plan: {e}"));
            p
        })?;
        plan.validate().into_result()?;
        Ok(plan)
    }

    /// Reads a plan from JSON (an agent's `plan` argument); a shape error names the field's
    /// path, and every rule the readable plan breaks is reported with it.
    pub fn from_json(value: serde_json::Value) -> Result<Self, Problems> {
        let plan: Self = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { String::new() } else { path };
            Problems::from_one(field, e.into_inner().to_string())
        })?;
        plan.validate().into_result()?;
        Ok(plan)
    }

    /// The plan as TOML (for `rmm rollout plan --save`).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Every rule the plan breaks, field by field.
    pub fn validate(&self) -> Problems {
        let mut p = Problems::new();
        let name = self.name.trim();
        if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
            p.push("name", "must be 1-200 printable characters");
        }
        if !self.target.latest && self.target.files.is_empty() {
            p.push(
                "target",
                "must name a file per model (target.files) or say latest = true",
            );
        }
        for (model, file) in &self.target.files {
            if model.trim().is_empty() || file.trim().is_empty() {
                p.push(
                    format!("target.files.{model}"),
                    "must map a model name to a staged file id",
                );
            }
        }
        let d = &self.devices;
        if !d.ids.is_empty() {
            if !d.models.is_empty()
                || !d.firmware.is_empty()
                || d.location.is_some()
                || d.search.is_some()
            {
                p.push(
                    "devices.ids",
                    "an explicit list cannot be combined with models, firmware, location or search",
                );
            }
            let mut seen = std::collections::HashSet::new();
            for (i, id) in d.ids.iter().enumerate() {
                match id.trim().parse::<rmm_api::DeviceId>() {
                    Err(e) => p.push(format!("devices.ids[{i}]"), e.to_string()),
                    Ok(parsed) => {
                        if !seen.insert(parsed) {
                            p.push(format!("devices.ids[{i}]"), "is listed twice");
                        }
                    }
                }
            }
        }
        if self.canary.count == 0 {
            p.push(
                "canary.count",
                "must be at least 1 (the canary is what stops a bad firmware early)",
            );
        }
        if self.waves.len() > MAX_WAVES {
            p.push(
                "waves",
                format!("must be at most {MAX_WAVES}, got {}", self.waves.len()),
            );
        }
        for (i, w) in self.waves.iter().enumerate() {
            match (w.percent, w.count) {
                (Some(_), Some(_)) | (None, None) => p.push(
                    format!("waves[{i}]"),
                    "must give exactly one of percent or count",
                ),
                (Some(pc), None) if !(pc > 0.0 && pc <= 100.0) => p.push(
                    format!("waves[{i}].percent"),
                    format!("must be more than 0 and at most 100, got {pc}"),
                ),
                (None, Some(0)) => p.push(format!("waves[{i}].count"), "must be at least 1"),
                _ => {}
            }
        }
        let g = &self.gates;
        if !(g.success_share > 0.0 && g.success_share <= 1.0) {
            p.push(
                "gates.success_share",
                format!("must be more than 0 and at most 1, got {}", g.success_share),
            );
        }
        if !(0.0..1.0).contains(&g.failure_share) {
            p.push(
                "gates.failure_share",
                format!("must be 0 or more and below 1, got {}", g.failure_share),
            );
        }
        if g.min_finished == 0 {
            p.push("gates.min_finished", "must be at least 1");
        }
        let e = &self.execution;
        if e.device_timeout_minutes < 10 {
            p.push(
                "execution.device_timeout_minutes",
                format!(
                    "must be at least 10 (a download and an update take minutes), got {}",
                    e.device_timeout_minutes
                ),
            );
        }
        if e.retries > 10 {
            p.push(
                "execution.retries",
                format!("must be at most 10, got {}", e.retries),
            );
        }
        if e.transfer_lead_minutes > 24 * 60 {
            p.push(
                "execution.transfer_lead_minutes",
                "must be at most 1440 (a day)",
            );
        }
        let w = &self.windows;
        for (i, h) in w.hours.iter().enumerate() {
            if HourRange::parse(h).is_none() {
                p.push(
                    format!("windows.hours[{i}]"),
                    format!("must be `start-end` hours 0-24, not equal (e.g. 22-5), got {h:?}"),
                );
            }
        }
        for (i, day) in w.days.iter().enumerate() {
            if parse_day(day).is_none() {
                p.push(
                    format!("windows.days[{i}]"),
                    format!("must be mon, tue, wed, thu, fri, sat or sun, got {day:?}"),
                );
            }
        }
        for (i, date) in w.blackout_dates.iter().enumerate() {
            if parse_date(date).is_none() {
                p.push(
                    format!("windows.blackout_dates[{i}]"),
                    format!("must be a real date YYYY-MM-DD, got {date:?}"),
                );
            }
        }
        if w.site_limit == Some(0) {
            p.push("windows.site_limit", "must be at least 1 when given");
        }
        if parse_utc_offset(self.time_zones.default.trim()).is_none() {
            p.push(
                "time_zones.default",
                format!(
                    "must be `UTC±hh:mm` between UTC-12:00 and UTC+14:00, got {:?}",
                    self.time_zones.default
                ),
            );
        }
        for (site, zone) in &self.time_zones.sites {
            if parse_utc_offset(zone.trim()).is_none() {
                p.push(
                    format!("time_zones.sites.{site}"),
                    format!("must be `UTC±hh:mm` between UTC-12:00 and UTC+14:00, got {zone:?}"),
                );
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
name = "Q4 firmware"

[target]
latest = true

[devices]
models = ["MX-3071", "BP-50C26"]

[canary]
count = 12

[[waves]]
percent = 25
soak_minutes = 120

[[waves]]
count = 400

[[waves]]
percent = 100

[gates]
success_share = 0.9
failure_share = 0.05
failure_count = 3
min_finished = 10

[execution]
device_timeout_minutes = 180
retries = 1

[windows]
hours = ["22-5"]
days = ["mon", "tue", "wed", "thu", "fri"]
blackout_dates = ["2026-12-24", "2026-12-31"]
site_limit = 20

[time_zones]
default = "UTC+00:00"
sites = { "Osaka HQ" = "UTC+09:00", "Chicago Office" = "UTC-06:00" }

[ota_guard]
existing_reservations = "replace"
"#;

    #[test]
    fn the_example_plan_reads_and_round_trips() {
        let plan = RolloutPlan::from_toml(EXAMPLE).unwrap();
        assert_eq!(plan.canary.count, 12);
        assert_eq!(plan.waves.len(), 3);
        assert_eq!(plan.waves[1].count, Some(400));
        assert_eq!(plan.waves[1].soak_minutes, 60, "default soak");
        assert!(plan.ota_guard.enabled, "on by default");
        assert_eq!(
            plan.ota_guard.existing_reservations,
            ExistingReservations::Replace
        );
        assert!(plan.devices.needs_update);
        let again = RolloutPlan::from_toml(&plan.to_toml()).unwrap();
        assert_eq!(again, plan);
    }

    #[test]
    fn every_broken_rule_is_reported_at_once() {
        let text = r#"
name = ""
[target]
latest = false
[devices]
ids = ["not an id"]
models = ["MX-3071"]
[canary]
count = 0
[[waves]]
percent = 150
[[waves]]
percent = 10
count = 5
[gates]
success_share = 0
failure_share = 1.5
[execution]
device_timeout_minutes = 1
[windows]
hours = ["5-5", "x"]
days = ["someday"]
blackout_dates = ["2026-02-30"]
site_limit = 0
[time_zones]
default = "+05:30"
sites = { "Osaka HQ" = "UTC+15:00" }
"#;
        let problems = RolloutPlan::from_toml(text).unwrap_err();
        for field in [
            "name",
            "target",
            "devices.ids",
            "devices.ids[0]",
            "canary.count",
            "waves[0].percent",
            "waves[1]",
            "gates.success_share",
            "gates.failure_share",
            "execution.device_timeout_minutes",
            "windows.hours[0]",
            "windows.hours[1]",
            "windows.days[0]",
            "windows.blackout_dates[0]",
            "windows.site_limit",
            "time_zones.default",
            "time_zones.sites.Osaka HQ",
        ] {
            assert!(
                problems.iter().any(|p| p.field == field),
                "{field} missing: {problems}"
            );
        }
    }

    #[test]
    fn an_unknown_key_is_named() {
        let problems = RolloutPlan::from_toml("name = \"x\"\n[gates]\nsucess_share = 0.9\n")
            .unwrap_err()
            .to_string();
        assert!(problems.contains("sucess_share"), "{problems}");
    }

    #[test]
    fn hour_ranges_run_over_midnight() {
        let night = HourRange::parse("22-5").unwrap();
        assert!(night.contains(23) && night.contains(0) && night.contains(4));
        assert!(!night.contains(5) && !night.contains(12) && !night.contains(21));
        let day = HourRange::parse("9-17").unwrap();
        assert!(day.contains(9) && !day.contains(17));
        assert!(HourRange::parse("0-24").unwrap().contains(23));
        assert_eq!(HourRange::parse("3-3"), None);
        assert_eq!(HourRange::parse("25-3"), None);
        assert_eq!(parse_day("Saturday"), Some(5));
        assert_eq!(parse_day("xx"), None);
    }
}
