//! The app's rollout runner: while the app runs (also hidden in the tray) it drives the running
//! rollouts of the active profile — each tick when the engine said it is due, under the
//! engine's lease, so a rollout driven by `rmm rollout run` elsewhere is left to it — and so
//! resumes them after a restart. It tells the window when a rollout moved (`RolloutChanged`)
//! and the person, by a desktop notification, when a wave finished, a gate or a person paused
//! a rollout (with the reason), and when one ended.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use rmm_core::rollout::{RolloutEngine, RolloutRecord, RolloutState};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager as _};
use tauri_plugin_notification::NotificationExt as _;
use tauri_specta::Event as _;

use crate::active_profile::ActiveProfile;
use crate::rollout_commands::{RolloutStores, holder};

/// How often the runner looks (a tick runs only when due).
const LOOK_EVERY: Duration = Duration::from_secs(2);
/// A failed tick is tried again after this long.
const RETRY_MS: i64 = 30_000;
/// The lease is renewed when less than this is left.
const RENEW_BELOW_MS: i64 = 60_000;

/// A rollout moved on (state, wave or reason): the Rollouts view reads it again.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct RolloutChanged {
    pub rollout_id: i64,
    pub state: RolloutState,
    pub summary: String,
}

/// What the runner remembers between looks.
#[derive(Default)]
struct Memory {
    /// When each rollout's next tick is due (app's profile clock).
    due: HashMap<i64, i64>,
    /// Each rollout's (state, wave, reason) at the last look.
    seen: HashMap<i64, (RolloutState, usize, String)>,
    /// The groups of the profile in use, and which profile they are of.
    groups: Option<(String, HashSet<String>)>,
}

/// Starts the runner on the app's async runtime; it runs as long as the app.
pub fn spawn(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let mut memory = Memory::default();
        loop {
            tokio::time::sleep(LOOK_EVERY).await;
            look(&app, &mut memory).await;
        }
    });
}

async fn look(app: &AppHandle, memory: &mut Memory) {
    let (Some(active), Some(stores)) = (
        app.try_state::<ActiveProfile>(),
        app.try_state::<RolloutStores>(),
    ) else {
        return;
    };
    let Ok(engine) = stores.engine(&active) else {
        return;
    };
    let Ok(ops) = active.fleet().operations().cloned() else {
        return;
    };
    let Ok(rollouts) = engine.store().rollouts() else {
        return;
    };
    if !rollouts.iter().any(|r| r.state == RolloutState::Running) && memory.seen.is_empty() {
        remember(app, memory, &rollouts, false);
        return;
    }
    // Only this profile's rollouts: the store beside the audit log is shared by profiles.
    let profile = active.current().name().unwrap_or_default().to_owned();
    if memory.groups.as_ref().is_none_or(|(p, _)| *p != profile) {
        match ops.tenants().await {
            Ok(tenants) => {
                let ids = tenants.into_iter().map(|t| t.group_id).collect();
                memory.groups = Some((profile, ids));
            }
            Err(error) => {
                tracing::debug!(%error, "rollouts not driven: the profile's groups are unknown");
                return;
            }
        }
    }
    let groups = memory
        .groups
        .as_ref()
        .map(|(_, g)| g.clone())
        .unwrap_or_default();
    let me = holder();
    for r in rollouts.iter().filter(|r| r.state == RolloutState::Running) {
        if !groups.contains(&r.group_id) {
            continue;
        }
        let now = ops.now_ms();
        let elsewhere =
            r.lease_holder.as_deref().is_some_and(|h| h != me) && r.lease_until_ms >= now;
        if elsewhere {
            continue;
        }
        if memory.due.get(&r.id).is_some_and(|due| *due > now) {
            if r.lease_holder.as_deref() == Some(me.as_str())
                && r.lease_until_ms - now < RENEW_BELOW_MS
                && let Err(error) = engine.renew_lease(r.id)
            {
                tracing::debug!(rollout = r.id, %error, "lease not renewed");
            }
            continue;
        }
        tick(&engine, r.id, now, memory).await;
    }
    if let Ok(rollouts) = engine.store().rollouts() {
        remember(app, memory, &rollouts, true);
    }
}

async fn tick(engine: &RolloutEngine, id: i64, now: i64, memory: &mut Memory) {
    match engine.tick(id).await {
        Ok(report) => {
            memory.due.insert(id, report.next_due_ms);
            if report.state != RolloutState::Running
                && let Err(error) = engine.release(id)
            {
                tracing::debug!(rollout = id, %error, "lease not released");
            }
        }
        Err(error) => {
            tracing::warn!(rollout = id, %error, "rollout tick failed; tried again shortly");
            memory.due.insert(id, now + RETRY_MS);
        }
    }
}

/// Tells the window of every rollout that moved, and the person of the moves that matter.
fn remember(app: &AppHandle, memory: &mut Memory, rollouts: &[RolloutRecord], tell: bool) {
    for r in rollouts {
        let now = (r.state, r.wave, r.reason.clone());
        let before = memory.seen.insert(r.id, now.clone());
        let Some(before) = before else { continue };
        if before == now || !tell {
            continue;
        }
        let summary = news(r, before.1);
        let changed = RolloutChanged {
            rollout_id: r.id,
            state: r.state,
            summary: summary
                .clone()
                .unwrap_or_else(|| r.state.as_str().to_owned()),
        };
        if let Err(error) = changed.emit(app) {
            tracing::debug!(%error, "rollout change not delivered to the window");
        }
        if let Some(body) = summary
            && (before.0 != r.state || before.1 != r.wave)
        {
            let title = format!("Rollout {:?}", r.name);
            if let Err(error) = app.notification().builder().title(title).body(body).show() {
                tracing::debug!(%error, "no desktop notification shown");
            }
        }
    }
}

/// What a person is told about a rollout that moved from wave `wave_before`.
fn news(r: &RolloutRecord, wave_before: usize) -> Option<String> {
    match r.state {
        RolloutState::Paused => Some(format!("Paused: {}", r.reason)),
        RolloutState::Finished => Some(format!("Finished: {}", r.reason)),
        RolloutState::Aborted => Some(format!("Aborted: {}", r.reason)),
        RolloutState::Running if r.wave > wave_before => Some(format!(
            "Wave {} finished; wave {} of {} started",
            wave_before,
            r.wave,
            r.waves.saturating_sub(1)
        )),
        RolloutState::Running => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(state: RolloutState, wave: usize, reason: &str) -> RolloutRecord {
        RolloutRecord {
            id: 1,
            name: "Q4".into(),
            group_id: "g".into(),
            digest: "d".into(),
            state,
            reason: reason.into(),
            wave,
            waves: 3,
            wave_passed_ms: None,
            promote: false,
            started_by: rmm_core::Caller::Person { name: "ann".into() },
            created_ms: 0,
            updated_ms: 0,
            lease_holder: None,
            lease_until_ms: 0,
        }
    }

    #[test]
    fn a_person_is_told_of_a_finished_wave_a_pause_with_its_reason_and_the_end() {
        let next = news(&record(RolloutState::Running, 1, ""), 0);
        assert_eq!(
            next.as_deref(),
            Some("Wave 0 finished; wave 1 of 2 started")
        );
        let paused = news(
            &record(RolloutState::Paused, 0, "failure gate: canary ..."),
            0,
        );
        assert_eq!(paused.as_deref(), Some("Paused: failure gate: canary ..."));
        let done = news(&record(RolloutState::Finished, 2, "every wave passed"), 2);
        assert_eq!(done.as_deref(), Some("Finished: every wave passed"));
        assert_eq!(news(&record(RolloutState::Running, 1, ""), 1), None);
    }
}
