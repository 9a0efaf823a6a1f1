//! `RolloutEngine`: drives a started rollout, one `tick` at a time, on top of the cloud's
//! primitives (reservations, their removal, OTA settings, the device list read back). Every
//! change goes through `FleetOperations`' preview/apply path and the audit log, as the rollout
//! acting for the one who started it. Each reservation is preceded by an intent in the store;
//! a runner that stopped between sending and recording leaves the intent open, and the next
//! tick settles it from the devices read back before anything is sent again. Success is the
//! target firmware read back, never a status. Gates, timeouts, retries, windows and the site
//! limit decide what happens next; a lease keeps a second runner out.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rmm_api::{ConnectionStatus, Device, OtaMode, UpdateStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::envelope::{AgentPolicy, AgentStep, LimitHit, StepFacts, step_limits};
use super::plan::{Gates, RolloutPlan};
use super::planner::{PlanInputs, RolloutPreview, preview_rollout};
use super::store::{
    DeviceChange, DeviceRecord, DeviceState, DeviceUpdate, RolloutEvent, RolloutRecord,
    RolloutState, RolloutStore, StoreError,
};
use super::windows::{TimeRules, local_compact, local_text};
use crate::caller::Caller;
use crate::change_requests::{
    CancelReservations, ChangeRequest, MAX_DEVICES_PER_CHANGE, ScheduleUpdate, SetOtaMode,
    parse_utc_offset,
};
use crate::fleet_operations::{Clock, FleetOperations};
use crate::operation_error::OperationError;
use crate::problems::Problems;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;
/// Shortest and longest wait between two ticks while a rollout runs.
pub const MIN_POLL_MS: i64 = 30_000;
pub const MAX_POLL_MS: i64 = 15 * MINUTE_MS;
/// How long a cycle's read of the group answers the previews of its reservations.
const KEPT_READ_MS: i64 = MINUTE_MS;
/// How long a runner's lease lasts without renewal.
pub const LEASE_MS: i64 = 2 * MINUTE_MS;

/// Why a rollout operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    #[error("{0}")]
    Invalid(Problems),
    #[error(
        "the preview changed since it was approved (digest {approved}, now {}); nothing was started. Review the new preview and start it with its digest",
        .preview.digest
    )]
    PreviewChanged {
        approved: String,
        preview: Box<RolloutPreview>,
    },
    #[error("no rollout {0} (see `rmm rollout list`)")]
    NotFound(i64),
    #[error(
        "rollout {id} is driven by {holder} until {}; wait, or stop that runner",
        crate::checked_change::utc_time_text(*.until_ms)
    )]
    LeaseHeld {
        id: i64,
        holder: String,
        until_ms: i64,
    },
    #[error("rollout {id} is {state}: {action} is not possible")]
    WrongState {
        id: i64,
        state: &'static str,
        action: &'static str,
    },
    /// An agent's step goes beyond the autonomy envelope a person set: every limit hit.
    #[error("outside the agents' limits, so a person must do it (in the app, or `rmm rollout`): {}", super::envelope::limits_text(.0))]
    OutsideEnvelope(Vec<LimitHit>),
    #[error(transparent)]
    Operation(#[from] OperationError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A test's crash point stopped the runner (as a killed process would).
    #[error("runner stopped at crash point {0:?}")]
    Crashed(CrashPoint),
}

impl From<Problems> for RolloutError {
    fn from(p: Problems) -> Self {
        Self::Invalid(p)
    }
}

/// Places where a test may stop the runner as if the process had been killed there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// The intent is written; nothing has been sent.
    AfterIntent,
    /// The reservation was sent; its answer is not recorded.
    AfterSend,
    /// A batch is recorded; more may follow in the same tick.
    AfterRecord,
    /// The read-back is recorded; nothing was decided yet.
    AfterReadBack,
}

/// Decides whether the runner stops at a point (tests only).
pub type CrashHook = Arc<dyn Fn(CrashPoint) -> bool + Send + Sync>;

/// Counts of a wave (or of the whole rollout).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Counts {
    pub total: usize,
    pub pending: usize,
    pub reserving: usize,
    pub reserved: usize,
    pub verified: usize,
    /// Out of retries.
    pub failed: usize,
    pub aborted: usize,
    /// Not verified and whose last attempt failed (what the failure gate counts).
    pub failing: usize,
}

impl Counts {
    fn add(&mut self, d: &DeviceRecord) {
        self.total += 1;
        match d.state {
            DeviceState::Pending => self.pending += 1,
            DeviceState::Reserving => self.reserving += 1,
            DeviceState::Reserved => self.reserved += 1,
            DeviceState::Verified => self.verified += 1,
            DeviceState::Failed => self.failed += 1,
            DeviceState::Aborted => self.aborted += 1,
        }
        if d.state != DeviceState::Verified && d.failed_attempts > 0 {
            self.failing += 1;
        }
    }

    /// Verified or failing: what the gates count as finished.
    pub fn finished(&self) -> usize {
        self.verified + self.failing
    }
}

/// A wave's gates and where its numbers stand: what `gates` decides on and `status` shows.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GateNumbers {
    /// Devices of the wave verified, and how many the success gate needs.
    pub verified: usize,
    pub verified_needed: usize,
    /// Verified or failing devices; the failure gate counts once this reaches `min_finished`.
    pub finished: usize,
    pub min_finished: usize,
    /// Failing devices; the failure gate pauses when they are above both limits.
    pub failing: usize,
    pub failure_share: f64,
    pub failure_count: usize,
}

impl GateNumbers {
    pub fn of(counts: &Counts, gates: &Gates) -> Self {
        let needed = (gates.success_share * counts.total as f64).ceil() as usize;
        Self {
            verified: counts.verified,
            verified_needed: needed.max(1).min(counts.total),
            finished: counts.finished(),
            min_finished: gates.min_finished.min(counts.total.max(1)),
            failing: counts.failing,
            failure_share: gates.failure_share,
            failure_count: gates.failure_count,
        }
    }

    pub fn success_passed(&self) -> bool {
        self.verified >= self.verified_needed
    }

    pub fn failure_tripped(&self) -> bool {
        self.finished >= self.min_finished
            && self.failing as f64 > self.failure_share * self.finished as f64
            && self.failing > self.failure_count
    }

    /// The gates' numbers in a line, for a person.
    pub fn text(&self) -> String {
        let failure = if self.finished < self.min_finished {
            format!(
                "failure gate counts once {} have finished ({} so far)",
                self.min_finished, self.finished
            )
        } else {
            format!(
                "{} failing of {} finished (pauses above {:.0}% and above {})",
                self.failing,
                self.finished,
                100.0 * self.failure_share,
                self.failure_count
            )
        };
        format!(
            "{} verified, {} needed to go on; {failure}",
            self.verified, self.verified_needed
        )
    }
}

/// One wave in a status.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WaveStatus {
    pub index: usize,
    pub label: String,
    pub counts: Counts,
    pub gate: GateNumbers,
}

/// A rollout as `status` shows it.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RolloutStatus {
    pub rollout: RolloutRecord,
    pub counts: Counts,
    pub waves: Vec<WaveStatus>,
    /// Whether a runner holds the lease now (a rollout nobody drives waits).
    pub driven: bool,
    /// What the status means, in one line.
    pub summary: String,
}

/// What one tick did and when the next one is due.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TickReport {
    pub state: RolloutState,
    pub reason: String,
    pub wave: usize,
    /// Reservations sent this tick (devices).
    pub reserved: usize,
    /// Devices newly verified this tick.
    pub verified: usize,
    /// Failed attempts seen this tick.
    pub failed: usize,
    /// When the next tick should run, Unix milliseconds.
    pub next_due_ms: i64,
}

/// What an abort did.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AbortReport {
    /// Reservations removed before they started executing.
    pub stopped: Vec<String>,
    /// Devices already updating: they could not be stopped.
    pub not_stoppable: Vec<String>,
    /// Devices that never got a reservation.
    pub never_started: usize,
}

/// The engine over one profile's operations and one rollout store.
#[derive(Clone)]
pub struct RolloutEngine {
    ops: FleetOperations,
    store: Arc<RolloutStore>,
    clock: Clock,
    holder: String,
    crash: Option<CrashHook>,
}

impl std::fmt::Debug for RolloutEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RolloutEngine")
            .field("store", &self.store.path())
            .field("holder", &self.holder)
            .finish_non_exhaustive()
    }
}

struct Batch {
    file_id: String,
    time_zone: String,
    execute_ms: i64,
    devices: Vec<String>,
}

fn site_key(d: &DeviceRecord) -> &str {
    &d.site
}

fn offset_of(zone: &str) -> i32 {
    parse_utc_offset(zone).map_or(0, |z| z.minutes())
}

fn ceil_minute(ms: i64) -> i64 {
    let rem = ms.rem_euclid(MINUTE_MS);
    if rem == 0 { ms } else { ms + MINUTE_MS - rem }
}

/// Of `candidates` (in order), those that may start now without a site going over `limit`
/// devices in flight; `in_flight` counts each site's devices reserving or reserved.
pub fn within_site_limit<'a>(
    candidates: impl IntoIterator<Item = &'a DeviceRecord>,
    in_flight: &HashMap<String, usize>,
    limit: Option<usize>,
) -> Vec<&'a DeviceRecord> {
    let mut counts = in_flight.clone();
    let mut out = Vec::new();
    for d in candidates {
        let n = counts.entry(site_key(d).to_owned()).or_insert(0);
        if limit.is_none_or(|k| *n < k) {
            *n += 1;
            out.push(d);
        }
    }
    out
}

impl RolloutEngine {
    /// `holder` names this runner in the lease ("rmm rollout run on host, pid 123").
    pub fn new(ops: FleetOperations, store: Arc<RolloutStore>, clock: Clock, holder: &str) -> Self {
        Self {
            // Each cycle reads the group once; its reservations are previewed from that read.
            ops: ops.with_group_reads_kept(KEPT_READ_MS),
            store,
            clock,
            holder: holder.to_owned(),
            crash: None,
        }
    }

    /// Stops the runner at the points the hook chooses (tests of crash safety).
    pub fn with_crash_hook(mut self, hook: CrashHook) -> Self {
        self.crash = Some(hook);
        self
    }

    pub fn store(&self) -> &RolloutStore {
        &self.store
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    fn crash_at(&self, point: CrashPoint) -> Result<(), RolloutError> {
        match &self.crash {
            Some(hook) if hook(point) => Err(RolloutError::Crashed(point)),
            _ => Ok(()),
        }
    }

    /// The preview of `plan` on the fleet as it is now. Changes nothing.
    pub async fn plan(&self, plan: &RolloutPlan) -> Result<RolloutPreview, RolloutError> {
        plan.validate().into_result()?;
        let (group, devices) = self.ops.group_devices(plan.group_id.as_deref()).await?;
        let files = self.ops.all_firmware_files(Some(&group)).await?;
        Ok(preview_rollout(PlanInputs {
            plan,
            group_id: &group,
            devices: &devices,
            files: &files,
            now_ms: self.now(),
        })?)
    }

    /// Starts `plan` if its preview, made again now, has the approved `digest`.
    pub async fn start(
        &self,
        plan: &RolloutPlan,
        digest: &str,
        caller: &Caller,
    ) -> Result<i64, RolloutError> {
        let preview = self.plan(plan).await?;
        if preview.digest != digest.trim() {
            return Err(RolloutError::PreviewChanged {
                approved: digest.trim().to_owned(),
                preview: Box::new(preview),
            });
        }
        if preview.total_devices == 0 {
            return Err(Problems::from_one(
                "plan",
                "selects no device that can be updated (see the preview's conflicts)",
            )
            .into());
        }
        let id = self.store.create(&preview, caller, self.now())?;
        tracing::info!(
            rollout = id,
            devices = preview.total_devices,
            "rollout started"
        );
        Ok(id)
    }

    fn record(&self, id: i64) -> Result<RolloutRecord, RolloutError> {
        self.store.rollout(id)?.ok_or(RolloutError::NotFound(id))
    }

    /// Counts per wave and for the whole rollout.
    pub fn status(&self, id: i64) -> Result<RolloutStatus, RolloutError> {
        let rollout = self.record(id)?;
        let preview = self.store.preview(id)?;
        let devices = self.store.devices(id)?;
        let mut counts = Counts::default();
        let mut waves: BTreeMap<usize, Counts> = BTreeMap::new();
        for d in &devices {
            counts.add(d);
            waves.entry(d.wave).or_default().add(d);
        }
        let label = |i: usize| {
            preview
                .as_ref()
                .and_then(|p| p.waves.get(i))
                .map_or_else(|| format!("retry wave {i}"), |w| w.label.clone())
        };
        let gates = preview
            .as_ref()
            .map(|p| p.plan.gates.clone())
            .unwrap_or_default();
        let driven = rollout.lease_holder.is_some() && rollout.lease_until_ms >= self.now();
        let summary = match rollout.state {
            RolloutState::Running if !driven => format!(
                "running, but nobody drives it: it waits (start `rmm rollout run {id}` or the app)"
            ),
            RolloutState::Running => format!(
                "running {} (driven by {})",
                label(rollout.wave),
                rollout.lease_holder.clone().unwrap_or_default()
            ),
            RolloutState::Paused => format!("paused: {}", rollout.reason),
            RolloutState::Finished => format!("finished: {}", rollout.reason),
            RolloutState::Aborted => format!("aborted: {}", rollout.reason),
        };
        Ok(RolloutStatus {
            waves: waves
                .into_iter()
                .map(|(index, counts)| WaveStatus {
                    index,
                    label: label(index),
                    gate: GateNumbers::of(&counts, &gates),
                    counts,
                })
                .collect(),
            rollout,
            counts,
            driven,
            summary,
        })
    }

    /// The rollout's history (`device`: only its events and the rollout's own).
    pub fn history(
        &self,
        id: i64,
        device: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RolloutEvent>, RolloutError> {
        self.record(id)?;
        Ok(self.store.events(id, device, limit)?)
    }

    fn set_state(
        &self,
        r: &RolloutRecord,
        state: RolloutState,
        reason: &str,
        event: (&str, &str),
    ) -> Result<(), RolloutError> {
        Ok(self.store.set_rollout(
            r.id,
            state,
            reason,
            r.wave,
            r.waves,
            r.wave_passed_ms,
            r.promote,
            Some(event),
            self.now(),
        )?)
    }

    /// Pauses a running rollout: nothing new is reserved; what runs is still followed.
    pub fn pause(&self, id: i64, caller: &Caller) -> Result<(), RolloutError> {
        let r = self.record(id)?;
        if r.state != RolloutState::Running {
            return Err(RolloutError::WrongState {
                id,
                state: r.state.as_str(),
                action: "pause",
            });
        }
        let why = format!("paused by {} {}", caller.kind(), caller.name());
        self.set_state(&r, RolloutState::Paused, &why, ("paused", &why))
    }

    /// Resumes a paused rollout (a gate's pause too: the person has looked).
    pub fn resume(&self, id: i64, caller: &Caller) -> Result<(), RolloutError> {
        let r = self.record(id)?;
        if r.state != RolloutState::Paused {
            return Err(RolloutError::WrongState {
                id,
                state: r.state.as_str(),
                action: "resume",
            });
        }
        let why = format!("resumed by {} {}", caller.kind(), caller.name());
        self.store.set_rollout(
            id,
            RolloutState::Running,
            "",
            r.wave,
            r.waves,
            r.wave_passed_ms,
            r.promote,
            Some(("resumed", &why)),
            self.now(),
        )?;
        Ok(())
    }

    /// Starts the next wave at the next tick, without waiting for the soak or a gate.
    pub fn promote(&self, id: i64, caller: &Caller) -> Result<(), RolloutError> {
        let r = self.record(id)?;
        if matches!(r.state, RolloutState::Finished | RolloutState::Aborted) {
            return Err(RolloutError::WrongState {
                id,
                state: r.state.as_str(),
                action: "promote",
            });
        }
        let why = format!("next wave promoted by {} {}", caller.kind(), caller.name());
        self.store.set_rollout(
            id,
            RolloutState::Running,
            "",
            r.wave,
            r.waves,
            r.wave_passed_ms,
            true,
            Some(("promoted", &why)),
            self.now(),
        )?;
        Ok(())
    }

    /// Failed devices only, as a new wave; the rollout runs again.
    pub fn retry_failed(&self, id: i64, caller: &Caller) -> Result<usize, RolloutError> {
        let r = self.record(id)?;
        if r.state == RolloutState::Aborted {
            return Err(RolloutError::WrongState {
                id,
                state: r.state.as_str(),
                action: "retry",
            });
        }
        let failed: Vec<DeviceRecord> = self
            .store
            .devices(id)?
            .into_iter()
            .filter(|d| d.state == DeviceState::Failed)
            .collect();
        if failed.is_empty() {
            return Ok(0);
        }
        let wave = r.waves;
        let now = self.now();
        let updates: Vec<_> = failed
            .iter()
            .map(|d| {
                (
                    d.device_id.clone(),
                    DeviceUpdate {
                        state: Some(DeviceState::Pending),
                        failed_attempts: Some(0),
                        not_before_ms: Some(0),
                        wave: Some(wave),
                        ..DeviceUpdate::default()
                    },
                    Some(("retry".to_owned(), format!("in retry wave {wave}"))),
                )
            })
            .collect();
        self.store.update_devices(id, &updates, now)?;
        let why = format!(
            "{} failed devices retried as wave {wave} by {} {}",
            failed.len(),
            caller.kind(),
            caller.name()
        );
        self.store.set_rollout(
            id,
            RolloutState::Running,
            "",
            wave,
            wave + 1,
            None,
            false,
            Some(("retry", &why)),
            now,
        )?;
        Ok(failed.len())
    }

    /// Takes a later step of a started rollout for an agent, if it is inside `policy` (the
    /// autonomy envelope); else refuses it with every limit it hits, and changes nothing.
    pub fn agent_step(
        &self,
        id: i64,
        step: AgentStep,
        caller: &Caller,
        policy: &AgentPolicy,
    ) -> Result<usize, RolloutError> {
        let status = self.status(id)?;
        let preview = self.store.preview(id)?.ok_or(RolloutError::NotFound(id))?;
        let r = &status.rollout;
        let devices = self.store.devices(id)?;
        let pending_in = |wave: usize| {
            devices
                .iter()
                .filter(|d| d.wave == wave && d.state == DeviceState::Pending)
                .count()
        };
        let devices_starting = match step {
            AgentStep::Promote => pending_in(r.wave + 1),
            AgentStep::Resume => pending_in(r.wave),
            AgentStep::RetryFailed => status.counts.failed,
        };
        let now = self.now();
        let zone_minutes = offset_of(&self.ops.schedule_time_zone());
        let hits = step_limits(
            policy,
            &StepFacts {
                step,
                preview: &preview,
                status: &status,
                devices_starting,
                reserved_last_day: self.store.reserved_since(now - DAY_MS)?,
                now_ms: now,
                zone_minutes,
            },
        );
        if !hits.is_empty() {
            tracing::info!(
                rollout = id,
                step = step.as_str(),
                limits = hits.len(),
                "agent step refused: outside the envelope"
            );
            let why = format!(
                "{} by {} {} refused: {}",
                step.as_str(),
                caller.kind(),
                caller.name(),
                super::envelope::limits_text(&hits)
            );
            self.store.event(id, None, "agent_refused", &why, now)?;
            return Err(RolloutError::OutsideEnvelope(hits));
        }
        match step {
            AgentStep::Promote => self.promote(id, caller).map(|()| devices_starting),
            AgentStep::Resume => self.resume(id, caller).map(|()| devices_starting),
            AgentStep::RetryFailed => self.retry_failed(id, caller),
        }
    }

    /// The kill switch's action: pauses every running rollout an agent started; their ids.
    pub fn pause_agent_rollouts(&self, caller: &Caller) -> Result<Vec<i64>, RolloutError> {
        let mut paused = Vec::new();
        for r in self.store.rollouts()? {
            if r.state == RolloutState::Running && matches!(r.started_by, Caller::McpClient { .. })
            {
                let why = format!(
                    "stopped by {} {} with the agents' kill switch",
                    caller.kind(),
                    caller.name()
                );
                self.set_state(&r, RolloutState::Paused, &why, ("paused", &why))?;
                paused.push(r.id);
            }
        }
        Ok(paused)
    }

    fn acting_as(&self, r: &RolloutRecord) -> Caller {
        Caller::Rollout {
            rollout_id: r.id,
            rollout: r.name.clone(),
            started_by: format!("{} {}", r.started_by.kind(), r.started_by.name()),
        }
    }

    /// A change through the one preview/apply path, recorded in the audit log.
    async fn change(
        &self,
        request: ChangeRequest,
        caller: &Caller,
    ) -> Result<Option<bool>, OperationError> {
        let change = self.ops.check(&request)?;
        let preview = self.ops.preview(&change).await?;
        let result = self.ops.apply(&change, &preview.digest, caller).await?;
        Ok(result.took_effect)
    }

    async fn cancel(&self, r: &RolloutRecord, ids: Vec<String>) -> Result<(), OperationError> {
        let caller = self.acting_as(r);
        for chunk in ids.chunks(MAX_DEVICES_PER_CHANGE) {
            self.change(
                ChangeRequest::CancelScheduledUpdate(CancelReservations {
                    device_ids: chunk.to_vec(),
                    group_id: Some(r.group_id.clone()),
                }),
                &caller,
            )
            .await?;
        }
        Ok(())
    }

    /// Sets OTA on devices grouped by window; `ids_by_window`: (start, end) → devices.
    async fn set_ota(
        &self,
        r: &RolloutRecord,
        mode: &str,
        ids_by_window: BTreeMap<(i64, i64), Vec<String>>,
    ) -> Result<Vec<String>, OperationError> {
        let caller = self.acting_as(r);
        let mut done = Vec::new();
        for ((start, end), ids) in ids_by_window {
            for chunk in ids.chunks(MAX_DEVICES_PER_CHANGE) {
                let took = self
                    .change(
                        ChangeRequest::ConfigureOtaMode(SetOtaMode {
                            device_ids: chunk.to_vec(),
                            ota_mode: mode.to_owned(),
                            start_hour: start,
                            end_hour: end,
                            group_id: Some(r.group_id.clone()),
                        }),
                        &caller,
                    )
                    .await?;
                if took != Some(false) {
                    done.extend_from_slice(chunk);
                }
            }
        }
        Ok(done)
    }

    /// Aborts: removes the reservations of devices that have not started executing; devices
    /// already updating are named as not stoppable; OTA settings are restored.
    pub async fn abort(&self, id: i64, caller: &Caller) -> Result<AbortReport, RolloutError> {
        let r = self.record(id)?;
        if matches!(r.state, RolloutState::Finished | RolloutState::Aborted) {
            return Err(RolloutError::WrongState {
                id,
                state: r.state.as_str(),
                action: "abort",
            });
        }
        self.lease(&r)?;
        let (_, fleet) = self.ops.group_devices(Some(&r.group_id)).await?;
        let by_id: HashMap<String, &Device> =
            fleet.iter().map(|d| (d.device_id.to_string(), d)).collect();
        let devices = self.store.devices(id)?;
        let mut stop = Vec::new();
        let mut not_stoppable = Vec::new();
        let mut never_started = 0;
        let mut updates = Vec::new();
        for d in &devices {
            match d.state {
                DeviceState::Pending => {
                    never_started += 1;
                    updates.push((
                        d.device_id.clone(),
                        DeviceUpdate {
                            state: Some(DeviceState::Aborted),
                            ..DeviceUpdate::default()
                        },
                        Some(("aborted".to_owned(), "never started".to_owned())),
                    ));
                }
                DeviceState::Reserving | DeviceState::Reserved => {
                    let status = by_id.get(&d.device_id).map(|x| x.update_status.clone());
                    if status == Some(UpdateStatus::Updating) {
                        not_stoppable.push(d.device_id.clone());
                    } else if by_id
                        .get(&d.device_id)
                        .is_some_and(|x| x.reservation.is_some())
                    {
                        stop.push(d.device_id.clone());
                    } else {
                        never_started += 1;
                        updates.push((
                            d.device_id.clone(),
                            DeviceUpdate {
                                state: Some(DeviceState::Aborted),
                                intent_id: Some(None),
                                ..DeviceUpdate::default()
                            },
                            Some(("aborted".to_owned(), "no reservation held".to_owned())),
                        ));
                    }
                }
                _ => {}
            }
        }
        self.store.update_devices(id, &updates, self.now())?;
        if !stop.is_empty() {
            self.cancel(&r, stop.clone()).await?;
            let updates: Vec<_> = stop
                .iter()
                .map(|device| {
                    (
                        device.clone(),
                        DeviceUpdate {
                            state: Some(DeviceState::Aborted),
                            intent_id: Some(None),
                            ..DeviceUpdate::default()
                        },
                        Some((
                            "aborted".to_owned(),
                            "reservation removed before it ran".to_owned(),
                        )),
                    )
                })
                .collect();
            self.store.update_devices(id, &updates, self.now())?;
        }
        for intent in self.store.open_intents(id)? {
            self.store.close_intent(id, intent.id, &[], self.now())?;
        }
        self.restore_ota(&r, &fleet).await?;
        let why = format!(
            "aborted by {} {}: {} reservations removed, {} already updating could not be stopped{}",
            caller.kind(),
            caller.name(),
            stop.len(),
            not_stoppable.len(),
            if not_stoppable.is_empty() {
                String::new()
            } else {
                format!(" ({})", not_stoppable.join(", "))
            }
        );
        let r = self.record(id)?;
        self.set_state(&r, RolloutState::Aborted, &why, ("aborted", &why))?;
        let _ = self.store.release_lease(id, &self.holder);
        Ok(AbortReport {
            stopped: stop,
            not_stoppable,
            never_started,
        })
    }

    fn lease(&self, r: &RolloutRecord) -> Result<(), RolloutError> {
        let now = self.now();
        match self
            .store
            .acquire_lease(r.id, &self.holder, now, now + LEASE_MS)?
        {
            Ok(()) => Ok(()),
            Err((holder, until_ms)) => Err(RolloutError::LeaseHeld {
                id: r.id,
                holder,
                until_ms,
            }),
        }
    }

    /// Renews this runner's lease (a runner waiting between cycles keeps it).
    pub fn renew_lease(&self, id: i64) -> Result<(), RolloutError> {
        let r = self.record(id)?;
        self.lease(&r)
    }

    /// Gives up the lease (the runner stops cleanly).
    pub fn release(&self, id: i64) -> Result<(), RolloutError> {
        Ok(self.store.release_lease(id, &self.holder)?)
    }

    async fn restore_ota(&self, r: &RolloutRecord, fleet: &[Device]) -> Result<(), RolloutError> {
        let by_id: HashMap<String, &Device> =
            fleet.iter().map(|d| (d.device_id.to_string(), d)).collect();
        let held: Vec<DeviceRecord> = self
            .store
            .devices(r.id)?
            .into_iter()
            .filter(|d| d.ota_held)
            .collect();
        let mut windows: BTreeMap<(i64, i64), Vec<String>> = BTreeMap::new();
        let mut already = Vec::new();
        for d in &held {
            if by_id
                .get(&d.device_id)
                .is_some_and(|x| x.ota_mode == OtaMode::Auto)
            {
                already.push(d.device_id.clone());
                continue;
            }
            windows
                .entry((
                    i64::from(d.ota_start.unwrap_or(-1)),
                    i64::from(d.ota_end.unwrap_or(-1)),
                ))
                .or_default()
                .push(d.device_id.clone());
        }
        let mut done = self.set_ota(r, "auto", windows).await?;
        done.extend(already);
        let updates: Vec<_> = done
            .into_iter()
            .map(|device| {
                (
                    device,
                    DeviceUpdate {
                        ota_held: Some(false),
                        ..DeviceUpdate::default()
                    },
                    Some((
                        "ota_restored".to_owned(),
                        "OTA mode auto restored".to_owned(),
                    )),
                )
            })
            .collect();
        self.store.update_devices(r.id, &updates, self.now())?;
        Ok(())
    }

    /// One cycle: take the lease, read the rollout's devices back once, settle open intents,
    /// judge progress (verified, failed, timed out), apply the gates, hold OTA, reserve what
    /// is due within windows and site limits. Returns when the next cycle is due.
    pub async fn tick(&self, id: i64) -> Result<TickReport, RolloutError> {
        let r = self.record(id)?;
        let now = self.now();
        if matches!(r.state, RolloutState::Finished | RolloutState::Aborted) {
            return Ok(TickReport {
                state: r.state,
                reason: r.reason.clone(),
                wave: r.wave,
                reserved: 0,
                verified: 0,
                failed: 0,
                next_due_ms: now + MAX_POLL_MS,
            });
        }
        self.lease(&r)?;
        let preview = self.store.preview(id)?.ok_or(RolloutError::NotFound(id))?;
        let plan = &preview.plan;
        let (_, fleet) = self.ops.group_devices(Some(&r.group_id)).await?;
        let by_id: HashMap<String, &Device> =
            fleet.iter().map(|d| (d.device_id.to_string(), d)).collect();

        // 1. Open intents: the read-back tells whether the reservation reached each device.
        for intent in self.store.open_intents(id)? {
            let mut updates = Vec::new();
            for device in &intent.device_ids {
                let seen = by_id.get(device);
                let reached = seen.is_some_and(|d| {
                    d.reservation
                        .as_ref()
                        .is_some_and(|res| res.file_id == intent.file_id)
                        || !matches!(d.update_status, UpdateStatus::None)
                });
                let update = if reached {
                    DeviceUpdate {
                        state: Some(DeviceState::Reserved),
                        last_progress_ms: Some(now),
                        intent_id: Some(None),
                        ..DeviceUpdate::default()
                    }
                } else {
                    DeviceUpdate {
                        state: Some(DeviceState::Pending),
                        intent_id: Some(None),
                        ..DeviceUpdate::default()
                    }
                };
                let detail = if reached {
                    "an interrupted reservation was found on the device: not sent again"
                } else {
                    "an interrupted reservation did not reach the device: it will be sent"
                };
                updates.push((
                    device.clone(),
                    update,
                    Some(("reconciled".to_owned(), detail.to_owned())),
                ));
            }
            self.store.close_intent(id, intent.id, &updates, now)?;
        }

        // 2. Progress of every device under way.
        let devices = self.store.devices(id)?;
        let timeout_ms = i64::from(plan.execution.device_timeout_minutes) * MINUTE_MS;
        let mut updates = Vec::new();
        let mut to_cancel = Vec::new();
        let (mut newly_verified, mut newly_failed) = (0, 0);
        for d in devices.iter().filter(|d| d.state == DeviceState::Reserved) {
            let Some(seen) = by_id.get(&d.device_id) else {
                newly_failed += 1;
                updates.push(self.failed_attempt(
                    plan,
                    d,
                    "the device is no longer in the group",
                    now,
                ));
                continue;
            };
            let status = seen.update_status.to_string();
            if seen.firmware_version == d.target_version
                && seen.latest_firmware_version.trim() != d.target_version
            {
                newly_verified += 1;
                updates.push((
                    d.device_id.clone(),
                    DeviceUpdate {
                        state: Some(DeviceState::Verified),
                        last_status: Some(status),
                        detail: Some(format!("firmware {} read back", seen.firmware_version)),
                        ..DeviceUpdate::default()
                    },
                    Some((
                        "verified".to_owned(),
                        format!("firmware {} read back", seen.firmware_version),
                    )),
                ));
                continue;
            }
            let why = match seen.update_status {
                UpdateStatus::Completed => Some(format!(
                    "the cloud says completed but the firmware read back is still {}, not {}",
                    seen.firmware_version, d.target_version
                )),
                UpdateStatus::Failed => Some(format!(
                    "the update failed (status failed, firmware {})",
                    seen.firmware_version
                )),
                UpdateStatus::None if seen.reservation.is_none() => Some(format!(
                    "the reservation is gone and the firmware is still {}",
                    seen.firmware_version
                )),
                _ => None,
            };
            if let Some(why) = why {
                newly_failed += 1;
                updates.push(self.failed_attempt(plan, d, &why, now));
                continue;
            }
            let progressed = status != d.last_status;
            let last = if progressed { now } else { d.last_progress_ms };
            let deadline = last.max(d.execute_ms.unwrap_or(last)) + timeout_ms;
            if now > deadline {
                newly_failed += 1;
                let offline = if seen.connection_status == ConnectionStatus::Offline {
                    ", offline"
                } else {
                    ""
                };
                updates.push(self.failed_attempt(
                    plan,
                    d,
                    &format!(
                        "no progress for {} minutes (status {status}{offline})",
                        plan.execution.device_timeout_minutes
                    ),
                    now,
                ));
                if seen.reservation.is_some() {
                    to_cancel.push(d.device_id.clone());
                }
            } else if progressed {
                updates.push((
                    d.device_id.clone(),
                    DeviceUpdate {
                        last_status: Some(status.clone()),
                        last_progress_ms: Some(now),
                        ..DeviceUpdate::default()
                    },
                    Some(("progress".to_owned(), status)),
                ));
            }
        }
        // OTA guard: a device already in confirmation is held (a runner stopped after sending).
        for d in devices.iter().filter(|d| d.ota_auto && !d.ota_held) {
            if by_id
                .get(&d.device_id)
                .is_some_and(|x| x.ota_mode == OtaMode::Confirmation)
            {
                updates.push((
                    d.device_id.clone(),
                    DeviceUpdate {
                        ota_held: Some(true),
                        ..DeviceUpdate::default()
                    },
                    None,
                ));
            }
        }
        self.store.update_devices(id, &updates, now)?;
        self.crash_at(CrashPoint::AfterReadBack)?;
        if !to_cancel.is_empty() {
            self.cancel(&r, to_cancel).await?;
        }

        // 3. Gates.
        let r = self.record(id)?;
        let devices = self.store.devices(id)?;
        let mut report = TickReport {
            state: r.state,
            reason: r.reason.clone(),
            wave: r.wave,
            reserved: 0,
            verified: newly_verified,
            failed: newly_failed,
            next_due_ms: now + MIN_POLL_MS,
        };
        let r = self.gates(r, &preview, &devices, now).await?;
        report.state = r.state;
        report.reason = r.reason.clone();
        report.wave = r.wave;
        if r.state != RolloutState::Running {
            report.next_due_ms = self.next_due(&r, &preview, &devices, now);
            return Ok(report);
        }

        // 4. OTA guard for every device still to update.
        if plan.ota_guard.enabled {
            let mut windows: BTreeMap<(i64, i64), Vec<String>> = BTreeMap::new();
            for d in devices
                .iter()
                .filter(|d| d.ota_auto && !d.ota_held && !d.state.is_final())
            {
                windows
                    .entry((
                        i64::from(d.ota_start.unwrap_or(-1)),
                        i64::from(d.ota_end.unwrap_or(-1)),
                    ))
                    .or_default()
                    .push(d.device_id.clone());
            }
            if !windows.is_empty() {
                let held = self.set_ota(&r, "confirmation", windows).await?;
                let updates: Vec<_> = held
                    .into_iter()
                    .map(|device| {
                        (
                            device,
                            DeviceUpdate {
                                ota_held: Some(true),
                                ..DeviceUpdate::default()
                            },
                            Some((
                                "ota_held".to_owned(),
                                "OTA auto held in confirmation for the rollout".to_owned(),
                            )),
                        )
                    })
                    .collect();
                self.store.update_devices(id, &updates, self.now())?;
            }
        }

        // 5. Reserve what is due: the current wave and any earlier wave's retries.
        report.reserved = self.dispatch(&r, plan, &devices, &by_id, now).await?;
        let devices = self.store.devices(id)?;
        report.next_due_ms = self.next_due(&r, &preview, &devices, now);
        Ok(report)
    }

    fn failed_attempt(
        &self,
        plan: &RolloutPlan,
        d: &DeviceRecord,
        why: &str,
        now: i64,
    ) -> DeviceChange {
        let failed = d.failed_attempts + 1;
        if failed <= plan.execution.retries {
            let backoff = i64::from(plan.execution.retry_backoff_minutes)
                * MINUTE_MS
                * (1i64 << (failed - 1).min(20));
            (
                d.device_id.clone(),
                DeviceUpdate {
                    state: Some(DeviceState::Pending),
                    failed_attempts: Some(failed),
                    not_before_ms: Some(now + backoff),
                    detail: Some(why.to_owned()),
                    ..DeviceUpdate::default()
                },
                Some((
                    "attempt_failed".to_owned(),
                    format!(
                        "{why}; retry {failed} of {} in {} minutes",
                        plan.execution.retries,
                        backoff / MINUTE_MS
                    ),
                )),
            )
        } else {
            (
                d.device_id.clone(),
                DeviceUpdate {
                    state: Some(DeviceState::Failed),
                    failed_attempts: Some(failed),
                    detail: Some(why.to_owned()),
                    ..DeviceUpdate::default()
                },
                Some(("failed".to_owned(), format!("{why}; no retry left"))),
            )
        }
    }

    /// Success and failure gates of the current wave; moves to the next wave, pauses or
    /// finishes. Returns the rollout as it is after.
    async fn gates(
        &self,
        r: RolloutRecord,
        preview: &RolloutPreview,
        devices: &[DeviceRecord],
        now: i64,
    ) -> Result<RolloutRecord, RolloutError> {
        let plan = &preview.plan;
        let gates = &plan.gates;
        let mut r = r;
        loop {
            if r.state != RolloutState::Running && r.state != RolloutState::Paused {
                return Ok(r);
            }
            let wave: Vec<&DeviceRecord> = devices.iter().filter(|d| d.wave == r.wave).collect();
            let mut counts = Counts::default();
            wave.iter().for_each(|d| counts.add(d));
            let label = preview
                .waves
                .get(r.wave)
                .map_or_else(|| format!("retry wave {}", r.wave), |w| w.label.clone());
            if r.wave >= r.waves {
                // Every wave passed: finished once nothing is under way.
                if devices.iter().all(|d| d.state.is_final()) {
                    let (_, fleet) = self.ops.group_devices(Some(&r.group_id)).await?;
                    self.restore_ota(&r, &fleet).await?;
                    let mut all = Counts::default();
                    devices.iter().for_each(|d| all.add(d));
                    let why = format!(
                        "{} of {} devices verified on the target firmware, {} failed",
                        all.verified, all.total, all.failed
                    );
                    self.set_state(&r, RolloutState::Finished, &why, ("finished", &why))?;
                    let _ = self.store.release_lease(r.id, &self.holder);
                    return self.record(r.id);
                }
                return Ok(r);
            }
            if r.state == RolloutState::Paused {
                return Ok(r);
            }
            let numbers = GateNumbers::of(&counts, gates);
            if numbers.failure_tripped() {
                let why = failure_reason(&label, &counts, gates, preview, &wave);
                self.set_state(&r, RolloutState::Paused, &why, ("paused_by_gate", &why))?;
                return self.record(r.id);
            }
            // The same gate per target (model × file): a bad file for one model is a small
            // share of a canary that covers every model, but all of that model's devices.
            if let Some(why) = target_failure(&label, &counts, gates, preview, &wave) {
                self.set_state(&r, RolloutState::Paused, &why, ("paused_by_gate", &why))?;
                return self.record(r.id);
            }
            if !numbers.success_passed() {
                if wave.iter().all(|d| d.state.is_final()) {
                    let why = format!(
                        "success gate: {label}: {} of {} verified ({:.1}% < {:.1}%), {} failed",
                        counts.verified,
                        counts.total,
                        100.0 * counts.verified as f64 / counts.total.max(1) as f64,
                        100.0 * gates.success_share,
                        counts.failed
                    );
                    self.set_state(&r, RolloutState::Paused, &why, ("paused_by_gate", &why))?;
                    return self.record(r.id);
                }
                if r.promote {
                    return self.next_wave(r, &label, "promoted", now);
                }
                return Ok(r);
            }
            let passed_at = match r.wave_passed_ms {
                Some(at) => at,
                None => {
                    let why = format!(
                        "{label} passed its success gate: {} of {} verified",
                        counts.verified, counts.total
                    );
                    self.store.set_rollout(
                        r.id,
                        r.state,
                        "",
                        r.wave,
                        r.waves,
                        Some(now),
                        r.promote,
                        Some(("wave_passed", &why)),
                        now,
                    )?;
                    r = self.record(r.id)?;
                    now
                }
            };
            let soak = preview
                .waves
                .get(r.wave)
                .map_or(0, |w| i64::from(w.soak_minutes))
                * MINUTE_MS;
            let last_wave = r.wave + 1 >= r.waves;
            if r.promote || last_wave || now >= passed_at + soak {
                if !r.promote && !last_wave && gates.pause_after_each_wave {
                    let why = format!(
                        "{label} passed ({} of {} verified) and soaked; waiting for a person to promote the next wave",
                        counts.verified, counts.total
                    );
                    self.set_state(
                        &r,
                        RolloutState::Paused,
                        &why,
                        ("waiting_for_promote", &why),
                    )?;
                    return self.record(r.id);
                }
                r = self.next_wave(r, &label, "passed", now)?;
                continue;
            }
            return Ok(r);
        }
    }

    fn next_wave(
        &self,
        r: RolloutRecord,
        label: &str,
        how: &str,
        now: i64,
    ) -> Result<RolloutRecord, RolloutError> {
        let why = format!("{label} {how}: wave {} starts", r.wave + 1);
        self.store.set_rollout(
            r.id,
            RolloutState::Running,
            "",
            r.wave + 1,
            r.waves,
            None,
            false,
            Some(("next_wave", &why)),
            now,
        )?;
        self.record(r.id)
    }

    async fn dispatch(
        &self,
        r: &RolloutRecord,
        plan: &RolloutPlan,
        devices: &[DeviceRecord],
        by_id: &HashMap<String, &Device>,
        now: i64,
    ) -> Result<usize, RolloutError> {
        let rules = TimeRules::from_plan(&plan.windows);
        let lead = i64::from(plan.execution.transfer_lead_minutes) * MINUTE_MS;
        let mut in_flight: HashMap<String, usize> = HashMap::new();
        for d in devices
            .iter()
            .filter(|d| matches!(d.state, DeviceState::Reserving | DeviceState::Reserved))
        {
            *in_flight.entry(d.site.clone()).or_insert(0) += 1;
        }
        // Offline devices are reserved too: the reservation waits until they are back, and
        // the per-device timeout ends the wait.
        let due = devices.iter().filter(|d| {
            d.state == DeviceState::Pending
                && d.wave <= r.wave
                && d.not_before_ms <= now
                && by_id.contains_key(&d.device_id)
        });
        let chosen = within_site_limit(due, &in_flight, plan.windows.site_limit);
        let earliest = ceil_minute(now + lead.max(2 * MINUTE_MS));
        let mut batches: BTreeMap<(String, String, i64), Batch> = BTreeMap::new();
        for d in chosen {
            let offset = offset_of(&d.time_zone);
            let ota = match (d.ota_start, d.ota_end) {
                (Some(s), Some(e)) => super::windows::ota_window(Some(s), Some(e)),
                _ => None,
            };
            let Some(slot) = rules.next_allowed(earliest, offset, ota) else {
                continue;
            };
            // Reserve only when the slot is near: a far slot keeps the site's turn free.
            if slot > now + MAX_POLL_MS + lead {
                continue;
            }
            let key = (d.file_id.clone(), d.time_zone.clone(), slot);
            batches
                .entry(key)
                .or_insert_with(|| Batch {
                    file_id: d.file_id.clone(),
                    time_zone: d.time_zone.clone(),
                    execute_ms: slot,
                    devices: Vec::new(),
                })
                .devices
                .push(d.device_id.clone());
        }
        let caller = self.acting_as(r);
        let mut sent = 0;
        for batch in batches.into_values() {
            for chunk in batch.devices.chunks(MAX_DEVICES_PER_CHANGE) {
                let now = self.now();
                let offset = offset_of(&batch.time_zone);
                let transfer = (batch.execute_ms - lead).max(now + MINUTE_MS);
                let request = ChangeRequest::ScheduleFirmwareUpdate(ScheduleUpdate {
                    device_ids: chunk.to_vec(),
                    firmware_file_id: batch.file_id.clone(),
                    transfer_datetime: transfer,
                    execute_datetime: local_compact(batch.execute_ms, offset),
                    timezone: batch.time_zone.clone(),
                    group_id: Some(r.group_id.clone()),
                    // The plan chose each model's file by fit.
                    allow_other_model: false,
                });
                let intent = self
                    .store
                    .open_intent(r.id, "reserve", &batch.file_id, chunk, now)?;
                self.crash_at(CrashPoint::AfterIntent)?;
                let outcome = self.change(request, &caller).await;
                self.crash_at(CrashPoint::AfterSend)?;
                let when = local_text(batch.execute_ms, offset);
                let updates: Vec<_> = match &outcome {
                    Ok(Some(false))
                    | Err(OperationError::Invalid(_))
                    | Err(OperationError::PreviewChanged(_)) => {
                        // Known not sent or not applied: back to pending, tried again later.
                        let why = match &outcome {
                            Err(e) => e.to_string(),
                            _ => "the cloud did not apply the reservation".to_owned(),
                        };
                        tracing::warn!(rollout = r.id, %why, "reservation not made");
                        chunk
                            .iter()
                            .map(|device| {
                                (
                                    device.clone(),
                                    DeviceUpdate {
                                        state: Some(DeviceState::Pending),
                                        intent_id: Some(None),
                                        not_before_ms: Some(now + MIN_POLL_MS),
                                        detail: Some(why.clone()),
                                        ..DeviceUpdate::default()
                                    },
                                    Some(("reserve_refused".to_owned(), why.clone())),
                                )
                            })
                            .collect()
                    }
                    Ok(Some(true)) => chunk
                        .iter()
                        .map(|device| {
                            let attempts = devices
                                .iter()
                                .find(|d| &d.device_id == device)
                                .map_or(1, |d| d.attempts + 1);
                            (
                                device.clone(),
                                DeviceUpdate {
                                    state: Some(DeviceState::Reserved),
                                    attempts: Some(attempts),
                                    execute_ms: Some(Some(batch.execute_ms)),
                                    last_status: Some("reserved".to_owned()),
                                    last_progress_ms: Some(now),
                                    intent_id: Some(None),
                                    ..DeviceUpdate::default()
                                },
                                Some((
                                    "reserved".to_owned(),
                                    format!("file {} to run at {when}", batch.file_id),
                                )),
                            )
                        })
                        .collect(),
                    // Unclear (answer lost, partial): the intent stays open; the next tick reads back.
                    Ok(None) | Err(_) => {
                        tracing::warn!(
                            rollout = r.id,
                            "reservation outcome unclear: read back next tick"
                        );
                        continue;
                    }
                };
                self.store
                    .close_intent(r.id, intent, &updates, self.now())?;
                if matches!(outcome, Ok(Some(true))) {
                    sent += chunk.len();
                    // Keep the execute time for devices settled later by read-back too.
                }
                self.crash_at(CrashPoint::AfterRecord)?;
            }
        }
        Ok(sent)
    }

    /// When something can next change: a backoff ending, a window opening, a soak ending, an
    /// update finishing. At least `MIN_POLL_MS` away; at most `MAX_POLL_MS` while updates are
    /// under way, else up to a day (nothing can change before the next window).
    fn next_due(
        &self,
        r: &RolloutRecord,
        preview: &RolloutPreview,
        devices: &[DeviceRecord],
        now: i64,
    ) -> i64 {
        let plan = &preview.plan;
        let rules = TimeRules::from_plan(&plan.windows);
        let lead = i64::from(plan.execution.transfer_lead_minutes) * MINUTE_MS;
        let earliest = ceil_minute(now + lead.max(2 * MINUTE_MS));
        let mut due = now + 24 * 60 * MINUTE_MS;
        let mut in_flight = false;
        let mut executing = false;
        let mut latest_progress = 0;
        let timeout = i64::from(plan.execution.device_timeout_minutes) * MINUTE_MS;
        let mut slots: HashMap<(String, Option<i32>, Option<i32>), Option<i64>> = HashMap::new();
        for d in devices {
            match d.state {
                DeviceState::Pending if d.wave <= r.wave => {
                    if d.not_before_ms > now {
                        due = due.min(d.not_before_ms);
                        continue;
                    }
                    let slot = *slots
                        .entry((d.time_zone.clone(), d.ota_start, d.ota_end))
                        .or_insert_with(|| {
                            rules.next_allowed(
                                earliest,
                                offset_of(&d.time_zone),
                                super::windows::ota_window(d.ota_start, d.ota_end),
                            )
                        });
                    if let Some(slot) = slot {
                        due = due.min(slot - lead - MAX_POLL_MS);
                    }
                }
                DeviceState::Reserved | DeviceState::Reserving => {
                    in_flight = true;
                    latest_progress = latest_progress.max(d.last_progress_ms);
                    let at = d.execute_ms.unwrap_or(now);
                    if at > now {
                        due = due.min(at);
                    } else {
                        // Updates take minutes: look again soon after the execute time, and at
                        // the latest when the device's no-progress timeout would end.
                        executing = true;
                        due = due.min(d.last_progress_ms.max(at) + timeout + MINUTE_MS);
                    }
                }
                _ => {}
            }
        }
        if executing {
            // Back off while nothing moves: half the time since the last progress seen, from
            // two minutes up to the longest poll. A quiet wave waiting out a stuck device's
            // timeout is then read a dozen times, not every two minutes.
            let quiet = (now - latest_progress).max(0);
            due = due.min(now + (quiet / 2).clamp(2 * MINUTE_MS, MAX_POLL_MS));
        }
        if let Some(passed) = r.wave_passed_ms {
            let soak = preview
                .waves
                .get(r.wave)
                .map_or(0, |w| i64::from(w.soak_minutes))
                * MINUTE_MS;
            due = due.min(passed + soak);
        }
        let longest = if in_flight {
            MAX_POLL_MS
        } else {
            24 * 60 * MINUTE_MS
        };
        due.clamp(now + MIN_POLL_MS, now + longest)
    }
}

/// "failure gate: canary: 4 of 6 finished devices failed (66.7% > 10.0%, 4 > 2); MX-3071 with
/// file f-1 "MX-3071 Firmware v1.2.5": 4 of 4 failed (the update failed ...)".
fn failure_reason(
    label: &str,
    counts: &Counts,
    gates: &super::plan::Gates,
    preview: &RolloutPreview,
    wave: &[&DeviceRecord],
) -> String {
    let finished = counts.finished();
    let mut by: BTreeMap<(String, String), (usize, usize, String)> = BTreeMap::new();
    for d in wave {
        let entry = by
            .entry((d.model.clone(), d.file_id.clone()))
            .or_insert((0, 0, String::new()));
        if d.state == DeviceState::Verified || d.failed_attempts > 0 {
            entry.1 += 1;
        }
        if d.state != DeviceState::Verified && d.failed_attempts > 0 {
            entry.0 += 1;
            if entry.2.is_empty() {
                entry.2 = d.detail.clone();
            }
        }
    }
    let mut worst: Vec<_> = by.into_iter().filter(|(_, v)| v.0 > 0).collect();
    worst.sort_by(|a, b| b.1.0.cmp(&a.1.0).then_with(|| a.0.cmp(&b.0)));
    let parts: Vec<String> = worst
        .iter()
        .take(5)
        .map(|((model, file), (failed, finished, example))| {
            let title = preview
                .targets
                .iter()
                .find(|t| &t.file_id == file)
                .map_or(String::new(), |t| format!(" {:?}", t.file_title));
            format!("{model} with file {file}{title}: {failed} of {finished} finished failed ({example})")
        })
        .collect();
    format!(
        "failure gate: {label}: {} of {finished} finished devices failed ({:.1}% > {:.1}%, {} > {}); {}",
        counts.failing,
        100.0 * counts.failing as f64 / finished.max(1) as f64,
        100.0 * gates.failure_share,
        counts.failing,
        gates.failure_count,
        parts.join("; ")
    )
}

/// The failure gate per target of the wave: once `min_finished` (or all) of a target's devices
/// have finished, failures above the share and above the count — or every finished one of at
/// least two — pause the rollout.
fn target_failure(
    label: &str,
    counts: &Counts,
    gates: &super::plan::Gates,
    preview: &RolloutPreview,
    wave: &[&DeviceRecord],
) -> Option<String> {
    let mut by: BTreeMap<(String, String), Counts> = BTreeMap::new();
    for d in wave {
        by.entry((d.model.clone(), d.file_id.clone()))
            .or_default()
            .add(d);
    }
    for ((model, file), c) in &by {
        let finished = c.finished();
        let enough = finished >= gates.min_finished.min(c.total).max(1);
        let share = c.failing as f64 > gates.failure_share * finished as f64;
        let all_failed = finished >= 2 && c.failing == finished;
        if enough && share && (c.failing > gates.failure_count || all_failed) {
            let title = preview
                .targets
                .iter()
                .find(|t| &t.file_id == file)
                .map_or(String::new(), |t| format!(" {:?}", t.file_title));
            let example = wave
                .iter()
                .find(|d| {
                    &d.model == model
                        && &d.file_id == file
                        && d.state != DeviceState::Verified
                        && d.failed_attempts > 0
                })
                .map_or(String::new(), |d| format!(" (e.g. {})", d.detail));
            return Some(format!(
                "failure gate: {label}: {model} with file {file}{title}: {} of {finished} finished devices failed ({:.1}% > {:.1}%){example}; the whole wave: {} of {} finished failed",
                c.failing,
                100.0 * c.failing as f64 / finished.max(1) as f64,
                100.0 * gates.failure_share,
                counts.failing,
                counts.finished(),
            ));
        }
    }
    None
}
