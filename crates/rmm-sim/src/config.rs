//! What a simulator run is configured with: fleet size, seed, timing and fault injection.

use serde::{Deserialize, Serialize};

use crate::modes::Modes;

/// Everything `start` needs; `Default` gives the demo setup (250 devices, seed 1, ephemeral ports).
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Devices in the user's tenant (up to 100,000 for benchmarks).
    pub devices: usize,
    /// Seeds the fleet, the RSA key, the password and the subscription key.
    pub seed: u64,
    /// Fixed latency added to every API request.
    pub latency_ms: u64,
    /// Random extra latency, uniform in `0..=jitter_ms`.
    pub jitter_ms: u64,
    /// Lifetime of issued access tokens (wall-clock seconds).
    pub token_ttl_secs: i64,
    /// 0 = four ephemeral ports; else login=P, idp=P+1, dashboard=P+2, api=P+3.
    pub base_port: u16,
    /// Share (0..=1) of firmware updates that end `failed`.
    pub failure_share: f64,
    /// `Some(share)`: besides the generated fleet's older devices (about 35%), this share of
    /// the others is put on an older firmware too (benchmarks of whole-fleet rollouts).
    pub outdated_share: Option<f64>,
    /// Lifetime of Auth0 and IdP sessions (simulated seconds).
    pub session_ttl_secs: i64,
    /// Simulated seconds per real second.
    pub clock_speed: f64,
    /// API requests allowed per second before 429; `None` = unlimited.
    pub rate_limit_per_sec: Option<u32>,
    /// Share (0..=1) of API requests answered 500 or 503.
    pub error_share: f64,
    /// Share (0..=1) of API requests whose connection is closed without an answer.
    pub drop_share: f64,
    /// Behaviour modes (other plausible real-cloud behaviours); `RMM_SIM_MODE` adds to them.
    pub modes: Modes,
    /// Shows the account's email and password on the login pages, so that a person trying the
    /// demo can sign in from what the screen shows. Off by default: the tests' pages stay
    /// like the real ones.
    pub show_demo_account: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            devices: 250,
            seed: 1,
            latency_ms: 0,
            jitter_ms: 0,
            token_ttl_secs: 3600,
            base_port: 0,
            failure_share: 0.1,
            outdated_share: None,
            session_ttl_secs: 28_800,
            clock_speed: 1.0,
            rate_limit_per_sec: None,
            error_share: 0.0,
            drop_share: 0.0,
            modes: Modes::default(),
            show_demo_account: false,
        }
    }
}

/// Upper bound on `SimConfig::devices`.
pub const MAX_DEVICES: usize = 100_000;

/// When a dropped connection is dropped relative to handling the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DropPhase {
    /// Close before the request is handled: nothing changes.
    #[default]
    Before,
    /// Handle the request (apply any change), then close without answering.
    After,
}

/// Fault injection on the API origin, as read and written by `/__sim/faults`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Faults {
    pub latency_ms: u64,
    pub jitter_ms: u64,
    pub rate_limit_per_sec: Option<u32>,
    pub error_share: f64,
    pub drop_share: f64,
    pub drop_phase: DropPhase,
}

impl Faults {
    pub(crate) fn from_config(config: &SimConfig) -> Self {
        Self {
            latency_ms: config.latency_ms,
            jitter_ms: config.jitter_ms,
            rate_limit_per_sec: config.rate_limit_per_sec,
            error_share: config.error_share,
            drop_share: config.drop_share,
            drop_phase: DropPhase::Before,
        }
    }

    /// Applies a partial update (only the keys present), naming the first bad field.
    pub(crate) fn apply_patch(&self, patch: &serde_json::Value) -> Result<Self, String> {
        let object = patch
            .as_object()
            .ok_or_else(|| "body: must be a JSON object".to_string())?;
        let mut next = self.clone();
        for (key, value) in object {
            match key.as_str() {
                "latencyMs" => next.latency_ms = non_negative(key, value)?,
                "jitterMs" => next.jitter_ms = non_negative(key, value)?,
                "rateLimitPerSec" => {
                    next.rate_limit_per_sec = if value.is_null() {
                        None
                    } else {
                        let limit = non_negative(key, value)?;
                        Some(u32::try_from(limit).map_err(|_| format!("{key}: too large"))?)
                    }
                }
                "errorShare" => next.error_share = share(key, value)?,
                "dropShare" => next.drop_share = share(key, value)?,
                "dropPhase" => {
                    next.drop_phase = serde_json::from_value(value.clone())
                        .map_err(|_| format!("{key}: must be \"before\" or \"after\""))?
                }
                other => return Err(format!("{other}: unknown fault setting")),
            }
        }
        Ok(next)
    }
}

fn non_negative(key: &str, value: &serde_json::Value) -> Result<u64, String> {
    value
        .as_u64()
        .ok_or_else(|| format!("{key}: must be a whole number >= 0"))
}

fn share(key: &str, value: &serde_json::Value) -> Result<f64, String> {
    match value.as_f64() {
        Some(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{key}: must be a number between 0 and 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patch_changes_only_given_keys() {
        let base = Faults {
            latency_ms: 5,
            ..Faults::default()
        };
        let next = base
            .apply_patch(&json!({"errorShare": 0.5, "dropPhase": "after"}))
            .unwrap();
        assert_eq!(next.latency_ms, 5);
        assert_eq!(next.error_share, 0.5);
        assert_eq!(next.drop_phase, DropPhase::After);
    }

    #[test]
    fn patch_names_the_bad_field() {
        let err = Faults::default()
            .apply_patch(&json!({"dropShare": 2.0}))
            .unwrap_err();
        assert!(err.starts_with("dropShare"), "{err}");
        let err = Faults::default()
            .apply_patch(&json!({"latencyMs": -1}))
            .unwrap_err();
        assert!(err.starts_with("latencyMs"), "{err}");
    }

    #[test]
    fn null_rate_limit_turns_it_off() {
        let base = Faults {
            rate_limit_per_sec: Some(3),
            ..Faults::default()
        };
        let next = base.apply_patch(&json!({"rateLimitPerSec": null})).unwrap();
        assert_eq!(next.rate_limit_per_sec, None);
    }
}
