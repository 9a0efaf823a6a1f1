//! What rollout operations answer, in one shape for every face: the MCP rollout tools' output
//! schemas and `rmm rollout --json` are these types, so a script and an agent read the same.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::engine::{AbortReport, RolloutStatus};
use super::envelope::EnvelopeVerdict;
use super::planner::RolloutPreview;
use super::store::RolloutRecord;

/// A plan's preview (nothing changed) and where it stands against the agents' envelope.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RolloutPlanAnswer {
    pub preview: RolloutPreview,
    pub envelope: EnvelopeVerdict,
    /// What to do next.
    pub next_step: String,
}

/// What asking to start a rollout came to.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StartStatus {
    /// Nothing was started yet: show the preview, confirm to start it.
    Preview,
    /// Started: see `rollout_id`.
    Started,
    /// The fleet changed since the digest was approved: nothing was started; this is the new
    /// preview, with its own digest.
    PreviewChanged,
    /// The user said no when asked; nothing was started.
    Declined,
    /// The person refused it in the MCP-RMM app; nothing was started.
    Refused,
    /// The approval in the MCP-RMM app was not answered; nothing was started.
    Unanswered,
}

/// The answer to starting a rollout.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RolloutStartAnswer {
    pub status: StartStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout_id: Option<i64>,
    pub preview: RolloutPreview,
    pub envelope: EnvelopeVerdict,
    pub next_step: String,
}

/// Every rollout of the profile, newest first.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RolloutsAnswer {
    pub rollouts: Vec<RolloutRecord>,
}

/// A step taken on a started rollout.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RolloutAction {
    Pause,
    Resume,
    Promote,
    Abort,
    RetryFailed,
}

/// What a step did, and the rollout's status after it.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RolloutStepAnswer {
    pub action: RolloutAction,
    pub rollout_id: i64,
    /// Devices the step lets start (promote, resume) or tries again (retry_failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<usize>,
    /// What an abort removed and could not stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort: Option<AbortReport>,
    pub status: RolloutStatus,
}
