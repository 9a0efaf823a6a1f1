//! `rmm rollout plan|start|status|list|pause|resume|promote|abort|retry|run|history`: phased
//! firmware rollouts from the terminal. The plan comes from a TOML file or from flags; `plan`
//! shows rmm-core's preview and its digest, `start` needs that digest, `run` drives the
//! rollout in the foreground (one line per cycle), `status --watch` follows it. Every rule
//! lives in `rmm_core::rollout`; this only translates. Exit codes beyond the usual ones:
//! 7 paused (by a gate or a person), 8 finished with failures.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use clap::{Args, Subcommand};
use rmm_core::rollout::{
    AbortReport, ConflictKind, RolloutAction, RolloutEngine, RolloutError, RolloutPlan,
    RolloutPlanAnswer, RolloutPreview, RolloutStartAnswer, RolloutState, RolloutStatus,
    RolloutStepAnswer, RolloutStore, RolloutsAnswer, StartStatus, WaveSpec, plan_limits,
};
use serde::Serialize;

use crate::auth_commands::StoreArgs;
use crate::fleet_connection::{cli_user, connect, failure};
use crate::output::LiveBlock;
use crate::{Failure, GlobalArgs};

/// `rmm rollout ...`.
#[derive(Debug, Args)]
pub struct RolloutArgs {
    #[command(subcommand)]
    pub command: RolloutCommand,
    /// JSON on stdout, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// Preview a plan: waves, local times, conflicts and the digest to start it with.
    Plan(PlanArgs),
    /// Start a plan whose preview has this digest (refused, with the new preview, if it changed).
    Start {
        #[command(flatten)]
        plan: PlanArgs,
        /// The digest `rmm rollout plan` printed.
        #[arg(long)]
        digest: String,
    },
    /// Where a rollout is: waves, counts per state, why it paused.
    Status {
        id: i64,
        /// Print it again every 2 seconds until the rollout stops running.
        #[arg(long)]
        watch: bool,
    },
    /// Every rollout, newest first.
    List,
    /// Reserve nothing new (what runs is still followed).
    Pause { id: i64 },
    /// Go on after a pause (a gate's too).
    Resume { id: i64 },
    /// Start the next wave now, without waiting for the soak or the gate.
    Promote { id: i64 },
    /// Remove the reservations of devices that have not started and stop.
    Abort { id: i64 },
    /// Try the failed devices again, as a new wave.
    Retry { id: i64 },
    /// Drive the rollout in the foreground until it pauses or ends.
    Run {
        id: i64,
        /// Against a simulator only: move its clock forward instead of waiting.
        #[arg(long)]
        fast_sim: bool,
    },
    /// The rollout's history, oldest first.
    History {
        id: i64,
        /// Only this device's events (and the rollout's own).
        #[arg(long, value_name = "DEVICE_ID")]
        device: Option<String>,
        /// At most this many events (the newest).
        #[arg(long, default_value_t = 200)]
        limit: usize,
    },
}

/// The plan: a TOML file, or flags over the defaults (flags also override the file).
#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// The plan as TOML (see the README's example).
    #[arg(long, value_name = "PATH")]
    pub file: Option<std::path::PathBuf>,
    /// The rollout's name.
    #[arg(long)]
    pub name: Option<String>,
    /// The group (tenant) id; default: your token's tenant.
    #[arg(long, value_name = "ID")]
    pub group: Option<String>,
    /// Only these models (repeat).
    #[arg(long = "model", value_name = "MODEL")]
    pub models: Vec<String>,
    /// Only devices whose location contains this text.
    #[arg(long)]
    pub location: Option<String>,
    /// Exactly these devices (repeat).
    #[arg(long = "device", value_name = "DEVICE_ID")]
    pub devices: Vec<String>,
    /// Canary size.
    #[arg(long)]
    pub canary: Option<usize>,
    /// A wave after the canary: `25%` or a count (repeat; the last takes the rest).
    #[arg(long = "wave", value_name = "N|P%")]
    pub waves: Vec<String>,
    /// Soak after each wave, minutes.
    #[arg(long, value_name = "MINUTES")]
    pub soak: Option<u32>,
    /// Share of a wave verified that starts the next (0-1).
    #[arg(long)]
    pub success_share: Option<f64>,
    /// Failure gate: share (0-1) ...
    #[arg(long)]
    pub failure_share: Option<f64>,
    /// ... and count of failed devices.
    #[arg(long)]
    pub failure_count: Option<usize>,
    /// Wait for `rmm rollout promote` after each wave.
    #[arg(long)]
    pub pause_after_each_wave: bool,
    /// Retries per device.
    #[arg(long)]
    pub retries: Option<u32>,
    /// Allowed hours in each device's time zone, `start-end` (repeat).
    #[arg(long = "hours", value_name = "START-END")]
    pub hours: Vec<String>,
    /// Local dates on which nothing runs, YYYY-MM-DD (repeat).
    #[arg(long = "blackout", value_name = "DATE")]
    pub blackouts: Vec<String>,
    /// At most this many devices of one site updating at once.
    #[arg(long)]
    pub site_limit: Option<usize>,
    /// A site's time zone, `SITE=UTC+09:00` (repeat).
    #[arg(long = "site-tz", value_name = "SITE=ZONE")]
    pub site_zones: Vec<String>,
    /// Leave devices in OTA auto mode as they are.
    #[arg(long)]
    pub no_ota_guard: bool,
    /// Replace devices' existing reservations (default: keep those devices out).
    #[arg(long)]
    pub replace_reservations: bool,
}

impl PlanArgs {
    fn plan(&self) -> Result<RolloutPlan, Failure> {
        let mut plan = match &self.file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Failure::BadInput(format!("--file {}: cannot read it: {e}", path.display()))
                })?;
                RolloutPlan::from_toml(&text)
                    .map_err(|p| Failure::BadInput(format!("--file {}: {}", path.display(), p)))?
            }
            None => RolloutPlan::named("rollout"),
        };
        let mut bad = Vec::new();
        if let Some(name) = &self.name {
            plan.name.clone_from(name);
        }
        if self.group.is_some() {
            plan.group_id.clone_from(&self.group);
        }
        if !self.models.is_empty() {
            plan.devices.models.clone_from(&self.models);
        }
        if self.location.is_some() {
            plan.devices.location.clone_from(&self.location);
        }
        if !self.devices.is_empty() {
            plan.devices.ids.clone_from(&self.devices);
        }
        if let Some(n) = self.canary {
            plan.canary.count = n;
        }
        if !self.waves.is_empty() {
            plan.waves.clear();
            for (i, w) in self.waves.iter().enumerate() {
                let text = w.trim();
                let spec = if let Some(p) = text.strip_suffix('%') {
                    p.trim().parse::<f64>().ok().map(|p| (Some(p), None))
                } else {
                    text.parse::<usize>().ok().map(|n| (None, Some(n)))
                };
                match spec {
                    Some((percent, count)) => plan.waves.push(WaveSpec {
                        percent,
                        count,
                        soak_minutes: self.soak.unwrap_or(60),
                    }),
                    None => bad.push(format!(
                        "--wave ({}): must be a count (200) or a percent (25%), got {w:?}",
                        i + 1
                    )),
                }
            }
        }
        if let Some(soak) = self.soak {
            plan.canary.soak_minutes = soak;
            plan.waves.iter_mut().for_each(|w| w.soak_minutes = soak);
        }
        if let Some(s) = self.success_share {
            plan.gates.success_share = s;
        }
        if let Some(s) = self.failure_share {
            plan.gates.failure_share = s;
        }
        if let Some(c) = self.failure_count {
            plan.gates.failure_count = c;
        }
        if self.pause_after_each_wave {
            plan.gates.pause_after_each_wave = true;
        }
        if let Some(r) = self.retries {
            plan.execution.retries = r;
        }
        if !self.hours.is_empty() {
            plan.windows.hours.clone_from(&self.hours);
        }
        if !self.blackouts.is_empty() {
            plan.windows.blackout_dates.clone_from(&self.blackouts);
        }
        if self.site_limit.is_some() {
            plan.windows.site_limit = self.site_limit;
        }
        for zone in &self.site_zones {
            match zone.split_once('=') {
                Some((site, tz)) if !site.trim().is_empty() => {
                    plan.time_zones
                        .sites
                        .insert(site.trim().to_owned(), tz.trim().to_owned());
                }
                _ => bad.push(format!("--site-tz: must be SITE=UTC±hh:mm, got {zone:?}")),
            }
        }
        if self.no_ota_guard {
            plan.ota_guard.enabled = false;
        }
        if self.replace_reservations {
            plan.ota_guard.existing_reservations = rmm_core::rollout::ExistingReservations::Replace;
        }
        let problems = plan.validate();
        for p in problems.iter() {
            bad.push(format!("{}: {}", flag_of(&p.field), p.rule));
        }
        if bad.is_empty() {
            Ok(plan)
        } else {
            Err(Failure::BadInput(format!(
                "{} problem(s) with the plan:\n- {}",
                bad.len(),
                bad.join("\n- ")
            )))
        }
    }
}

/// The flag that sets a plan field, for messages in the terminal's words.
fn flag_of(field: &str) -> String {
    let flag = match field.split(['[', '.']).collect::<Vec<_>>().as_slice() {
        ["canary", "count", ..] => "--canary",
        ["waves", ..] => "--wave",
        ["gates", "success_share", ..] => "--success-share",
        ["gates", "failure_share", ..] => "--failure-share",
        ["gates", "failure_count", ..] => "--failure-count",
        ["execution", "retries", ..] => "--retries",
        ["windows", "hours", ..] => "--hours",
        ["windows", "blackout_dates", ..] => "--blackout",
        ["windows", "site_limit", ..] => "--site-limit",
        ["time_zones", ..] => "--site-tz",
        ["devices", "ids", ..] => "--device",
        ["name", ..] => "--name",
        _ => return format!("plan {field}"),
    };
    format!("{flag} (plan {field})")
}

fn rollout_failure(e: RolloutError) -> Failure {
    match e {
        RolloutError::Operation(e) => failure(e),
        RolloutError::Invalid(p) => Failure::BadInput(p.to_string()),
        RolloutError::PreviewChanged { .. } => Failure::NotDone(e.to_string()),
        RolloutError::NotFound(_) | RolloutError::WrongState { .. } => {
            Failure::BadInput(e.to_string())
        }
        RolloutError::LeaseHeld { .. } | RolloutError::OutsideEnvelope(_) => {
            Failure::NotDone(e.to_string())
        }
        RolloutError::Store(_) | RolloutError::Crashed(_) => Failure::Local(e.to_string()),
    }
}

fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::Local(e.to_string()))?;
    out!("{text}");
    Ok(())
}

fn print_preview(p: &RolloutPreview) {
    out!(
        "Rollout {:?} on group {}: {} devices in {} waves",
        p.name,
        p.group_id,
        p.total_devices,
        p.waves.len()
    );
    for t in &p.targets {
        out!(
            "  {}: {} devices → {} (file {} {:?})",
            t.model,
            t.devices,
            t.version,
            t.file_id,
            t.file_title
        );
    }
    for w in &p.waves {
        let first = w
            .devices
            .iter()
            .filter_map(|d| d.first_slot_ms.map(|ms| (ms, d.first_slot_local.clone())))
            .min();
        out!(
            "  {:<8} {:>6} devices, soak {} min{}",
            w.label,
            w.devices.len(),
            w.soak_minutes,
            first.map_or(String::new(), |(_, t)| format!(", first update {t}"))
        );
    }
    let mut kinds: std::collections::BTreeMap<String, (usize, bool)> = Default::default();
    for c in &p.conflicts {
        let entry = kinds
            .entry(format!("{:?}", c.kind))
            .or_insert((0, c.included));
        entry.0 += 1;
    }
    for (kind, (n, included)) in kinds {
        out!(
            "  conflict {kind}: {n} devices ({})",
            if included { "included" } else { "left out" }
        );
    }
    if let Some(c) = p
        .conflicts
        .iter()
        .find(|c| c.kind == ConflictKind::NoFittingFile)
    {
        out!("    e.g. {}", c.message);
    }
    for note in &p.notes {
        out!("  note: {note}");
    }
    out!("digest: {}", p.digest);
    out!("start it with: rmm rollout start ... --digest {}", p.digest);
}

/// A rollout's status as lines: the summary, each wave's counts, and the current wave's gates.
fn status_lines(s: &RolloutStatus) -> Vec<String> {
    let r = &s.rollout;
    let mut lines = vec![format!("Rollout {} {:?}: {}", r.id, r.name, s.summary)];
    for w in &s.waves {
        let c = &w.counts;
        let current = w.index == r.wave;
        lines.push(format!(
            "  {:<10} {:>5} devices: {} verified, {} failing, {} failed, {} under way, {} pending, {} aborted{}",
            w.label,
            c.total,
            c.verified,
            c.failing,
            c.failed,
            c.reserved + c.reserving,
            c.pending,
            c.aborted,
            if current { "  <- current" } else { "" }
        ));
        if current {
            lines.push(format!("             gates: {}", w.gate.text()));
        }
    }
    lines
}

fn print_status(s: &RolloutStatus) {
    for l in status_lines(s) {
        out!("{l}");
    }
}

/// The exit for a rollout that stopped running: 7 paused, 8 finished with failures.
fn outcome(s: &RolloutStatus) -> Result<(), Failure> {
    match s.rollout.state {
        RolloutState::Paused => Err(Failure::Paused(format!(
            "rollout {} paused: {}",
            s.rollout.id, s.rollout.reason
        ))),
        RolloutState::Finished if s.counts.failed > 0 => Err(Failure::FinishedWithFailures(
            format!("rollout {} finished: {}", s.rollout.id, s.rollout.reason),
        )),
        _ => Ok(()),
    }
}

pub async fn run(args: RolloutArgs, global: &GlobalArgs) -> Result<(), Failure> {
    let connection = connect(global, &args.store).await?;
    let offset = Arc::new(AtomicI64::new(0));
    let shift = offset.clone();
    let clock: rmm_core::Clock =
        Arc::new(move || rmm_core::system_now_ms() + shift.load(Ordering::Relaxed));
    let ops = connection.operations.clone().with_clock(clock.clone());
    let store =
        RolloutStore::beside(ops.audit_log().path()).map_err(|e| Failure::Local(e.to_string()))?;
    let holder = format!(
        "rmm rollout run ({}, pid {})",
        cli_user().name(),
        std::process::id()
    );
    let engine = RolloutEngine::new(ops.clone(), Arc::new(store), clock.clone(), &holder);
    let caller = cli_user();
    let json = args.json;
    match args.command {
        RolloutCommand::Plan(plan) => {
            let plan = plan.plan()?;
            let preview = engine.plan(&plan).await.map_err(rollout_failure)?;
            if json {
                print_json(&RolloutPlanAnswer {
                    envelope: plan_limits(&policy(global, &args.store)?, &preview),
                    next_step: format!("rmm rollout start ... --digest {}", preview.digest),
                    preview,
                })
            } else {
                print_preview(&preview);
                Ok(())
            }
        }
        RolloutCommand::Start { plan, digest } => {
            let plan = plan.plan()?;
            match engine.start(&plan, &digest, &caller).await {
                Ok(id) => {
                    if json {
                        let preview = engine
                            .store()
                            .preview(id)
                            .map_err(|e| Failure::Local(e.to_string()))?
                            .ok_or(rollout_failure(RolloutError::NotFound(id)))?;
                        print_json(&RolloutStartAnswer {
                            status: StartStatus::Started,
                            rollout_id: Some(id),
                            envelope: plan_limits(&policy(global, &args.store)?, &preview),
                            preview,
                            next_step: format!("rmm rollout run {id}"),
                        })
                    } else {
                        out!("Rollout {id} started. Drive it with: rmm rollout run {id}");
                        Ok(())
                    }
                }
                Err(RolloutError::PreviewChanged { preview, approved }) => {
                    if json {
                        print_json(&RolloutStartAnswer {
                            status: StartStatus::PreviewChanged,
                            rollout_id: None,
                            envelope: plan_limits(&policy(global, &args.store)?, &preview),
                            next_step: format!("rmm rollout start ... --digest {}", preview.digest),
                            preview: (*preview).clone(),
                        })?;
                    } else {
                        print_preview(&preview);
                    }
                    Err(Failure::NotDone(format!(
                        "the preview changed since digest {approved} was approved: nothing was started; review the new preview above and start it with --digest {}",
                        preview.digest
                    )))
                }
                Err(e) => Err(rollout_failure(e)),
            }
        }
        RolloutCommand::Status { id, watch } => {
            let mut live = LiveBlock::new();
            loop {
                let status = engine.status(id).map_err(rollout_failure)?;
                if json {
                    print_json(&status)?;
                } else {
                    live.show(&status_lines(&status));
                }
                if !watch || status.rollout.state != RolloutState::Running {
                    return outcome(&status);
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
        RolloutCommand::List => {
            let list = engine
                .store()
                .rollouts()
                .map_err(|e| Failure::Local(e.to_string()))?;
            if json {
                return print_json(&RolloutsAnswer { rollouts: list });
            }
            if list.is_empty() {
                out!("No rollouts yet (see `rmm rollout plan`).");
            }
            for r in list {
                out!(
                    "{:>4}  {:<9} wave {}/{}  {:?}  {}",
                    r.id,
                    r.state.as_str(),
                    r.wave.min(r.waves),
                    r.waves,
                    r.name,
                    r.reason
                );
            }
            Ok(())
        }
        RolloutCommand::Pause { id } => {
            engine.pause(id, &caller).map_err(rollout_failure)?;
            step_done(&engine, RolloutAction::Pause, id, None, None, json)
        }
        RolloutCommand::Resume { id } => {
            engine.resume(id, &caller).map_err(rollout_failure)?;
            step_done(&engine, RolloutAction::Resume, id, None, None, json)
        }
        RolloutCommand::Promote { id } => {
            engine.promote(id, &caller).map_err(rollout_failure)?;
            step_done(&engine, RolloutAction::Promote, id, None, None, json)
        }
        RolloutCommand::Retry { id } => {
            let n = engine.retry_failed(id, &caller).map_err(rollout_failure)?;
            if json {
                step_done(&engine, RolloutAction::RetryFailed, id, Some(n), None, json)
            } else {
                out!("{n} failed devices will be tried again (rmm rollout run {id}).");
                Ok(())
            }
        }
        RolloutCommand::Abort { id } => {
            let report = engine.abort(id, &caller).await.map_err(rollout_failure)?;
            if json {
                return step_done(&engine, RolloutAction::Abort, id, None, Some(report), json);
            }
            out!(
                "Aborted: {} reservations removed, {} devices had not started.",
                report.stopped.len(),
                report.never_started
            );
            if !report.not_stoppable.is_empty() {
                out!(
                    "Already updating, could not be stopped: {}",
                    report.not_stoppable.join(", ")
                );
            }
            Ok(())
        }
        RolloutCommand::History { id, device, limit } => {
            let events = engine
                .history(id, device.as_deref(), limit)
                .map_err(rollout_failure)?;
            if json {
                return print_json(&events);
            }
            for e in events {
                out!(
                    "{}  {:<16} {}{}",
                    rmm_core::rollout::local_text(e.at_ms, 0),
                    e.kind,
                    e.device_id.map_or(String::new(), |d| format!("{d}: ")),
                    e.detail
                );
            }
            Ok(())
        }
        RolloutCommand::Run { id, fast_sim } => {
            let control = format!("{}/__sim/clock", ops.api_base().trim_end_matches('/'));
            let http = reqwest::Client::new();
            if fast_sim {
                // A runner started again after another (killed, or stopped) takes up the
                // simulator's time, which that one had moved on: its records are in that time.
                let now = sim_clock(http.get(&control)).await?;
                offset.store(now - rmm_core::system_now_ms(), Ordering::Relaxed);
            }
            let mut live = LiveBlock::new();
            loop {
                let report = engine.tick(id).await.map_err(rollout_failure)?;
                let status = engine.status(id).map_err(rollout_failure)?;
                let running = report.state == RolloutState::Running;
                if json {
                    print_json(&report)?;
                } else if live.redraws() {
                    let mut lines = status_lines(&status);
                    if running {
                        lines.push(format!(
                            "  {} reserved this cycle; next cycle {}",
                            report.reserved,
                            rmm_core::rollout::local_text(report.next_due_ms, 0)
                        ));
                    }
                    live.show(&lines);
                } else {
                    let c = &status.counts;
                    out!(
                        "{}  wave {}  {} verified, {} failing, {} under way, {} pending of {}  (+{} reserved this cycle)",
                        rmm_core::rollout::local_text(clock(), 0),
                        report.wave,
                        c.verified,
                        c.failing,
                        c.reserved + c.reserving,
                        c.pending,
                        c.total,
                        report.reserved
                    );
                }
                if !running {
                    if !json && !live.redraws() {
                        print_status(&status);
                    }
                    let _ = engine.release(id);
                    return outcome(&status);
                }
                let wait_ms = (report.next_due_ms - clock()).max(0);
                if fast_sim {
                    let secs = wait_ms / 1000 + 1;
                    let now = sim_clock(
                        http.post(&control)
                            .json(&serde_json::json!({"advanceSecs": secs})),
                    )
                    .await?;
                    offset.store(now - rmm_core::system_now_ms(), Ordering::Relaxed);
                } else {
                    // Sleep in steps of at most a minute, so the lease stays ours.
                    let mut left = wait_ms;
                    while left > 0 {
                        let step = left.min(60_000);
                        tokio::time::sleep(Duration::from_millis(u64::try_from(step).unwrap_or(0)))
                            .await;
                        left -= step;
                        engine.renew_lease(id).map_err(rollout_failure)?;
                    }
                }
            }
        }
    }
}

/// The profile's envelope for agents, for the plan's verdict.
fn policy(
    global: &GlobalArgs,
    store: &StoreArgs,
) -> Result<rmm_core::rollout::AgentPolicy, Failure> {
    let path = rmm_core::settings::SettingsFile::default_path()
        .map_err(|e| Failure::Local(e.to_string()))?;
    let profile = crate::fleet_connection::resolve(global, store)?
        .profile
        .name;
    rmm_core::settings::agent_policy(&path, &profile).map_err(|e| Failure::BadInput(e.to_string()))
}

/// After a step: the JSON answer MCP's step tools give, or nothing more for a person (the
/// command's success is the answer; `rmm rollout status` shows where it is).
fn step_done(
    engine: &RolloutEngine,
    action: RolloutAction,
    id: i64,
    devices: Option<usize>,
    abort: Option<AbortReport>,
    json: bool,
) -> Result<(), Failure> {
    if !json {
        return Ok(());
    }
    let status = engine.status(id).map_err(rollout_failure)?;
    print_json(&RolloutStepAnswer {
        action,
        rollout_id: id,
        devices,
        abort,
        status,
    })
}

/// The simulator's time (Unix ms) as its clock endpoint answers `request`: `--fast-sim` runs
/// the rollout on it.
async fn sim_clock(request: reqwest::RequestBuilder) -> Result<i64, Failure> {
    let not_a_sim = |why: String| {
        Failure::BadInput(format!(
            "--fast-sim: the profile's API is not a simulator ({why})"
        ))
    };
    let answer: serde_json::Value = request
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| not_a_sim(e.to_string()))?
        .json()
        .await
        .map_err(|e| not_a_sim(e.to_string()))?;
    answer["now"]
        .as_i64()
        .ok_or_else(|| not_a_sim("its clock did not say the time".to_owned()))
}
