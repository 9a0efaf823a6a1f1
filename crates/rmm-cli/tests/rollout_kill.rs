//! Crash safety with real processes: `rmm rollout run --fast-sim` is killed (SIGKILL on Unix,
//! TerminateProcess on Windows) at random moments, many times over one rollout, and started
//! again each time, as an administrator would after a crash or a closed laptop. From the
//! simulator's own records: no device was reserved twice and none was lost, and the rollout
//! finished with every device verified or failed with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::Setup;
use serde_json::Value;

const PLAN: &[&str] = &[
    "--name",
    "killed runner",
    "--canary",
    "8",
    "--wave",
    "30%",
    "--wave",
    "100%",
    "--soak",
    "10",
    "--success-share",
    "0.5",
    "--failure-share",
    "0.9",
    "--failure-count",
    "200",
    // No retries: each device is then reserved exactly once, which the records can show.
    "--retries",
    "0",
];

/// A seeded sequence of kill delays (xorshift), so that a failure can be run again.
struct Delays(u64);

impl Delays {
    fn next_ms(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        10 + x % 250
    }
}

#[tokio::test]
async fn a_runner_process_killed_again_and_again_never_reserves_twice_nor_loses_a_device() {
    let s = Setup::new(300, true).await;
    // A little latency per request, so that a runner's work spans many kill moments (a
    // healthy rollout needs few cycles and would otherwise end between two kills).
    s.sim.set_faults(rmm_sim::Faults {
        latency_ms: 4,
        ..s.sim.faults()
    });
    let args = |head: &[&str]| -> Vec<String> {
        head.iter().chain(PLAN).map(|a| (*a).to_owned()).collect()
    };
    let plan = args(&["rollout", "--json", "plan"]);
    let (code, out, err) = s
        .run(&plan.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    assert_eq!(code, 0, "{err}");
    let answer: Value = serde_json::from_str(&out).unwrap();
    let preview = &answer["preview"];
    let digest = preview["digest"].as_str().unwrap().to_owned();
    let mut start = args(&["rollout", "--json", "start"]);
    start.extend(["--digest".to_owned(), digest]);
    let (code, out, err) = s
        .run(&start.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    assert_eq!(code, 0, "{err}");
    let id = serde_json::from_str::<Value>(&out).unwrap()["rollout_id"]
        .as_i64()
        .unwrap()
        .to_string();

    let mut delays = Delays(0x2545_f491_4f6c_dd1d);
    let (mut kills, mut runs) = (0, 0);
    let stderr_path = s.home.path().join("run.stderr");
    let outcome = loop {
        runs += 1;
        assert!(runs < 400, "the rollout did not finish in {runs} runs");
        // After enough kills, one runner is left to finish, so the test ends in bounded time.
        let deadline = (kills < 40).then(|| Duration::from_millis(delays.next_ms()));
        let mut command = s.rmm(&["rollout", "run", &id, "--fast-sim"]);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr_path).unwrap());
        let exit = tokio::task::spawn_blocking(move || {
            let mut child = command.spawn().unwrap();
            let started = Instant::now();
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    return Some(status);
                }
                if deadline.is_some_and(|d| started.elapsed() >= d) {
                    child.kill().unwrap();
                    child.wait().unwrap();
                    return None;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
        .await
        .unwrap();
        match exit {
            Some(status) => break status,
            None => {
                kills += 1;
                // The next runner waits out the killed one's lease, on the simulator's time.
                s.sim.advance_clock(rmm_core::rollout::LEASE_MS / 1000 + 1);
            }
        }
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(
        matches!(outcome.code(), Some(0 | 8)),
        "the last runner ended {outcome:?}: {stderr}"
    );
    assert!(kills >= 20, "only {kills} kills: too few to mean anything");

    let (_, out, _) = s.run(&["rollout", "--json", "status", &id]).await;
    let status: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status["rollout"]["state"], "finished", "{out}");

    let mut reserved: HashMap<String, Vec<rmm_sim::UpdateFate>> = HashMap::new();
    for r in s.sim.reservation_log() {
        reserved.entry(r.device_id).or_default().push(r.fate);
    }
    let devices: Vec<&Value> = preview["waves"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w["devices"].as_array().unwrap())
        .collect();
    assert_eq!(
        devices.len() as u64,
        preview["total_devices"].as_u64().unwrap()
    );
    let mut updated = 0;
    for d in &devices {
        let device_id = d["device_id"].as_str().unwrap();
        let fates = reserved.get(device_id).cloned().unwrap_or_default();
        // The truth, whatever the cloud shows (in `documented-fields-only` mode no device
        // says it is offline, and the plan cannot know).
        let truth = s.sim.device_truth(device_id).unwrap();
        let firmware = truth["firmwareVersion"].clone();
        if truth["connectionStatus"] == "offline" || d["offline"].as_bool().unwrap_or(false) {
            assert!(
                fates.len() <= 1,
                "{device_id} reserved {} times",
                fates.len()
            );
            continue;
        }
        if fates.len() != 1 {
            let (_, history, _) = s
                .run(&["rollout", "history", &id, "--device", device_id])
                .await;
            panic!(
                "{device_id} reserved {} times (after {kills} kills):\n{history}",
                fates.len()
            );
        }
        if matches!(
            fates[0],
            rmm_sim::UpdateFate::Normal | rmm_sim::UpdateFate::Busy(_)
        ) {
            assert_eq!(firmware, d["target_version"], "{device_id} was not updated");
        }
        if firmware == d["target_version"] {
            updated += 1;
        }
    }
    // Verified is what the devices show, no more and no less.
    assert_eq!(
        status["counts"]["verified"].as_u64().unwrap(),
        updated,
        "{out}"
    );
    // None lost: every device is verified or failed with a reason.
    let counts = &status["counts"];
    assert_eq!(
        counts["verified"].as_u64().unwrap() + counts["failed"].as_u64().unwrap(),
        devices.len() as u64,
        "{out}"
    );
    let (_, out, _) = s
        .run(&["rollout", "--json", "history", &id, "--limit", "100000"])
        .await;
    let history: Vec<Value> = serde_json::from_str(&out).unwrap();
    let reconciled = history.iter().filter(|e| e["kind"] == "reconciled").count();
    eprintln!(
        "{runs} runner processes, {kills} killed, {reconciled} interrupted reservations settled"
    );
}
