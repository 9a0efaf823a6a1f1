//! The autonomy envelope: limits a person sets per profile (`AgentPolicy`) inside which an
//! agent may take an approved rollout's later steps (promote, resume, retry) without asking
//! again. Starting a rollout always needs the person's approval; a step outside the envelope
//! is refused with every limit it hits named, so the agent can tell the person why.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::engine::RolloutStatus;
use super::plan::{HourRange, parse_date};
use super::planner::RolloutPreview;
use super::windows::local;
use crate::problems::Problems;

/// A staged firmware file a person has qualified for one model: agents may roll it out.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QualifiedFirmware {
    pub model: String,
    pub file_id: String,
}

/// What an agent may do alone, per profile (`[profiles.<name>.agent_policy]` in the settings
/// file). The defaults let an agent take no step alone: nothing is qualified.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentPolicy {
    /// Firmware files agents may roll out, per model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub qualified: Vec<QualifiedFirmware>,
    /// Most devices rollouts may reserve in any 24 hours when an agent takes a step.
    #[serde(default = "default_devices_per_day")]
    pub devices_per_day: u32,
    /// The largest wave an agent may start.
    #[serde(default = "default_largest_wave")]
    pub largest_wave: u32,
    /// Hours (`start-end`, the profile's time zone) in which agents may act. Empty: any hour.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<String>,
    /// Dates (`YYYY-MM-DD`, the profile's time zone) on which agents may not act.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blackout_dates: Vec<String>,
    /// Above this share (0-1) of a rollout's finished devices failing, an agent may not
    /// resume or promote it.
    #[serde(default = "default_failure_share")]
    pub max_failure_share: f64,
    /// The kill switch: while on, agents may take no rollout step at all.
    #[serde(default)]
    pub agents_stopped: bool,
}

fn default_devices_per_day() -> u32 {
    100
}
fn default_largest_wave() -> u32 {
    50
}
fn default_failure_share() -> f64 {
    0.05
}

impl Default for AgentPolicy {
    fn default() -> Self {
        Self {
            qualified: Vec::new(),
            devices_per_day: default_devices_per_day(),
            largest_wave: default_largest_wave(),
            hours: Vec::new(),
            blackout_dates: Vec::new(),
            max_failure_share: default_failure_share(),
            agents_stopped: false,
        }
    }
}

impl AgentPolicy {
    /// Every rule the policy breaks, field by field.
    pub fn validate(&self) -> Problems {
        let mut p = Problems::new();
        for (i, q) in self.qualified.iter().enumerate() {
            if q.model.trim().is_empty() || q.file_id.trim().is_empty() {
                p.push(
                    format!("qualified[{i}]"),
                    "must name a model and a staged file id",
                );
            }
        }
        if self.devices_per_day == 0 {
            p.push(
                "devices_per_day",
                "must be at least 1 (use the kill switch to stop agents)",
            );
        }
        if self.largest_wave == 0 {
            p.push(
                "largest_wave",
                "must be at least 1 (use the kill switch to stop agents)",
            );
        }
        for (i, h) in self.hours.iter().enumerate() {
            if HourRange::parse(h).is_none() {
                p.push(
                    format!("hours[{i}]"),
                    format!("must be start-end, hours 0-24, e.g. 8-18; got {h:?}"),
                );
            }
        }
        for (i, d) in self.blackout_dates.iter().enumerate() {
            if parse_date(d).is_none() {
                p.push(
                    format!("blackout_dates[{i}]"),
                    format!("must be a date YYYY-MM-DD; got {d:?}"),
                );
            }
        }
        if !(0.0..=1.0).contains(&self.max_failure_share) {
            p.push("max_failure_share", "must be a share from 0 to 1");
        }
        p
    }

    /// Whether `file_id` is qualified for `model`.
    pub fn is_qualified(&self, model: &str, file_id: &str) -> bool {
        self.qualified
            .iter()
            .any(|q| q.model.eq_ignore_ascii_case(model.trim()) && q.file_id == file_id.trim())
    }

    /// Marks `file_id` qualified for `model` (once).
    pub fn qualify(&mut self, model: &str, file_id: &str) {
        if !self.is_qualified(model, file_id) {
            self.qualified.push(QualifiedFirmware {
                model: model.trim().to_owned(),
                file_id: file_id.trim().to_owned(),
            });
        }
    }

    /// Takes the qualification of `file_id` for `model` back; whether there was one.
    pub fn unqualify(&mut self, model: &str, file_id: &str) -> bool {
        let before = self.qualified.len();
        self.qualified.retain(|q| {
            !(q.model.eq_ignore_ascii_case(model.trim()) && q.file_id == file_id.trim())
        });
        self.qualified.len() != before
    }
}

/// Whether `file_id` may be qualified for `model`: a staged file, made for that model when its
/// name says which models it fits. Every problem, under `model` and `file_id`.
pub fn qualification_problems(
    model: &str,
    file_id: &str,
    staged: &[crate::fleet_views::FirmwareFileView],
) -> Problems {
    let mut p = Problems::new();
    if model.trim().is_empty() {
        p.push("model", "must name a model, e.g. MX-3071");
    }
    match staged.iter().find(|f| f.file_id == file_id.trim()) {
        None => p.push_with_hint(
            "file_id",
            format!("{:?} is not a staged firmware file", file_id.trim()),
            crate::problems::Hint::ListStagedFirmware,
        ),
        Some(f)
            if !model.trim().is_empty()
                && !f.fits_models.is_empty()
                && !f
                    .fits_models
                    .iter()
                    .any(|m| m.eq_ignore_ascii_case(model.trim())) =>
        {
            p.push(
                "file_id",
                format!(
                    "file {} ({}) is made for {}, not {}",
                    f.file_id,
                    f.title,
                    f.fits_models.join(", "),
                    model.trim()
                ),
            );
        }
        Some(_) => {}
    }
    p
}

/// Qualifies `file_id` for `model` in `policy` after checking it against the group's staged
/// files (the rule every face applies: `qualification_problems`). Nothing changes on a problem.
pub async fn qualify_staged(
    ops: &crate::fleet_operations::FleetOperations,
    policy: &mut AgentPolicy,
    model: &str,
    file_id: &str,
) -> Result<(), crate::operation_error::OperationError> {
    let staged = ops.all_firmware_files(None).await?;
    let problems = qualification_problems(model, file_id, &staged);
    if !problems.is_empty() {
        return Err(crate::operation_error::OperationError::Invalid(problems));
    }
    policy.qualify(model, file_id);
    Ok(())
}

/// A later step of a started rollout that an agent may take inside the envelope.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentStep {
    Promote,
    Resume,
    RetryFailed,
}

impl AgentStep {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Promote => "promote",
            Self::Resume => "resume",
            Self::RetryFailed => "retry failed devices",
        }
    }
}

/// Which limit of the envelope a step (or a plan) goes beyond.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnvelopeLimit {
    /// The kill switch is on.
    AgentsStopped,
    /// A file of the rollout is not qualified for its model.
    Qualified,
    DevicesPerDay,
    LargestWave,
    Hours,
    BlackoutDates,
    MaxFailureShare,
}

impl EnvelopeLimit {
    /// The policy's field the limit is set in.
    pub fn field(self) -> &'static str {
        match self {
            Self::AgentsStopped => "agents_stopped",
            Self::Qualified => "qualified",
            Self::DevicesPerDay => "devices_per_day",
            Self::LargestWave => "largest_wave",
            Self::Hours => "hours",
            Self::BlackoutDates => "blackout_dates",
            Self::MaxFailureShare => "max_failure_share",
        }
    }
}

/// One limit hit, and why, in a sentence.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LimitHit {
    pub limit: EnvelopeLimit,
    pub message: String,
}

impl LimitHit {
    fn new(limit: EnvelopeLimit, message: String) -> Self {
        Self { limit, message }
    }
}

/// The limits hit, as one text (what an error message shows).
pub fn limits_text(hits: &[LimitHit]) -> String {
    hits.iter()
        .map(|h| format!("{}: {}", h.limit.field(), h.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Where a plan stands against the envelope: which of its later steps an agent could take.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EnvelopeVerdict {
    /// No limit is hit by the plan itself (a step may still hit the daily count, the hours or
    /// the failure share when it is taken).
    pub within: bool,
    pub limits_hit: Vec<LimitHit>,
    pub policy: AgentPolicy,
}

/// The limits a previewed plan goes beyond whatever the moment: the kill switch, files not
/// qualified for their model, waves after the canary larger than the largest allowed.
pub fn plan_limits(policy: &AgentPolicy, preview: &RolloutPreview) -> EnvelopeVerdict {
    let mut hits = Vec::new();
    if policy.agents_stopped {
        hits.push(LimitHit::new(
            EnvelopeLimit::AgentsStopped,
            "the kill switch is on: agents may take no rollout step until a person turns it off"
                .to_owned(),
        ));
    }
    let unqualified: Vec<String> = preview
        .targets
        .iter()
        .filter(|t| !policy.is_qualified(&t.model, &t.file_id))
        .map(|t| format!("file {} for {}", t.file_id, t.model))
        .collect();
    if !unqualified.is_empty() {
        hits.push(LimitHit::new(
            EnvelopeLimit::Qualified,
            format!(
                "not qualified for agents: {} (a person qualifies a file in the app's Firmware view or with `rmm policy qualify`)",
                unqualified.join(", ")
            ),
        ));
    }
    if let Some(w) = preview
        .waves
        .iter()
        .skip(1)
        .find(|w| w.devices.len() > policy.largest_wave as usize)
    {
        hits.push(LimitHit::new(
            EnvelopeLimit::LargestWave,
            format!(
                "{} has {} devices; agents may start waves of at most {}",
                w.label,
                w.devices.len(),
                policy.largest_wave
            ),
        ));
    }
    EnvelopeVerdict {
        within: hits.is_empty(),
        limits_hit: hits,
        policy: policy.clone(),
    }
}

/// What a step would do, for `step_limits`.
#[derive(Debug, Clone)]
pub struct StepFacts<'a> {
    pub step: AgentStep,
    pub preview: &'a RolloutPreview,
    pub status: &'a RolloutStatus,
    /// Devices the step lets start (the next wave's, the current wave's pending, the failed).
    pub devices_starting: usize,
    /// Devices rollouts reserved in the last 24 hours.
    pub reserved_last_day: usize,
    pub now_ms: i64,
    /// The profile's time zone, minutes east of UTC.
    pub zone_minutes: i32,
}

/// Every limit the step goes beyond; empty when an agent may take it alone.
pub fn step_limits(policy: &AgentPolicy, facts: &StepFacts<'_>) -> Vec<LimitHit> {
    let mut hits = plan_limits(policy, facts.preview).limits_hit;
    // The wave sizes that matter now are the step's own.
    hits.retain(|h| h.limit != EnvelopeLimit::LargestWave);
    let largest = policy.largest_wave as usize;
    if facts.step != AgentStep::Resume && facts.devices_starting > largest {
        hits.push(LimitHit::new(
            EnvelopeLimit::LargestWave,
            format!(
                "this step starts {} devices; agents may start at most {largest} at once",
                facts.devices_starting
            ),
        ));
    }
    let per_day = policy.devices_per_day as usize;
    if facts.reserved_last_day + facts.devices_starting > per_day {
        hits.push(LimitHit::new(
            EnvelopeLimit::DevicesPerDay,
            format!(
                "{} devices were reserved in the last 24 hours and this step adds up to {}; agents may go to {per_day} a day",
                facts.reserved_last_day, facts.devices_starting
            ),
        ));
    }
    if let Some(at) = local(facts.now_ms, facts.zone_minutes) {
        let ranges: Vec<HourRange> = policy
            .hours
            .iter()
            .filter_map(|h| HourRange::parse(h))
            .collect();
        if !ranges.is_empty() && !ranges.iter().any(|r| r.contains(at.hour())) {
            hits.push(LimitHit::new(
                EnvelopeLimit::Hours,
                format!(
                    "it is {:02}:{:02} in the profile's time zone; agents may act in {}",
                    at.hour(),
                    at.minute(),
                    policy.hours.join(", ")
                ),
            ));
        }
        if policy
            .blackout_dates
            .iter()
            .filter_map(|d| parse_date(d))
            .any(|d| d == at.date())
        {
            hits.push(LimitHit::new(
                EnvelopeLimit::BlackoutDates,
                format!("{} is a blackout date for agents", at.date()),
            ));
        }
    }
    let c = &facts.status.counts;
    if facts.step != AgentStep::RetryFailed && c.finished() > 0 {
        let share = c.failing as f64 / c.finished() as f64;
        if share > policy.max_failure_share {
            hits.push(LimitHit::new(
                EnvelopeLimit::MaxFailureShare,
                format!(
                    "{} of {} finished devices are failing ({:.0}%); agents may go on only up to {:.0}%",
                    c.failing,
                    c.finished(),
                    100.0 * share,
                    100.0 * policy.max_failure_share
                ),
            ));
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_reports_every_broken_rule_with_its_field() {
        let policy = AgentPolicy {
            qualified: vec![QualifiedFirmware {
                model: " ".into(),
                file_id: "f".into(),
            }],
            devices_per_day: 0,
            largest_wave: 0,
            hours: vec!["8-8".into(), "9-17".into()],
            blackout_dates: vec!["2026-13-01".into()],
            max_failure_share: 1.5,
            agents_stopped: false,
        };
        let p = policy.validate();
        for field in [
            "qualified[0]",
            "devices_per_day",
            "largest_wave",
            "hours[0]",
            "blackout_dates[0]",
            "max_failure_share",
        ] {
            assert!(p.mentions(field), "{field}: {p}");
        }
        assert!(!p.mentions("hours[1]"), "{p}");
        assert!(AgentPolicy::default().validate().is_empty());
    }

    #[test]
    fn qualifying_is_per_model_and_once() {
        let mut policy = AgentPolicy::default();
        policy.qualify("MX-3071", "file-1");
        policy.qualify("mx-3071", "file-1");
        assert_eq!(policy.qualified.len(), 1);
        assert!(policy.is_qualified("MX-3071", "file-1"));
        assert!(!policy.is_qualified("MX-4071", "file-1"));
        assert!(policy.unqualify("MX-3071", "file-1"));
        assert!(!policy.is_qualified("MX-3071", "file-1"));
    }

    #[test]
    fn the_settings_file_form_reads_back_with_defaults() {
        let policy: AgentPolicy = toml::from_str(
            "largest_wave = 5\nqualified = [{model = \"MX-3071\", file_id = \"a\"}]",
        )
        .unwrap_or_default();
        assert_eq!(policy.largest_wave, 5);
        assert_eq!(policy.devices_per_day, 100);
        assert!(policy.is_qualified("MX-3071", "a"));
        assert!(toml::from_str::<AgentPolicy>("largest_wav = 5").is_err());
    }
}
