//! Benchmark: a rollout to every device of a 10,000-device fleet (each on an older firmware)
//! in 5 waves (canary, then 10%, 20% and 30% of the rest, then what remains) against the
//! simulator on a frozen clock that the driver moves to each due time (the "fast clock"), with
//! the simulator's default 10% failure share and 8% offline printers, 1 retry. Prints the wall
//! time, the cycles, the API requests (reads per cycle against the group's pages, changes per
//! device), CPU time per cycle and peak memory beside targets, and the reasoning behind each
//! target. The simulator runs in the same process: CPU and memory are an upper bound for the
//! runner alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Instant;

use rmm_api::{ApiClient, ApiConfig, BearerToken, SecretString, StaticToken, TokenSource};
use rmm_core::rollout::{RolloutEngine, RolloutPlan, RolloutState, RolloutStore, WaveSpec};
use rmm_core::{AuditLog, Caller, FleetOperations, OperationSettings};
use rmm_sim::SimConfig;

const DEVICES: usize = 10_000;

/// Peak resident memory of this process (Linux; 0 elsewhere), MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn cpu_secs() -> f64 {
    // utime + stime of this process from /proc/self/stat (clock ticks, 100 per second).
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(0.0)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sim = Arc::new(
            rmm_sim::start(SimConfig {
                devices: DEVICES,
                clock_speed: 0.0,
                outdated_share: Some(1.0),
                ..SimConfig::default()
            })
            .await
            .unwrap(),
        );
        let tokens: Arc<dyn TokenSource> =
            Arc::new(StaticToken::new(BearerToken::new(sim.valid_token()).unwrap()));
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
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(RolloutStore::open(&dir.path().join("rollouts.sqlite")).unwrap());
        let engine = RolloutEngine::new(ops, store, clock, "bench");

        let mut plan = RolloutPlan::named("bench");
        plan.canary.count = 40;
        plan.waves = [10.0, 20.0, 30.0, 100.0]
            .into_iter()
            .map(|p| WaveSpec {
                percent: Some(p),
                count: None,
                soak_minutes: 60,
            })
            .collect();
        plan.gates.success_share = 0.7;
        plan.gates.failure_share = 0.3;
        plan.gates.failure_count = 50;
        plan.execution.retries = 1;

        let before = sim.stats();
        let (cpu0, wall) = (cpu_secs(), Instant::now());
        let preview = engine.plan(&plan).await.unwrap();
        let id = engine
            .start(&plan, &preview.digest, &Caller::CliUser { user: "bench".into() })
            .await
            .unwrap();
        let mut ticks = 0;
        let state = loop {
            ticks += 1;
            let report = engine.tick(id).await.unwrap();
            if report.state != RolloutState::Running || ticks > 5_000 {
                break report.state;
            }
            let wait = (report.next_due_ms - sim.now_ms()).max(0) / 1000;
            sim.advance_clock(wait + 1);
        };
        let secs = wall.elapsed().as_secs_f64();
        let cpu = cpu_secs() - cpu0;
        let after = sim.stats();
        let changes = after.change_requests - before.change_requests;
        let reads = after.api_requests - before.api_requests - changes;
        let status = engine.status(id).unwrap();
        let n = preview.total_devices.max(1) as f64;
        let pages = DEVICES.div_ceil(100) as f64;
        println!(
            "rollout of {} devices of a {DEVICES}-device fleet, {} waves, {ticks} cycles: {:?}, {} verified, {} failed",
            preview.total_devices,
            preview.waves.len(),
            state,
            status.counts.verified,
            status.counts.failed
        );
        println!(
            "wall time        {secs:>8.1} s     target <= 60 s: a whole multi-wave rollout must fit in a test run; the simulated days pass on the fast clock"
        );
        println!(
            "cycles           {ticks:>8}       target <= 300: a cycle is due when something can change (an execute time, a timeout, a soak's end); while nothing moves the wait doubles, up to 15 min"
        );
        println!(
            "reads per cycle  {:>8.2} x the group's {pages} pages   target <= 1.1: the cycle reads the group once, and the previews of its reservations answer from that read",
            reads as f64 / ticks.max(1) as f64 / pages
        );
        println!(
            "changes/device   {:>8.3}       target <= 0.05: reservations go in batches of up to {} devices per file, zone and time",
            changes as f64 / n,
            rmm_core::MAX_DEVICES_PER_CHANGE
        );
        println!(
            "requests/device  {:>8.2}       (all requests; the whole fleet is in the rollout, so reads are shared by every device)",
            (reads + changes) as f64 / n
        );
        println!(
            "CPU per cycle    {:>8.0} ms    target <= 300 ms, the simulator's work included: a cycle parses one read of 10,000 devices and writes what changed ({cpu:.1} s in all)",
            1000.0 * cpu / ticks.max(1) as f64
        );
        println!(
            "peak memory      {:>8.0} MB    target <= 400 MB with the simulator: the runner keeps one read-back of the group and the store is on disk",
            peak_rss_mb()
        );
    });
}
