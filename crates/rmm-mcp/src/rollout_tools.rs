//! The rollout tools: an agent plans a phased rollout, starts it with the person's approval
//! (the app's dialog, elicitation, or `confirm: true`), follows it, and steers it. Pausing and
//! aborting are always allowed; promoting, resuming and retrying are taken for the agent only
//! inside the autonomy envelope the person set (`rmm_core::rollout::AgentPolicy`), and refused
//! otherwise with every limit named. Every rule is `rmm_core::rollout`'s; this reads arguments
//! and shapes answers.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use rmcp::RoleServer;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ElicitRequest,
    ElicitRequestParams, ElicitationAction, InputRequest, InputRequiredResult, ProtocolVersion,
    Tool,
};
use rmcp::service::RequestContext;
use rmm_core::rollout::{
    AgentPolicy, AgentStep, RolloutAction, RolloutEngine, RolloutError, RolloutPlan,
    RolloutPlanAnswer, RolloutPreview, RolloutStartAnswer, RolloutStatus, RolloutStepAnswer,
    RolloutStore, RolloutsAnswer, StartStatus, plan_limits,
};
use rmm_core::{Caller, FleetOperations, OperationError, Problems};
use schemars::JsonSchema;
use serde_json::json;

use crate::arguments::Arguments;
use crate::endpoint_host::{Approval, EndpointHost};
use crate::server::{
    CONFIRM_KEY, accepted_confirmation, error_result, structured, yes_no_question,
};
use crate::tool_catalog::{NoParams, change, read, tool};

/// One rollout tool (every tool has a variant: matches over it have no catch-all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloutTool {
    PlanRollout,
    StartRollout,
    RolloutStatus,
    ListRollouts,
    PauseRollout,
    ResumeRollout,
    PromoteRollout,
    AbortRollout,
    RetryFailed,
}

impl RolloutTool {
    pub const ALL: [Self; 9] = [
        Self::PlanRollout,
        Self::StartRollout,
        Self::RolloutStatus,
        Self::ListRollouts,
        Self::PauseRollout,
        Self::ResumeRollout,
        Self::PromoteRollout,
        Self::AbortRollout,
        Self::RetryFailed,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Self::PlanRollout => "plan_rollout",
            Self::StartRollout => "start_rollout",
            Self::RolloutStatus => "rollout_status",
            Self::ListRollouts => "list_rollouts",
            Self::PauseRollout => "pause_rollout",
            Self::ResumeRollout => "resume_rollout",
            Self::PromoteRollout => "promote_rollout",
            Self::AbortRollout => "abort_rollout",
            Self::RetryFailed => "retry_failed",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Reads only (listed in read-only mode too).
    pub const fn reads_only(self) -> bool {
        matches!(
            self,
            Self::PlanRollout | Self::RolloutStatus | Self::ListRollouts
        )
    }
}

#[derive(Debug, JsonSchema)]
#[allow(dead_code)] // Schema only: arguments are read field by field (arguments.rs) to report every problem.
pub struct PlanRolloutParams {
    /// The rollout plan: name, target (latest: true, or files: {model: file_id}), devices
    /// (models, location, ids, ...), canary, waves, gates, windows, time_zones, ota_guard.
    /// Everything but `name` has a default.
    pub plan: RolloutPlan,
}

#[derive(Debug, JsonSchema)]
#[allow(dead_code)] // Schema only: arguments are read field by field (arguments.rs) to report every problem.
pub struct StartRolloutParams {
    /// The same plan plan_rollout previewed.
    pub plan: RolloutPlan,
    /// The `digest` of the preview the user saw (from plan_rollout); the rollout starts only if
    /// the plan still previews to it.
    pub digest: String,
    /// true: the user agreed to start it; otherwise the preview is returned (or the user asked).
    pub confirm: Option<bool>,
}

#[derive(Debug, JsonSchema)]
#[allow(dead_code)] // Schema only: arguments are read field by field (arguments.rs) to report every problem.
pub struct RolloutIdParams {
    /// The rollout's id (start_rollout and list_rollouts give it).
    pub rollout_id: i64,
}

/// The agents' envelope, read fresh for each step (the person may change it at any time).
pub type PolicySource = Arc<dyn Fn() -> Result<AgentPolicy, String> + Send + Sync>;

/// The rollouts an MCP server reaches: the store beside the audit log (opened at first use)
/// and where the envelope is read from.
#[derive(Clone)]
pub struct RolloutAccess {
    store: Arc<OnceLock<Result<Arc<RolloutStore>, String>>>,
    policy: PolicySource,
}

impl Default for RolloutAccess {
    /// The default envelope (nothing qualified: agents take no step alone).
    fn default() -> Self {
        Self::with_policy(Arc::new(|| Ok(AgentPolicy::default())))
    }
}

impl RolloutAccess {
    pub fn with_policy(policy: PolicySource) -> Self {
        Self {
            store: Arc::new(OnceLock::new()),
            policy,
        }
    }

    fn engine(&self, ops: &FleetOperations, caller: &Caller) -> Result<RolloutEngine, String> {
        let store = self
            .store
            .get_or_init(|| {
                RolloutStore::beside(ops.audit_log().path())
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()?;
        let holder = format!("MCP client {}", caller.name());
        Ok(RolloutEngine::new(ops.clone(), store, ops.clock(), &holder))
    }
}

/// Every rollout tool; only the reading ones in read-only mode.
pub fn rollout_tools(read_only: bool) -> Vec<Tool> {
    RolloutTool::ALL
        .into_iter()
        .filter(|t| !read_only || t.reads_only())
        .map(rollout_tool)
        .collect()
}

fn rollout_tool(t: RolloutTool) -> Tool {
    let name = t.name();
    match t {
        RolloutTool::PlanRollout => tool::<PlanRolloutParams, RolloutPlanAnswer>(
            name,
            "Plan a rollout",
            "Previews a phased firmware rollout: the waves (canary first) with each device's local update time, the targets per model, conflicts (offline, reserved, no fitting file), and where the plan stands against the agents' envelope (the limits inside which you may promote or resume it alone). Changes nothing. Show the preview to the user; start it with start_rollout and the preview's digest.",
            read(),
        ),
        RolloutTool::StartRollout => tool::<StartRolloutParams, RolloutStartAnswer>(
            name,
            "Start a rollout",
            "Starts a previewed plan: pass the plan and the digest plan_rollout gave. The user approves it (in the MCP-RMM app, by your client's question, or by you calling again with confirm: true after they agreed). If the fleet changed, nothing starts and the new preview comes back with its own digest. The rollout runs while the MCP-RMM app is open or `rmm rollout run <id>` runs.",
            change(false),
        ),
        RolloutTool::RolloutStatus => tool::<RolloutIdParams, RolloutStatus>(
            name,
            "Rollout status",
            "Where a rollout is: state, the wave running, counts per state for each wave, the gate's numbers against its thresholds, why it paused, and who drives it.",
            read(),
        ),
        RolloutTool::ListRollouts => tool::<NoParams, RolloutsAnswer>(
            name,
            "List rollouts",
            "Every rollout of this profile, newest first, with its state and wave.",
            read(),
        ),
        RolloutTool::PauseRollout => tool::<RolloutIdParams, RolloutStepAnswer>(
            name,
            "Pause a rollout",
            "Pauses a running rollout: nothing new is reserved; updates under way are still followed. Always allowed.",
            change(true),
        ),
        RolloutTool::ResumeRollout => tool::<RolloutIdParams, RolloutStepAnswer>(
            name,
            "Resume a rollout",
            "Resumes a paused rollout. Taken for you only inside the agents' envelope (qualified firmware, devices per day, hours, blackout dates, failure share, kill switch off); otherwise refused with the limit named, and the user must resume it.",
            change(false),
        ),
        RolloutTool::PromoteRollout => tool::<RolloutIdParams, RolloutStepAnswer>(
            name,
            "Promote a rollout",
            "Starts the rollout's next wave now, without waiting for the soak or the gate. Taken for you only inside the agents' envelope (the largest wave among its limits); otherwise refused with the limit named.",
            change(false),
        ),
        RolloutTool::AbortRollout => tool::<RolloutIdParams, RolloutStepAnswer>(
            name,
            "Abort a rollout",
            "Stops a rollout: removes the reservations of devices that have not started updating and restores their OTA settings; devices already updating are named. Always allowed.",
            change(true),
        ),
        RolloutTool::RetryFailed => tool::<RolloutIdParams, RolloutStepAnswer>(
            name,
            "Retry failed devices",
            "Tries a rollout's failed devices again, as a new wave. Taken for you only inside the agents' envelope; otherwise refused with the limit named.",
            change(false),
        ),
    }
}

/// One rollout tool call's context.
pub(crate) struct RolloutCall<'a> {
    pub ops: &'a FleetOperations,
    pub access: &'a RolloutAccess,
    pub host: Option<&'a Arc<dyn EndpointHost>>,
    pub caller: Caller,
    pub ctx: &'a RequestContext<RoleServer>,
}

/// A rollout tool's answer.
pub(crate) async fn answer(
    call: RolloutCall<'_>,
    t: RolloutTool,
    params: CallToolRequestParams,
) -> CallToolResponse {
    let engine = match call.access.engine(call.ops, &call.caller) {
        Ok(engine) => engine,
        Err(e) => return error_result(&OperationError::Local(e)).into(),
    };
    let mut args = Arguments::new(params.arguments.clone());
    match t {
        RolloutTool::PlanRollout => {
            let plan = read_plan(&mut args);
            if let Err(p) = args.finish().into_result() {
                return invalid(p).into();
            }
            let Some(plan) = plan else {
                return invalid(Problems::from_one("plan", "missing")).into();
            };
            match engine.plan(&plan).await {
                Ok(preview) => {
                    let envelope = plan_limits(&policy(&call), &preview);
                    structured(&RolloutPlanAnswer {
                        next_step: format!(
                            "Nothing was changed. Show this preview to the user; to start it call start_rollout with the same plan and digest: \"{}\".",
                            preview.digest
                        ),
                        preview,
                        envelope,
                    })
                    .into()
                }
                Err(e) => rollout_error(e).into(),
            }
        }
        RolloutTool::StartRollout => start(call, &engine, args, params).await,
        RolloutTool::RolloutStatus => {
            let id = args.int("rollout_id");
            if let Err(p) = args.finish().into_result() {
                return invalid(p).into();
            }
            match engine.status(id) {
                Ok(status) => structured(&status).into(),
                Err(e) => rollout_error(e).into(),
            }
        }
        RolloutTool::ListRollouts => {
            if let Err(p) = args.finish().into_result() {
                return invalid(p).into();
            }
            match engine.store().rollouts() {
                Ok(rollouts) => structured(&RolloutsAnswer { rollouts }).into(),
                Err(e) => error_result(&OperationError::Local(e.to_string())).into(),
            }
        }
        RolloutTool::PauseRollout
        | RolloutTool::ResumeRollout
        | RolloutTool::PromoteRollout
        | RolloutTool::AbortRollout
        | RolloutTool::RetryFailed => {
            let id = args.int("rollout_id");
            if let Err(p) = args.finish().into_result() {
                return invalid(p).into();
            }
            step(&call, &engine, t, id).await.into()
        }
    }
}

/// The envelope now; the defaults (nothing allowed alone) when it cannot be read.
fn policy(call: &RolloutCall<'_>) -> AgentPolicy {
    (call.access.policy)().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the agents' envelope could not be read; agents take no step alone");
        AgentPolicy::default()
    })
}

async fn step(
    call: &RolloutCall<'_>,
    engine: &RolloutEngine,
    t: RolloutTool,
    id: i64,
) -> CallToolResult {
    let caller = &call.caller;
    let agent_step = |s: AgentStep| engine.agent_step(id, s, caller, &policy(call));
    let (action, done) = match t {
        RolloutTool::PauseRollout => (
            RolloutAction::Pause,
            engine.pause(id, caller).map(|()| (None, None)),
        ),
        RolloutTool::AbortRollout => (
            RolloutAction::Abort,
            engine.abort(id, caller).await.map(|r| (None, Some(r))),
        ),
        RolloutTool::ResumeRollout => (
            RolloutAction::Resume,
            agent_step(AgentStep::Resume).map(|n| (Some(n), None)),
        ),
        RolloutTool::PromoteRollout => (
            RolloutAction::Promote,
            agent_step(AgentStep::Promote).map(|n| (Some(n), None)),
        ),
        RolloutTool::RetryFailed => (
            RolloutAction::RetryFailed,
            agent_step(AgentStep::RetryFailed).map(|n| (Some(n), None)),
        ),
        RolloutTool::PlanRollout
        | RolloutTool::StartRollout
        | RolloutTool::RolloutStatus
        | RolloutTool::ListRollouts => {
            return error_result(&OperationError::invalid("name", "not a rollout step"));
        }
    };
    let (devices, abort) = match done {
        Ok(done) => done,
        Err(e) => return rollout_error(e),
    };
    match engine.status(id) {
        Ok(status) => structured(&RolloutStepAnswer {
            action,
            rollout_id: id,
            devices,
            abort,
            status,
        }),
        Err(e) => rollout_error(e),
    }
}

/// Reads `plan`, reporting its problems (shape and rules) under `plan.<field>`.
fn read_plan(args: &mut Arguments) -> Option<RolloutPlan> {
    let value = args.opt_object("plan");
    let value = match value {
        Some(v) => v,
        None => {
            if !args.problems.mentions("plan") {
                args.problems.push("plan", "missing");
            }
            return None;
        }
    };
    match RolloutPlan::from_json(value) {
        Ok(plan) => Some(plan),
        Err(problems) => {
            for p in problems.iter() {
                let field = if p.field.is_empty() || p.field == "plan" {
                    "plan".to_owned()
                } else {
                    format!("plan.{}", p.field)
                };
                args.problems.push(field, p.rule.clone());
            }
            None
        }
    }
}

fn invalid(p: Problems) -> CallToolResult {
    error_result(&OperationError::Invalid(p))
}

/// A rollout error as a tool error an agent can act on.
fn rollout_error(e: RolloutError) -> CallToolResult {
    let (code, message, extra) = match e {
        RolloutError::Operation(e) => return error_result(&e),
        RolloutError::Invalid(p) => {
            let mut prefixed = Problems::new();
            for p in p.iter() {
                prefixed.push(format!("plan.{}", p.field), p.rule.clone());
            }
            return invalid(prefixed);
        }
        RolloutError::OutsideEnvelope(ref hits) => (
            "outside_envelope",
            format!("{e}. Tell the user which limit was hit; nothing was changed."),
            json!({"limits": hits}),
        ),
        RolloutError::NotFound(id) => (
            "not_found",
            format!("no rollout {id} (see list_rollouts)"),
            json!({}),
        ),
        RolloutError::WrongState { .. } => ("wrong_state", e.to_string(), json!({})),
        RolloutError::LeaseHeld { .. } => ("driven_elsewhere", e.to_string(), json!({})),
        RolloutError::PreviewChanged { .. } => ("preview_changed", e.to_string(), json!({})),
        RolloutError::Store(_) | RolloutError::Crashed(_) => ("local", e.to_string(), json!({})),
    };
    let mut body = json!({"error": code, "message": message});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    CallToolResult::error(vec![ContentBlock::text(body.to_string())])
}

fn start_answer(
    status: StartStatus,
    preview: RolloutPreview,
    policy: &AgentPolicy,
    rollout_id: Option<i64>,
    next_step: String,
) -> CallToolResult {
    let envelope = plan_limits(policy, &preview);
    let mut result = structured(&RolloutStartAnswer {
        status,
        rollout_id,
        preview,
        envelope,
        next_step,
    });
    if matches!(
        status,
        StartStatus::PreviewChanged | StartStatus::Refused | StartStatus::Unanswered
    ) {
        result.is_error = Some(true);
    }
    result
}

async fn start(
    call: RolloutCall<'_>,
    engine: &RolloutEngine,
    mut args: Arguments,
    params: CallToolRequestParams,
) -> CallToolResponse {
    let plan = read_plan(&mut args);
    let digest = args.string("digest");
    let confirm = args.opt_bool("confirm").unwrap_or(false);
    if let Err(p) = args.finish().into_result() {
        return invalid(p).into();
    }
    let Some(plan) = plan else {
        return invalid(Problems::from_one("plan", "missing")).into();
    };
    let policy = policy(&call);
    let preview = match engine.plan(&plan).await {
        Ok(preview) => preview,
        Err(e) => return rollout_error(e).into(),
    };
    // Approving one digest never approves another: the plan must preview to the one given.
    if preview.digest != digest.trim() {
        let next = format!(
            "Nothing was started: this plan now previews to digest \"{}\", not \"{}\". Show the user this new preview; start it with its digest once they agree.",
            preview.digest,
            digest.trim()
        );
        return start_answer(StartStatus::PreviewChanged, preview, &policy, None, next).into();
    }
    let go = |preview: RolloutPreview| {
        let policy = policy.clone();
        let caller = call.caller.clone();
        async move {
            match engine.start(&plan, &preview.digest, &caller).await {
                Ok(id) => start_answer(
                    StartStatus::Started,
                    preview,
                    &policy,
                    Some(id),
                    format!(
                        "Rollout {id} started. It runs while the MCP-RMM app is open or `rmm rollout run {id}` runs; follow it with rollout_status. promote_rollout and resume_rollout are taken for you only inside the agents' envelope."
                    ),
                ),
                Err(RolloutError::PreviewChanged { preview, .. }) => start_answer(
                    StartStatus::PreviewChanged,
                    *preview,
                    &policy,
                    None,
                    "Nothing was started: the fleet changed as it was being started. Show the user the new preview.".to_owned(),
                ),
                Err(e) => rollout_error(e),
            }
        }
    };
    if let Some(host) = call.host {
        let answer = RolloutPlanAnswer {
            envelope: plan_limits(&policy, &preview),
            next_step: String::new(),
            preview: preview.clone(),
        };
        return match host.approve_rollout(call.caller.clone(), answer).await {
            Approval::Approved => go(preview).await.into(),
            Approval::Refused => start_answer(
                StartStatus::Refused,
                preview,
                &policy,
                None,
                "The user refused this rollout in the MCP-RMM app. Nothing was started; do not retry it unless the user asks.".to_owned(),
            )
            .into(),
            Approval::Unanswered(why) => start_answer(
                StartStatus::Unanswered,
                preview,
                &policy,
                None,
                format!("Nothing was started: the approval in the MCP-RMM app was not answered ({why}). Ask the user before trying again."),
            )
            .into(),
        };
    }
    // A 2026-07-28 client answering our question (multi round-trip request).
    if let Some(responses) = &params.input_responses {
        let accepted = responses
            .get(CONFIRM_KEY)
            .is_some_and(accepted_confirmation);
        let asked_for = params.request_state.as_deref().unwrap_or_default();
        return if accepted && asked_for == preview.digest {
            go(preview).await.into()
        } else {
            start_answer(
                StartStatus::Declined,
                preview,
                &policy,
                None,
                "The user declined (or approved another preview). Nothing was started.".to_owned(),
            )
            .into()
        };
    }
    if confirm {
        return go(preview).await.into();
    }
    let supports_elicitation = call
        .ctx
        .client_capabilities()
        .is_some_and(|c| c.elicitation.is_some());
    if !supports_elicitation {
        let next = format!(
            "Nothing was started. Show this preview to the user; once they agree call start_rollout again with the same plan, digest: \"{}\" and confirm: true.",
            preview.digest
        );
        return start_answer(StartStatus::Preview, preview, &policy, None, next).into();
    }
    let question = elicitation(&preview, &policy);
    let new_protocol = call
        .ctx
        .protocol_version()
        .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);
    if new_protocol {
        let mut requests = BTreeMap::new();
        requests.insert(
            CONFIRM_KEY.to_owned(),
            InputRequest::Elicitation(ElicitRequest::new(question)),
        );
        return InputRequiredResult::new(Some(requests), Some(preview.digest.clone())).into();
    }
    match call.ctx.peer.create_elicitation(question).await {
        Ok(answer)
            if answer.action == ElicitationAction::Accept
                && answer
                    .content
                    .as_ref()
                    .is_some_and(|c| c[CONFIRM_KEY] == json!(true)) =>
        {
            go(preview).await.into()
        }
        Ok(_) => start_answer(
            StartStatus::Declined,
            preview,
            &policy,
            None,
            "The user declined. Nothing was started.".to_owned(),
        )
        .into(),
        Err(e) => {
            tracing::warn!(error = %e, "elicitation failed; returning the preview");
            let next = format!(
                "Could not ask the user ({e}). Nothing was started; call again with confirm: true and digest: \"{}\" once the user agrees.",
                preview.digest
            );
            start_answer(StartStatus::Preview, preview, &policy, None, next).into()
        }
    }
}

/// The question put to the user: the waves, the envelope, and the digest it binds to.
fn elicitation(preview: &RolloutPreview, policy: &AgentPolicy) -> ElicitRequestParams {
    let mut message = format!(
        "Start rollout {:?} on {} devices in {} waves?\n",
        preview.name,
        preview.total_devices,
        preview.waves.len()
    );
    for t in &preview.targets {
        message.push_str(&format!(
            "- {}: {} devices → {} (file {})\n",
            t.model, t.devices, t.version, t.file_id
        ));
    }
    for w in &preview.waves {
        message.push_str(&format!(
            "- {}: {} devices, soak {} min\n",
            w.label,
            w.devices.len(),
            w.soak_minutes
        ));
    }
    let verdict = plan_limits(policy, preview);
    if verdict.within {
        message.push_str("Inside the agents' envelope: the agent may promote and resume it alone within its limits.\n");
    } else {
        for h in &verdict.limits_hit {
            message.push_str(&format!(
                "! outside the agents' envelope ({}): {}\n",
                h.limit.field(),
                h.message
            ));
        }
    }
    message.push_str(&format!("Digest {}. Start it?", preview.digest));
    yes_no_question(
        message,
        "Start this rollout",
        "Yes to start the rollout shown",
        "Confirm the rollout an agent asked to start",
    )
}
