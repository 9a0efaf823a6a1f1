//! Benchmark: fetch a 10,000-device fleet from the simulator (20 ms latency, 100 per page,
//! concurrency 8) and print wall time, pages, requests per second, the client's CPU time per
//! 1,000 devices, and the ratio to the ideal `ceil(pages / concurrency) × latency`; once
//! against the simulator's default behaviour and once against its strict real-world preset
//! (another default order, a device moving between pages, refusals as 200, odd ids, ...).
//!
//! The simulator runs on its own OS thread and runtime; the client runs on this thread's
//! single-threaded runtime, so this thread's CPU time is the client's share alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use cpu_time::{ProcessTime, ThreadTime};
use rmm_api::{ApiClient, ApiConfig, BearerToken, DeviceListRequest, SecretString, StaticToken};

const DEVICES: usize = 10_000;
const LATENCY_MS: u64 = 20;
const PAGE: u32 = 100;
const CONCURRENCY: usize = 8;
const RUNS: usize = 5;

struct SimHandle {
    api_base_url: String,
    subscription_key: String,
    group_id: String,
    token: String,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

fn start_sim_thread(modes: rmm_sim::Modes) -> SimHandle {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("rmm-sim".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let sim = rmm_sim::start(rmm_sim::SimConfig {
                    devices: DEVICES,
                    latency_ms: LATENCY_MS,
                    modes,
                    ..Default::default()
                })
                .await
                .unwrap();
                let info = sim.info().clone();
                ready_tx
                    .send((
                        info.api_base_url,
                        info.subscription_key,
                        info.group_id,
                        sim.valid_token(),
                    ))
                    .unwrap();
                let _ = stop_rx.await;
                sim.shutdown().await;
            });
        })
        .unwrap();
    let (api_base_url, subscription_key, group_id, token) = ready_rx.recv().unwrap();
    SimHandle {
        api_base_url,
        subscription_key,
        group_id,
        token,
        stop,
        thread,
    }
}

fn main() {
    for (label, modes) in [
        ("default", rmm_sim::Modes::default()),
        ("strict", rmm_sim::Modes::strict()),
    ] {
        run(label, modes);
    }
}

fn run(label: &str, modes: rmm_sim::Modes) {
    let sim = start_sim_thread(modes);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut config = ApiConfig::new(
        &sim.api_base_url,
        SecretString::from(sim.subscription_key.clone()),
        "+00:00",
    )
    .unwrap();
    config.concurrency = CONCURRENCY;
    let client = ApiClient::new(
        config,
        Arc::new(StaticToken::new(
            BearerToken::new(sim.token.clone()).unwrap(),
        )),
    )
    .unwrap();
    let template = DeviceListRequest {
        count: PAGE,
        ..DeviceListRequest::new(&sim.group_id)
    };

    println!(
        "\nfleet_fetch, simulator {label}: {DEVICES} devices, {LATENCY_MS} ms latency, {PAGE}/page, concurrency {CONCURRENCY} (1 warm-up + {RUNS} runs)"
    );
    println!(
        "{:>4} {:>9} {:>6} {:>8} {:>11} {:>14} {:>9} {:>7}",
        "run", "wall ms", "pages", "req/s", "client CPU", "CPU/1k dev ms", "ideal ms", "ratio"
    );
    let mut ratios = Vec::new();
    let mut cpu_per_k = Vec::new();
    for run in 0..=RUNS {
        let cpu = ThreadTime::now();
        let process = ProcessTime::now();
        let wall = Instant::now();
        let fleet = runtime
            .block_on(client.fetch_all_devices(&template, |_| {}))
            .unwrap();
        let wall = wall.elapsed();
        let cpu = cpu.elapsed();
        let process = process.elapsed();
        assert_eq!(fleet.devices.len(), DEVICES, "every device fetched");
        let pages = fleet.pages;
        let ideal = Duration::from_millis(LATENCY_MS * pages.div_ceil(CONCURRENCY) as u64);
        let ratio = wall.as_secs_f64() / ideal.as_secs_f64();
        let per_k = cpu.as_secs_f64() * 1000.0 / (DEVICES as f64 / 1000.0);
        let run_label = if run == 0 {
            "warm".to_owned()
        } else {
            run.to_string()
        };
        println!(
            "{run_label:>4} {:>9.1} {pages:>6} {:>8.0} {:>9.1}ms {per_k:>14.2} {:>9} {ratio:>6.2}x   (process CPU incl. simulator {:.1} ms)",
            wall.as_secs_f64() * 1000.0,
            pages as f64 / wall.as_secs_f64(),
            cpu.as_secs_f64() * 1000.0,
            ideal.as_millis(),
            process.as_secs_f64() * 1000.0,
        );
        if run > 0 {
            ratios.push(ratio);
            cpu_per_k.push(per_k);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (ratio, per_k) = (median(&mut ratios), median(&mut cpu_per_k));
    println!(
        "median ({label}): {ratio:.2}x ideal (target <= 1.50x: {}), client CPU {per_k:.2} ms per 1,000 devices (target < 5 ms: {})",
        if ratio <= 1.5 { "met" } else { "MISSED" },
        if per_k < 5.0 { "met" } else { "MISSED" }
    );
    println!(
        "note: the first page is fetched alone to learn totalCount, so the floor is one latency above ideal."
    );

    drop(client);
    let _ = sim.stop.send(());
    sim.thread.join().unwrap();
}
