//! Behaviour modes: other plausible ways the real Sharp cloud may behave where the API notes
//! are silent, each switched on by `rmm sim --mode`, the `RMM_SIM_MODE` environment variable
//! or `/__sim/modes`. The `strict` preset turns on the surprising ones together.

use serde::{Deserialize, Serialize};

/// The environment variable read by [`crate::start`]: a comma-separated list of mode names
/// (see [`Modes::NAMES`]) or presets (`default`, `strict`, `all`), added to the configured modes.
pub const MODE_ENV: &str = "RMM_SIM_MODE";

/// Which non-default behaviours are on. `Default` is the simulator's own settled behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Modes {
    /// Refusals of bad input answered HTTP 200 with a non-empty `common.errorList`.
    pub refusals_as_200: bool,
    /// `simpleFilters` keys the notes do not document (`needsUpdate`, `keyword`, `deviceId`,
    /// `connectionStatus`, `location`, anything else) and the `operator` field are ignored.
    pub unknown_filters_ignored: bool,
    /// Without `orderBy` the list comes in another fixed order than `deviceId`, which also
    /// breaks `orderBy` ties.
    pub shuffled_order: bool,
    /// Every device-list request moves one device to the front of that order, so a reader
    /// going page by page sees one device twice and may miss another.
    pub moving_devices: bool,
    /// Devices carry only the documented fields (no `connectionStatus`, `location`,
    /// `reservation`); tenants and change receipts come in other shapes.
    pub documented_fields_only: bool,
    /// About a third of the device ids are not canonical padded base64 of UTF-8 text.
    pub odd_device_ids: bool,
    /// `GET /api/v1/tenants` answers 401 unless it comes with the dashboard's `origin`.
    pub tenants_need_browser: bool,
    /// `x-time-zone` (`+05:30` or `UTC+05:30`), when sent, decides the zone in which
    /// `executeUpdateDateTime` is read, whatever `fileTransferTimeZone` says.
    pub time_zone_header: bool,
    /// Every API request without the dashboard's `origin` is refused with 403.
    pub require_dashboard_origin: bool,
}

impl Modes {
    /// Names of the single modes, as `--mode`, `RMM_SIM_MODE` and the docs spell them.
    pub const NAMES: [&'static str; 9] = [
        "refusals-200",
        "unknown-filters-ignored",
        "shuffled-order",
        "moving-devices",
        "documented-fields-only",
        "odd-device-ids",
        "tenants-need-browser",
        "time-zone-header",
        "require-dashboard-origin",
    ];

    /// The strict real-world preset: every surprising behaviour at once. The dashboard-origin
    /// requirement is left out: a client may only send the origin a profile names.
    pub fn strict() -> Self {
        Self {
            require_dashboard_origin: false,
            ..Self::all()
        }
    }

    /// Every mode on.
    pub fn all() -> Self {
        Self {
            refusals_as_200: true,
            unknown_filters_ignored: true,
            shuffled_order: true,
            moving_devices: true,
            documented_fields_only: true,
            odd_device_ids: true,
            tenants_need_browser: true,
            time_zone_header: true,
            require_dashboard_origin: true,
        }
    }

    fn flag_mut(&mut self, name: &str) -> Option<&mut bool> {
        Some(match name {
            "refusals-200" => &mut self.refusals_as_200,
            "unknown-filters-ignored" => &mut self.unknown_filters_ignored,
            "shuffled-order" => &mut self.shuffled_order,
            "moving-devices" => &mut self.moving_devices,
            "documented-fields-only" => &mut self.documented_fields_only,
            "odd-device-ids" => &mut self.odd_device_ids,
            "tenants-need-browser" => &mut self.tenants_need_browser,
            "time-zone-header" => &mut self.time_zone_header,
            "require-dashboard-origin" => &mut self.require_dashboard_origin,
            _ => return None,
        })
    }

    /// Every mode that is on, by name.
    pub fn names_on(&self) -> Vec<&'static str> {
        let mut copy = *self;
        Self::NAMES
            .into_iter()
            .filter(|name| copy.flag_mut(name).is_some_and(|flag| *flag))
            .collect()
    }

    /// Whether the default order is not by `deviceId`.
    pub fn permuted_order(&self) -> bool {
        self.shuffled_order || self.moving_devices
    }

    /// Reads a comma-separated list of modes and presets (`default`, `strict`, `all`), added
    /// to `self`. Every unknown name is reported at once.
    pub fn with_list(mut self, list: &str) -> Result<Self, String> {
        let mut unknown = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "default" | "none" => {}
                "strict" => self = self.union(Self::strict()),
                "all" => self = self.union(Self::all()),
                other => match self.flag_mut(other) {
                    Some(flag) => *flag = true,
                    None => unknown.push(other.to_string()),
                },
            }
        }
        if unknown.is_empty() {
            Ok(self)
        } else {
            Err(format!(
                "unknown mode {}: must be default, strict, all or one of {}",
                unknown.join(", "),
                Self::NAMES.join(", ")
            ))
        }
    }

    /// The modes on in either.
    pub fn union(self, other: Self) -> Self {
        Self {
            refusals_as_200: self.refusals_as_200 || other.refusals_as_200,
            unknown_filters_ignored: self.unknown_filters_ignored || other.unknown_filters_ignored,
            shuffled_order: self.shuffled_order || other.shuffled_order,
            moving_devices: self.moving_devices || other.moving_devices,
            documented_fields_only: self.documented_fields_only || other.documented_fields_only,
            odd_device_ids: self.odd_device_ids || other.odd_device_ids,
            tenants_need_browser: self.tenants_need_browser || other.tenants_need_browser,
            time_zone_header: self.time_zone_header || other.time_zone_header,
            require_dashboard_origin: self.require_dashboard_origin
                || other.require_dashboard_origin,
        }
    }

    /// The modes of [`MODE_ENV`], if it is set.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(MODE_ENV) {
            Ok(list) => Self::default()
                .with_list(&list)
                .map_err(|e| format!("{MODE_ENV}: {e}")),
            Err(_) => Ok(Self::default()),
        }
    }

    /// Applies a `/__sim/modes` body: `{"preset": "strict"|"default"|"all"}` replaces the
    /// modes (then) any camelCase flag sets one, e.g. `{"refusalsAs200": true}`.
    pub fn apply_patch(&self, patch: &serde_json::Value) -> Result<Self, String> {
        let object = patch
            .as_object()
            .ok_or_else(|| "body: must be a JSON object".to_string())?;
        let mut next = match object.get("preset") {
            None => *self,
            Some(serde_json::Value::String(preset)) => match preset.as_str() {
                "default" => Self::default(),
                "strict" => Self::strict(),
                "all" => Self::all(),
                _ => return Err("preset: must be \"default\", \"strict\" or \"all\"".into()),
            },
            Some(_) => return Err("preset: must be \"default\", \"strict\" or \"all\"".into()),
        };
        let mut current = serde_json::to_value(next).map_err(|e| e.to_string())?;
        let mut problems = Vec::new();
        for (key, value) in object {
            if key == "preset" {
                continue;
            }
            let Some(slot) = current.get_mut(key) else {
                problems.push(format!("{key}: unknown mode"));
                continue;
            };
            if !value.is_boolean() {
                problems.push(format!("{key}: must be true or false"));
                continue;
            }
            *slot = value.clone();
        }
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        next = serde_json::from_value(current).map_err(|e| e.to_string())?;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_name_sets_its_own_flag() {
        for name in Modes::NAMES {
            let modes = Modes::default().with_list(name).unwrap();
            assert_eq!(modes.names_on(), vec![name]);
        }
        assert_eq!(Modes::all().names_on().len(), Modes::NAMES.len());
    }

    #[test]
    fn strict_leaves_out_the_origin_requirement_only() {
        let strict = Modes::default().with_list("strict").unwrap();
        assert!(!strict.require_dashboard_origin);
        assert_eq!(strict.names_on().len(), Modes::NAMES.len() - 1);
        let more = Modes::default()
            .with_list(" strict , require-dashboard-origin")
            .unwrap();
        assert_eq!(more, Modes::all());
    }

    #[test]
    fn unknown_names_are_all_reported() {
        let err = Modes::default().with_list("strict,bogus,nope").unwrap_err();
        assert!(err.contains("bogus, nope"), "{err}");
        assert!(err.contains("refusals-200"), "{err}");
    }

    #[test]
    fn patch_presets_then_flags() {
        let next = Modes::default()
            .apply_patch(&json!({"preset": "strict", "oddDeviceIds": false}))
            .unwrap();
        assert!(next.refusals_as_200 && !next.odd_device_ids);
        let err = Modes::default()
            .apply_patch(&json!({"bogus": true, "refusalsAs200": 1}))
            .unwrap_err();
        assert!(err.contains("bogus: unknown mode"), "{err}");
        assert!(
            err.contains("refusalsAs200: must be true or false"),
            "{err}"
        );
        let err = Modes::default()
            .apply_patch(&json!({"preset": "lax"}))
            .unwrap_err();
        assert!(err.starts_with("preset"), "{err}");
    }
}
