//! The Rollouts view's commands: plan (preview and digest, and where the plan stands against
//! the agents' envelope), start with the digest the person saw, list, status and history, the
//! person's steps (pause, resume, promote, abort, retry failed), the envelope itself, a
//! firmware file's qualification and the agents' kill switch. Each is one `rmm_core::rollout`
//! operation, taken as the signed-in person.

use std::sync::{Arc, Mutex};

use rmm_core::rollout::{
    AgentPolicy, RolloutAction, RolloutEngine, RolloutError, RolloutEvent, RolloutPlan,
    RolloutPlanAnswer, RolloutRecord, RolloutStatus, RolloutStepAnswer, RolloutStore, plan_limits,
    qualify_staged,
};
use rmm_core::{Caller, FleetOperations, OperationError};
use tauri::State;

use crate::active_profile::ActiveProfile;
use crate::command_error::{CommandError, ErrorCode};

/// Names the app in a rollout's lease ("driven by ...").
pub fn holder() -> String {
    format!("the MCP-RMM app (pid {})", std::process::id())
}

/// The rollout store beside the audit log, opened once per audit log.
#[derive(Default)]
pub struct RolloutStores {
    open: Mutex<Option<(String, Arc<RolloutStore>)>>,
}

impl RolloutStores {
    pub fn for_operations(&self, ops: &FleetOperations) -> Result<Arc<RolloutStore>, CommandError> {
        let path = ops.audit_log().path().to_owned();
        let mut open = self
            .open
            .lock()
            .map_err(|_| CommandError::new(ErrorCode::Internal, "the rollout store is lost"))?;
        if let Some((p, store)) = open.as_ref()
            && *p == path
        {
            return Ok(Arc::clone(store));
        }
        let store = Arc::new(
            RolloutStore::beside(&path)
                .map_err(|e| CommandError::new(ErrorCode::Local, e.to_string()))?,
        );
        *open = Some((path, Arc::clone(&store)));
        Ok(store)
    }

    /// The engine over the active profile's operations, at their clock.
    pub fn engine(&self, active: &ActiveProfile) -> Result<RolloutEngine, CommandError> {
        let ops = active.fleet().operations()?.clone();
        let store = self.for_operations(&ops)?;
        Ok(RolloutEngine::new(
            ops.clone(),
            store,
            ops.clock(),
            &holder(),
        ))
    }
}

impl From<RolloutError> for CommandError {
    fn from(error: RolloutError) -> Self {
        match error {
            RolloutError::Operation(e) => e.into(),
            RolloutError::Invalid(p) => OperationError::Invalid(p).into(),
            RolloutError::NotFound(_)
            | RolloutError::WrongState { .. }
            | RolloutError::OutsideEnvelope(_) => {
                CommandError::new(ErrorCode::BadInput, error.to_string())
            }
            RolloutError::PreviewChanged { .. } => {
                CommandError::new(ErrorCode::PreviewChanged, error.to_string())
            }
            RolloutError::LeaseHeld { .. } | RolloutError::Store(_) | RolloutError::Crashed(_) => {
                CommandError::new(ErrorCode::Local, error.to_string())
            }
        }
    }
}

fn person(active: &ActiveProfile) -> Caller {
    Caller::Person {
        name: active.session().person_name(),
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, CommandError> + Send + 'static,
) -> Result<T, CommandError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))?
}

/// The preview of `plan` on the fleet as it is now, and its standing against the envelope.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn plan_rollout(
    active: State<'_, ActiveProfile>,
    stores: State<'_, RolloutStores>,
    plan: RolloutPlan,
) -> Result<RolloutPlanAnswer, CommandError> {
    let engine = stores.engine(&active)?;
    let preview = engine.plan(&plan).await?;
    let policy = active.current().agent_policy()?.get()?;
    Ok(RolloutPlanAnswer {
        envelope: plan_limits(&policy, &preview),
        next_step: "Start it to reserve the canary's devices.".to_owned(),
        preview,
    })
}

/// Starts `plan` if it still previews to the `digest` the person saw; its id.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn start_rollout(
    active: State<'_, ActiveProfile>,
    stores: State<'_, RolloutStores>,
    plan: RolloutPlan,
    digest: String,
) -> Result<i64, CommandError> {
    let engine = stores.engine(&active)?;
    Ok(engine.start(&plan, &digest, &person(&active)).await?)
}

/// Every rollout, newest first.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn list_rollouts(
    active: State<'_, ActiveProfile>,
    stores: State<'_, RolloutStores>,
) -> Result<Vec<RolloutRecord>, CommandError> {
    let engine = stores.engine(&active)?;
    blocking(move || {
        engine
            .store()
            .rollouts()
            .map_err(|e| CommandError::new(ErrorCode::Local, e.to_string()))
    })
    .await
}

/// Where a rollout is: waves, counts, gates, who drives it.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn rollout_status(
    active: State<'_, ActiveProfile>,
    stores: State<'_, RolloutStores>,
    rollout_id: i64,
) -> Result<RolloutStatus, CommandError> {
    let engine = stores.engine(&active)?;
    blocking(move || Ok(engine.status(rollout_id)?)).await
}

/// The newest `limit` events of a rollout, oldest first.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn rollout_history(
    active: State<'_, ActiveProfile>,
    stores: State<'_, RolloutStores>,
    rollout_id: i64,
    limit: u32,
) -> Result<Vec<RolloutEvent>, CommandError> {
    let engine = stores.engine(&active)?;
    blocking(move || Ok(engine.history(rollout_id, None, limit as usize)?)).await
}

/// The person's step on a rollout.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn rollout_action(
    active: State<'_, ActiveProfile>,
    stores: State<'_, RolloutStores>,
    rollout_id: i64,
    action: RolloutAction,
) -> Result<RolloutStepAnswer, CommandError> {
    let engine = stores.engine(&active)?;
    let caller = person(&active);
    let id = rollout_id;
    let (devices, abort) = match action {
        RolloutAction::Pause => (engine.pause(id, &caller).map(|()| None)?, None),
        RolloutAction::Resume => (engine.resume(id, &caller).map(|()| None)?, None),
        RolloutAction::Promote => (engine.promote(id, &caller).map(|()| None)?, None),
        RolloutAction::RetryFailed => (Some(engine.retry_failed(id, &caller)?), None),
        RolloutAction::Abort => (None, Some(engine.abort(id, &caller).await?)),
    };
    Ok(RolloutStepAnswer {
        action,
        rollout_id: id,
        devices,
        abort,
        status: engine.status(id)?,
    })
}

/// The agents' envelope of the active profile.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn agent_policy(active: State<'_, ActiveProfile>) -> Result<AgentPolicy, CommandError> {
    let home = active.current().agent_policy()?.clone();
    blocking(move || home.get()).await
}

/// Saves the agents' envelope (every broken rule comes back at once, by field).
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn set_agent_policy(
    active: State<'_, ActiveProfile>,
    policy: AgentPolicy,
) -> Result<AgentPolicy, CommandError> {
    let home = active.current().agent_policy()?.clone();
    blocking(move || home.replace(&policy)).await
}

/// Qualifies (or, with `qualified: false`, unqualifies) a staged file for a model: agents
/// may then roll it out inside their envelope.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn qualify_firmware(
    active: State<'_, ActiveProfile>,
    model: String,
    file_id: String,
    qualified: bool,
) -> Result<AgentPolicy, CommandError> {
    let home = active.current().agent_policy()?.clone();
    let mut policy = home.get()?;
    if qualified {
        let ops = active.fleet().operations()?.clone();
        qualify_staged(&ops, &mut policy, &model, &file_id).await?;
    } else {
        policy.unqualify(&model, &file_id);
    }
    blocking(move || home.replace(&policy)).await
}

/// The kill switch: agents may take no rollout step, and every rollout an agent started is
/// paused. The ids paused.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn stop_agents(
    active: State<'_, ActiveProfile>,
    stores: State<'_, RolloutStores>,
) -> Result<Vec<i64>, CommandError> {
    let home = active.current().agent_policy()?.clone();
    let engine = stores.engine(&active)?;
    let caller = person(&active);
    blocking(move || {
        let mut policy = home.get()?;
        policy.agents_stopped = true;
        home.set(&policy)?;
        Ok(engine.pause_agent_rollouts(&caller)?)
    })
    .await
}
