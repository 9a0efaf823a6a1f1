//! Phased firmware rollouts: the plan as data (`plan`), its time rules (`windows`), the
//! planner that turns a plan and the fleet into a previewed set of waves with a digest
//! (`planner`), the autonomy envelope that bounds what agents do alone (`envelope`), the store of rollouts in SQLite beside the audit log (`store`) and the engine
//! that drives them (`engine`). A rollout is started only with the digest of the preview a
//! person saw.

mod answers;
mod engine;
mod envelope;
mod plan;
mod planner;
mod store;
mod windows;

pub use answers::{
    RolloutAction, RolloutPlanAnswer, RolloutStartAnswer, RolloutStepAnswer, RolloutsAnswer,
    StartStatus,
};
pub use engine::{
    AbortReport, Counts, CrashHook, CrashPoint, GateNumbers, LEASE_MS, MAX_POLL_MS, MIN_POLL_MS,
    RolloutEngine, RolloutError, RolloutStatus, TickReport, WaveStatus, within_site_limit,
};
pub use envelope::{
    AgentPolicy, AgentStep, EnvelopeLimit, EnvelopeVerdict, LimitHit, QualifiedFirmware, StepFacts,
    limits_text, plan_limits, qualification_problems, qualify_staged, step_limits,
};
pub use store::{
    DeviceRecord, DeviceState, RolloutEvent, RolloutRecord, RolloutState, RolloutStore, StoreError,
};

pub use plan::{
    CanarySpec, DeviceSelector, Execution, ExistingReservations, Gates, HourRange, MAX_WAVES,
    OtaGuard, RolloutPlan, TargetFirmware, TimeZones, WaveSpec, Windows, parse_date, parse_day,
};
pub use planner::{
    ASSUMED_WAVE_MINUTES, Conflict, ConflictKind, PlanInputs, PlannedDevice, RolloutPreview,
    TargetView, WavePreview, preview_rollout, site_of, version_of_file,
};
pub use windows::{TimeRules, local_compact, local_text, ota_window, zone_text};
