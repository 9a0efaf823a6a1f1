//! What real fleets do to a firmware rollout, injected on reservations and seeded: a share of
//! updates failing per model and per file, a "bad firmware" switch for one file (on one model),
//! devices going offline mid-download, downloads that never end, printers too busy to run the
//! update for a while, and statuses that say `completed` while the firmware did not change.
//! Each reservation's fate is drawn once, when it is made. Also the record of every reservation
//! made, which tests read to check that no device was reserved twice.

use std::collections::BTreeMap;

use rand::Rng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

/// How a reserved update will go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateFate {
    /// Downloads, updates, completes (or fails when the file does not fit).
    #[default]
    Normal,
    /// Ends `failed`.
    Fail,
    /// Goes offline half-way through the download and stays offline.
    OfflineMidDownload,
    /// Stays `downloading` for ever.
    StuckDownload,
    /// Busy printing: the update starts this many minutes late (1-3 postponements).
    Busy(u32),
    /// Says `completed`, but the firmware is unchanged.
    LyingCompleted,
}

/// A file that always fails, on every model or only on `model`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BadFirmware {
    pub file_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// The rollout faults, as read and written by `/__sim/rollout-faults`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolloutFaults {
    /// Share (0..=1) of updates failing on a model, instead of the simulator's failure share.
    #[serde(default)]
    pub failure_share_by_model: BTreeMap<String, f64>,
    /// Share of updates failing with a file (wins over the model's).
    #[serde(default)]
    pub failure_share_by_file: BTreeMap<String, f64>,
    /// Files that always fail.
    #[serde(default)]
    pub bad_firmware: Vec<BadFirmware>,
    /// Share of updates whose device goes offline mid-download.
    #[serde(default)]
    pub offline_mid_download_share: f64,
    /// Share of updates stuck in `downloading`.
    #[serde(default)]
    pub stuck_download_share: f64,
    /// Share of updates postponed because the printer is busy...
    #[serde(default)]
    pub busy_share: f64,
    /// ...by this many minutes per postponement (1-3 postponements).
    #[serde(default = "default_busy_minutes")]
    pub busy_postpone_minutes: u32,
    /// Share of updates that say `completed` without changing the firmware.
    #[serde(default)]
    pub lying_completed_share: f64,
}

fn default_busy_minutes() -> u32 {
    60
}

impl RolloutFaults {
    /// Every share within 0..=1, or the first field that is not.
    pub fn check(&self) -> Result<(), String> {
        let mut shares: Vec<(String, f64)> = vec![
            (
                "offlineMidDownloadShare".into(),
                self.offline_mid_download_share,
            ),
            ("stuckDownloadShare".into(), self.stuck_download_share),
            ("busyShare".into(), self.busy_share),
            ("lyingCompletedShare".into(), self.lying_completed_share),
        ];
        for (model, share) in &self.failure_share_by_model {
            shares.push((format!("failureShareByModel.{model}"), *share));
        }
        for (file, share) in &self.failure_share_by_file {
            shares.push((format!("failureShareByFile.{file}"), *share));
        }
        for (field, share) in shares {
            if !(0.0..=1.0).contains(&share) {
                return Err(format!("{field}: must be a number between 0 and 1"));
            }
        }
        let special = self.offline_mid_download_share
            + self.stuck_download_share
            + self.busy_share
            + self.lying_completed_share;
        if special > 1.0 {
            return Err(
                "offlineMidDownloadShare + stuckDownloadShare + busyShare + lyingCompletedShare: must add up to at most 1"
                    .into(),
            );
        }
        Ok(())
    }

    /// The fate of a reservation of `file_id` on a `model`; `default_fail` is the simulator's
    /// own draw from its failure share (kept unless this model or file has its own share).
    pub fn draw(
        &self,
        rng: &mut ChaCha20Rng,
        file_id: &str,
        model: &str,
        default_fail: bool,
    ) -> UpdateFate {
        if self
            .bad_firmware
            .iter()
            .any(|b| b.file_id == file_id && b.model.as_deref().is_none_or(|m| m == model))
        {
            return UpdateFate::Fail;
        }
        let share = self
            .failure_share_by_file
            .get(file_id)
            .or_else(|| self.failure_share_by_model.get(model));
        let fail = match share {
            Some(share) => rng.r#gen::<f64>() < *share,
            None => default_fail,
        };
        if fail {
            return UpdateFate::Fail;
        }
        let roll = rng.r#gen::<f64>();
        let mut edge = self.offline_mid_download_share;
        if roll < edge {
            return UpdateFate::OfflineMidDownload;
        }
        edge += self.stuck_download_share;
        if roll < edge {
            return UpdateFate::StuckDownload;
        }
        edge += self.busy_share;
        if roll < edge {
            return UpdateFate::Busy(rng.gen_range(1..=3) * self.busy_postpone_minutes);
        }
        edge += self.lying_completed_share;
        if roll < edge {
            return UpdateFate::LyingCompleted;
        }
        UpdateFate::Normal
    }
}

/// One reservation the simulator accepted, as `/__sim/reservation-log` lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationRecord {
    /// The device's id as the API shows it.
    pub device_id: String,
    pub file_id: String,
    /// Simulated time it was made, Unix milliseconds.
    pub at_ms: i64,
    /// When the update is to run, Unix milliseconds.
    pub execute_ms: i64,
    /// The reservation's time zone (`UTC±hh:mm`).
    pub time_zone: String,
    pub fate: UpdateFate,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn bad_firmware_fails_only_where_switched_on() {
        let faults = RolloutFaults {
            bad_firmware: vec![BadFirmware {
                file_id: "f".into(),
                model: Some("MX-3071".into()),
            }],
            ..RolloutFaults::default()
        };
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        assert_eq!(
            faults.draw(&mut rng, "f", "MX-3071", false),
            UpdateFate::Fail
        );
        assert_eq!(
            faults.draw(&mut rng, "f", "MX-4071", false),
            UpdateFate::Normal
        );
        assert_eq!(
            faults.draw(&mut rng, "g", "MX-3071", false),
            UpdateFate::Normal
        );
    }

    #[test]
    fn shares_are_honoured_and_checked() {
        let faults = RolloutFaults {
            failure_share_by_model: BTreeMap::from([("MX-3071".into(), 0.5)]),
            lying_completed_share: 0.2,
            ..RolloutFaults::default()
        };
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let fates: Vec<UpdateFate> = (0..10_000)
            .map(|_| faults.draw(&mut rng, "f", "MX-3071", false))
            .collect();
        let failed = fates.iter().filter(|f| **f == UpdateFate::Fail).count();
        let lying = fates
            .iter()
            .filter(|f| **f == UpdateFate::LyingCompleted)
            .count();
        assert!((4_500..5_500).contains(&failed), "{failed}");
        assert!((700..1_300).contains(&lying), "{lying}");
        // Another model keeps the simulator's own draw.
        assert_eq!(
            faults.draw(&mut rng, "f", "BP-50C26", true),
            UpdateFate::Fail
        );
        let bad = RolloutFaults {
            busy_share: 0.7,
            stuck_download_share: 0.5,
            ..RolloutFaults::default()
        };
        assert!(bad.check().unwrap_err().contains("at most 1"));
        let bad = RolloutFaults {
            failure_share_by_file: BTreeMap::from([("f".into(), 2.0)]),
            ..RolloutFaults::default()
        };
        assert!(bad.check().unwrap_err().starts_with("failureShareByFile.f"));
    }
}
