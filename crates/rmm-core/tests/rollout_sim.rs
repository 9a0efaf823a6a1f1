//! The rollout engine against the simulator on a frozen clock that the test moves forward:
//! a healthy fleet goes through every wave unattended (inside its windows, each device
//! reserved once, OTA restored), a bad firmware on one model stops the canary with a reason
//! naming model, file and numbers, lying `completed` statuses are not success, and a runner
//! killed at random points many times never reserves a device twice nor loses one — checked
//! from the simulator's own records. An agent's later steps are taken only inside the
//! envelope a person set, each limit named when one is hit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rmm_api::{ApiClient, ApiConfig, BearerToken, SecretString, StaticToken, TokenSource};
use rmm_core::rollout::{
    AgentPolicy, AgentStep, CrashPoint, DeviceState, EnvelopeLimit, RolloutEngine, RolloutError,
    RolloutPlan, RolloutState, RolloutStore, TimeRules, WaveSpec,
};
use rmm_core::{AuditLog, AuditQuery, Caller, FleetOperations, OperationSettings};
use rmm_sim::{BadFirmware, RolloutFaults, Sim, SimConfig};

struct Setup {
    sim: Arc<Sim>,
    ops: FleetOperations,
    store: Arc<RolloutStore>,
    clock: rmm_core::Clock,
}

async fn setup(devices: usize, failure_share: f64) -> Setup {
    let sim = Arc::new(
        rmm_sim::start(SimConfig {
            devices,
            failure_share,
            clock_speed: 0.0,
            seed: 7,
            ..SimConfig::default()
        })
        .await
        .unwrap(),
    );
    let tokens: Arc<dyn TokenSource> = Arc::new(StaticToken::new(
        BearerToken::new(sim.valid_token()).unwrap(),
    ));
    let config = ApiConfig::new(
        &sim.info().api_base_url,
        SecretString::from(sim.info().subscription_key.clone()),
        "+00:00",
    )
    .unwrap();
    let client = ApiClient::new(config, tokens.clone()).unwrap();
    let s = sim.clone();
    let clock: rmm_core::Clock = Arc::new(move || s.now_ms());
    let ops = FleetOperations::new(
        client,
        tokens,
        Arc::new(AuditLog::in_memory().unwrap()),
        OperationSettings::default(),
    )
    .with_clock(clock.clone());
    Setup {
        sim,
        ops,
        store: Arc::new(RolloutStore::in_memory().unwrap()),
        clock,
    }
}

fn person() -> Caller {
    Caller::Person { name: "ann".into() }
}

fn engine(s: &Setup, holder: &str) -> RolloutEngine {
    RolloutEngine::new(s.ops.clone(), s.store.clone(), s.clock.clone(), holder)
}

fn plan() -> RolloutPlan {
    let mut plan = RolloutPlan::named("test");
    plan.canary.count = 12;
    plan.canary.soak_minutes = 30;
    plan.waves = [10.0, 40.0, 100.0]
        .into_iter()
        .map(|p| WaveSpec {
            percent: Some(p),
            count: None,
            soak_minutes: 30,
        })
        .collect();
    plan.execution.retries = 0;
    // About 8% of the simulator's printers are offline: they time out and fail.
    plan.gates.success_share = 0.8;
    plan.gates.failure_share = 0.3;
    plan
}

/// Ticks until the rollout stops running (or `max` ticks), moving the clock to each due time.
async fn drive(s: &Setup, engine: &RolloutEngine, id: i64, max: usize) -> RolloutState {
    for _ in 0..max {
        let report = engine.tick(id).await.unwrap();
        if report.state != RolloutState::Running {
            return report.state;
        }
        let wait = (report.next_due_ms - s.sim.now_ms()).max(0) / 1000;
        s.sim.advance_clock(wait + 1);
    }
    panic!("the rollout did not settle in {max} ticks");
}

async fn start(s: &Setup, plan: &RolloutPlan) -> (i64, rmm_core::rollout::RolloutPreview) {
    let e = engine(s, "starter");
    let preview = e.plan(plan).await.unwrap();
    let id = e.start(plan, &preview.digest, &person()).await.unwrap();
    (id, preview)
}

fn reservations_per_device(sim: &Sim) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in sim.reservation_log() {
        *counts.entry(r.device_id).or_insert(0) += 1;
    }
    counts
}

#[tokio::test]
async fn a_healthy_fleet_goes_through_every_wave_inside_its_windows() {
    let s = setup(400, 0.0).await;
    let mut plan = plan();
    plan.windows.hours = vec!["22-5".into()];
    plan.windows.site_limit = Some(15);
    plan.time_zones
        .sites
        .insert("Osaka HQ".into(), "UTC+09:00".into());
    plan.time_zones
        .sites
        .insert("Chicago Office".into(), "UTC-06:00".into());
    let (id, preview) = start(&s, &plan).await;
    assert!(preview.waves.len() >= 3, "{:?}", preview.waves.len());
    let auto_before: Vec<String> = preview
        .waves
        .iter()
        .flat_map(|w| &w.devices)
        .filter(|d| d.ota_auto)
        .map(|d| d.device_id.clone())
        .collect();
    assert!(!auto_before.is_empty());

    let e = engine(&s, "runner");
    let state = drive(&s, &e, id, 2_000).await;
    let status = e.status(id).unwrap();
    assert_eq!(state, RolloutState::Finished, "{}", status.summary);
    let offline = preview
        .waves
        .iter()
        .flat_map(|w| &w.devices)
        .filter(|d| d.offline)
        .count();
    assert_eq!(
        status.counts.verified,
        preview.total_devices - offline,
        "{status:?}"
    );
    assert_eq!(status.counts.failed, offline, "offline devices time out");

    // From the simulator's records: every device reserved exactly once, on the target file,
    // and now on the target firmware.
    let counts = reservations_per_device(&s.sim);
    let planned: Vec<_> = preview.waves.iter().flat_map(|w| &w.devices).collect();
    for d in &planned {
        assert_eq!(counts.get(&d.device_id), Some(&1), "{}", d.device_id);
        if !d.offline {
            let now = s.sim.device(&d.device_id).unwrap();
            assert_eq!(now["firmwareVersion"], d.target_version.as_str());
        }
    }
    assert_eq!(counts.len(), planned.len(), "nothing outside the plan");
    // Every update ran inside the window in its device's zone.
    let rules = TimeRules::from_plan(&plan.windows);
    let zone_of: HashMap<&str, &str> = planned
        .iter()
        .map(|d| (d.device_id.as_str(), d.time_zone.as_str()))
        .collect();
    for r in s.sim.reservation_log() {
        let zone = rmm_core::parse_utc_offset(zone_of[r.device_id.as_str()]).unwrap();
        assert_eq!(r.time_zone, zone_of[r.device_id.as_str()]);
        assert!(
            rules.allows(r.execute_ms, zone.minutes(), None),
            "{} runs at {} outside 22-5",
            r.device_id,
            rmm_core::rollout::local_text(r.execute_ms, zone.minutes())
        );
    }
    // The OTA guard restored every device it held.
    for id in &auto_before {
        assert_eq!(s.sim.device(id).unwrap()["otaMode"], "auto", "{id}");
    }
    // Every change is in the audit log as the rollout acting for ann.
    let audit = s
        .ops
        .audit_entries(&AuditQuery {
            caller: Some("rollout".into()),
            limit: Some(10_000),
            ..AuditQuery::default()
        })
        .unwrap();
    assert!(audit.iter().any(|a| a.action == "schedule_firmware_update"));
    assert!(audit.iter().any(|a| a.action == "configure_ota_mode"));
    assert!(audit.iter().all(|a| matches!(&a.caller,
        Caller::Rollout { started_by, rollout_id, .. } if started_by.contains("ann") && *rollout_id == id)));
}

#[tokio::test]
async fn a_bad_firmware_on_one_model_stops_the_canary_and_says_why() {
    let s = setup(400, 0.0).await;
    let plan = plan();
    let e = engine(&s, "runner");
    let preview = e.plan(&plan).await.unwrap();
    let target = preview
        .targets
        .iter()
        .max_by_key(|t| t.devices)
        .unwrap()
        .clone();
    s.sim
        .set_rollout_faults(RolloutFaults {
            bad_firmware: vec![BadFirmware {
                file_id: target.file_id.clone(),
                model: Some(target.model.clone()),
            }],
            ..RolloutFaults::default()
        })
        .unwrap();
    let mut plan = plan;
    plan.gates.failure_count = 0;
    let preview = e.plan(&plan).await.unwrap();
    let id = e.start(&plan, &preview.digest, &person()).await.unwrap();
    let state = drive(&s, &e, id, 500).await;
    let status = e.status(id).unwrap();
    assert_eq!(state, RolloutState::Paused);
    assert_eq!(status.rollout.wave, 0, "stopped in the canary");
    let reason = &status.rollout.reason;
    assert!(reason.starts_with("failure gate: canary"), "{reason}");
    assert!(reason.contains(&target.model), "{reason}");
    assert!(reason.contains(&target.file_id), "{reason}");
    assert!(reason.contains("finished devices failed"), "{reason}");
    // Nothing beyond the canary was reserved.
    let canary = preview.waves[0].devices.len();
    assert!(s.sim.reservation_log().len() <= canary);
}

#[tokio::test]
async fn lying_completed_statuses_are_not_success() {
    let s = setup(300, 0.0).await;
    s.sim
        .set_rollout_faults(RolloutFaults {
            lying_completed_share: 1.0,
            ..RolloutFaults::default()
        })
        .unwrap();
    let (id, _) = start(&s, &plan()).await;
    let e = engine(&s, "runner");
    let state = drive(&s, &e, id, 500).await;
    let status = e.status(id).unwrap();
    assert_eq!(state, RolloutState::Paused, "{}", status.summary);
    assert_eq!(status.counts.verified, 0);
    let history = e.history(id, None, 10_000).unwrap();
    assert!(
        history.iter().any(|h| h
            .detail
            .contains("says completed but the firmware read back is still")),
        "{history:?}"
    );
}

#[tokio::test]
async fn a_second_runner_is_told_who_holds_the_lease() {
    let s = setup(100, 0.0).await;
    let (id, _) = start(&s, &plan()).await;
    engine(&s, "first").tick(id).await.unwrap();
    match engine(&s, "second").tick(id).await {
        Err(RolloutError::LeaseHeld { holder, .. }) => assert_eq!(holder, "first"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_runner_killed_at_random_points_never_reserves_twice_nor_loses_a_device() {
    let s = setup(300, 0.0).await;
    let (id, preview) = start(&s, &plan()).await;
    // A seeded sequence of crash decisions: about one in three points kills the runner.
    let state = Arc::new(AtomicU64::new(0x9e37_79b9_7f4a_7c15));
    let crashes = Arc::new(AtomicU64::new(0));
    let mut runner = 0;
    let mut finished = false;
    for _ in 0..3_000 {
        let (st, cr) = (state.clone(), crashes.clone());
        let e = engine(&s, &format!("runner-{runner}")).with_crash_hook(Arc::new(
            move |_point: CrashPoint| {
                let mut x = st.load(Ordering::Relaxed);
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                st.store(x, Ordering::Relaxed);
                let crash = x % 3 == 0;
                if crash {
                    cr.fetch_add(1, Ordering::Relaxed);
                }
                crash
            },
        ));
        match e.tick(id).await {
            Ok(report) if report.state != RolloutState::Running => {
                finished = true;
                break;
            }
            Ok(report) => {
                let wait = (report.next_due_ms - s.sim.now_ms()).max(0) / 1000;
                s.sim.advance_clock(wait + 1);
            }
            // Killed: the next runner waits out the dead one's lease.
            Err(RolloutError::Crashed(_)) => {
                runner += 1;
                s.sim.advance_clock(rmm_core::rollout::LEASE_MS / 1000 + 1);
            }
            Err(other) => panic!("{other}"),
        }
    }
    assert!(finished, "the rollout did not finish");
    assert!(
        crashes.load(Ordering::Relaxed) > 20,
        "too few crashes to mean anything"
    );
    let status = engine(&s, "reader").status(id).unwrap();
    assert_eq!(
        status.rollout.state,
        RolloutState::Finished,
        "{}",
        status.summary
    );
    let counts = reservations_per_device(&s.sim);
    for d in preview.waves.iter().flat_map(|w| &w.devices) {
        assert_eq!(
            counts.get(&d.device_id).copied().unwrap_or(0),
            1,
            "{} reserved a wrong number of times",
            d.device_id
        );
        if !d.offline {
            assert_eq!(
                s.sim.device(&d.device_id).unwrap()["firmwareVersion"],
                d.target_version.as_str()
            );
        }
    }
    // None lost: every device ended verified, or failed with a reason (offline ones).
    let devices = s.store.devices(id).unwrap();
    assert_eq!(devices.len(), preview.total_devices);
    for d in &devices {
        match d.state {
            DeviceState::Verified => {}
            DeviceState::Failed => assert!(d.detail.contains("no progress"), "{d:?}"),
            other => panic!("{} ended {other:?}", d.device_id),
        }
    }
}

fn agent() -> Caller {
    Caller::McpClient {
        name: "claude-code 2.1".into(),
        session: "s-1".into(),
    }
}

/// The limits an agent's step hit, or a panic if it was taken.
fn refused(result: Result<usize, RolloutError>) -> Vec<EnvelopeLimit> {
    match result {
        Err(RolloutError::OutsideEnvelope(hits)) => {
            for h in &hits {
                assert!(!h.message.is_empty());
            }
            hits.iter().map(|h| h.limit).collect()
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn an_agent_takes_a_step_alone_only_inside_the_envelope_and_each_limit_is_named() {
    let s = setup(200, 0.0).await;
    let mut plan = plan();
    plan.gates.pause_after_each_wave = true;
    plan.gates.success_share = 0.5;
    plan.gates.failure_share = 0.9;
    let e = engine(&s, "runner");
    let preview = e.plan(&plan).await.unwrap();
    let id = e.start(&plan, &preview.digest, &agent()).await.unwrap();
    assert_eq!(drive(&s, &e, id, 500).await, RolloutState::Paused);
    let status = e.status(id).unwrap();
    assert!(
        status
            .rollout
            .reason
            .contains("waiting for a person to promote"),
        "{}",
        status.rollout.reason
    );
    let next_wave = preview.waves[1].devices.len();
    let reserved_before = s.sim.reservation_log().len();

    // The defaults: nothing is qualified.
    let mut policy = AgentPolicy {
        max_failure_share: 1.0,
        ..AgentPolicy::default()
    };
    let hits = refused(e.agent_step(id, AgentStep::Promote, &agent(), &policy));
    assert_eq!(hits, vec![EnvelopeLimit::Qualified]);
    for t in &preview.targets {
        policy.qualify(&t.model, &t.file_id);
    }
    // One limit at a time, each named.
    policy.largest_wave = u32::try_from(next_wave - 1).unwrap();
    assert_eq!(
        refused(e.agent_step(id, AgentStep::Promote, &agent(), &policy)),
        vec![EnvelopeLimit::LargestWave]
    );
    policy.largest_wave = 1000;
    policy.devices_per_day = u32::try_from(reserved_before + next_wave - 1).unwrap();
    assert_eq!(
        refused(e.agent_step(id, AgentStep::Promote, &agent(), &policy)),
        vec![EnvelopeLimit::DevicesPerDay]
    );
    policy.devices_per_day = 10_000;
    // The profile's zone is UTC here: an hour range that leaves the current hour out, and
    // today as a blackout date.
    let now = s.sim.now_ms();
    let hour = (now / 3_600_000).rem_euclid(24);
    policy.hours = vec![format!("{}-{}", (hour + 1) % 24, (hour + 2) % 24)];
    let today = time::OffsetDateTime::from_unix_timestamp(now / 1000)
        .unwrap()
        .date();
    policy.blackout_dates = vec![today.to_string()];
    assert_eq!(
        refused(e.agent_step(id, AgentStep::Promote, &agent(), &policy)),
        vec![EnvelopeLimit::Hours, EnvelopeLimit::BlackoutDates]
    );
    policy.hours = vec![format!("{hour}-{}", (hour + 1) % 24)];
    policy.blackout_dates.clear();
    policy.agents_stopped = true;
    assert_eq!(
        refused(e.agent_step(id, AgentStep::Promote, &agent(), &policy)),
        vec![EnvelopeLimit::AgentsStopped]
    );
    // Refusals changed nothing, and each is in the rollout's history.
    assert_eq!(e.status(id).unwrap().rollout.state, RolloutState::Paused);
    assert_eq!(s.sim.reservation_log().len(), reserved_before);
    let history = e.history(id, None, 1000).unwrap();
    let refusals: Vec<_> = history
        .iter()
        .filter(|h| h.kind == "agent_refused")
        .collect();
    assert_eq!(refusals.len(), 5, "{history:?}");
    assert!(
        refusals[0].detail.contains("claude-code"),
        "{:?}",
        refusals[0]
    );

    // Inside every limit: taken, as the agent.
    policy.agents_stopped = false;
    let starting = e
        .agent_step(id, AgentStep::Promote, &agent(), &policy)
        .unwrap();
    assert_eq!(starting, next_wave);
    let status = e.status(id).unwrap();
    assert_eq!(status.rollout.state, RolloutState::Running);
    assert!(status.rollout.promote);
    let last = e.history(id, None, 1).unwrap();
    assert!(
        last[0].detail.contains("mcp_client claude-code"),
        "{last:?}"
    );

    // The kill switch pauses what agents started, and leaves a person's rollouts running.
    let paused = e.pause_agent_rollouts(&person()).unwrap();
    assert_eq!(paused, vec![id]);
    let status = e.status(id).unwrap();
    assert_eq!(status.rollout.state, RolloutState::Paused);
    assert!(
        status.rollout.reason.contains("kill switch"),
        "{}",
        status.rollout.reason
    );
}

#[tokio::test]
async fn an_agent_may_not_resume_past_the_failure_share_a_person_set() {
    let s = setup(300, 0.0).await;
    let plan = plan();
    let e = engine(&s, "runner");
    let preview = e.plan(&plan).await.unwrap();
    let target = preview
        .targets
        .iter()
        .max_by_key(|t| t.devices)
        .unwrap()
        .clone();
    s.sim
        .set_rollout_faults(RolloutFaults {
            bad_firmware: vec![BadFirmware {
                file_id: target.file_id.clone(),
                model: Some(target.model.clone()),
            }],
            ..RolloutFaults::default()
        })
        .unwrap();
    let mut plan = plan;
    plan.gates.failure_count = 0;
    let preview = e.plan(&plan).await.unwrap();
    let id = e.start(&plan, &preview.digest, &agent()).await.unwrap();
    assert_eq!(drive(&s, &e, id, 500).await, RolloutState::Paused);
    let mut policy = AgentPolicy {
        devices_per_day: 10_000,
        largest_wave: 10_000,
        ..AgentPolicy::default()
    };
    for t in &preview.targets {
        policy.qualify(&t.model, &t.file_id);
    }
    let hits = match e.agent_step(id, AgentStep::Resume, &agent(), &policy) {
        Err(RolloutError::OutsideEnvelope(hits)) => hits,
        other => panic!("{other:?}"),
    };
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].limit, EnvelopeLimit::MaxFailureShare);
    assert!(hits[0].message.contains("failing"), "{}", hits[0].message);
    // A person may resume it.
    e.resume(id, &person()).unwrap();
    assert_eq!(e.status(id).unwrap().rollout.state, RolloutState::Running);
}
