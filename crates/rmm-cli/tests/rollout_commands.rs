//! `rmm rollout` end to end against the simulator: plan (JSON, digest), a start with a stale
//! digest refused with exit 6, start, `run --fast-sim` driving every wave on the simulator's
//! clock to the end (exit 8: finished, with the offline and failing devices named as failed),
//! status, history and list; bad flags named with exit code 2.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Setup;
use serde_json::Value;

const PLAN: &[&str] = &[
    "--name",
    "cli test",
    "--canary",
    "5",
    "--wave",
    "50%",
    "--wave",
    "100%",
    "--soak",
    "10",
    "--success-share",
    "0.5",
    "--failure-share",
    "0.5",
    "--failure-count",
    "20",
    "--retries",
    "0",
];

fn args<'a>(head: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    head.iter().chain(tail).copied().collect()
}

#[tokio::test]
async fn plan_start_run_status_history_and_list() {
    let s = Setup::new(120, true).await;
    let (code, out, err) = s.run(&args(&["rollout", "--json", "plan"], PLAN)).await;
    assert_eq!(code, 0, "{err}");
    let answer: Value = serde_json::from_str(&out).unwrap();
    let preview = &answer["preview"];
    let digest = preview["digest"].as_str().unwrap().to_owned();
    let total = preview["total_devices"].as_u64().unwrap();
    assert!(total > 10, "{out}");
    assert_eq!(preview["waves"][0]["label"], "canary");

    let (code, _, err) = s
        .run(&args(&["rollout", "start", "--digest", "0000"], PLAN))
        .await;
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("preview changed"), "{err}");

    let (code, out, err) = s
        .run(&args(
            &["rollout", "--json", "start", "--digest", &digest],
            PLAN,
        ))
        .await;
    assert_eq!(code, 0, "{err}");
    let id = serde_json::from_str::<Value>(&out).unwrap()["rollout_id"]
        .as_i64()
        .unwrap()
        .to_string();

    // Before it runs: the canary is current, and its gates' numbers are shown.
    let (code, out, err) = s.run(&["rollout", "status", &id]).await;
    assert_eq!(code, 0, "{err}");
    let canary = preview["waves"][0]["devices"].as_array().unwrap().len();
    let needed = canary.div_ceil(2); // --success-share 0.5
    assert!(
        out.contains("<- current")
            && out.contains(&format!(
                "gates: 0 verified, {needed} needed to go on; failure gate counts once 5 have finished (0 so far)"
            )),
        "{out}"
    );

    let (code, out, err) = s.run(&["rollout", "run", &id, "--fast-sim"]).await;
    assert!(code == 0 || code == 8, "{code}: {out}\n{err}");
    assert!(out.contains("verified"), "{out}");

    let (code, out, _) = s.run(&["rollout", "--json", "status", &id]).await;
    let status: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status["rollout"]["state"], "finished", "{out}");
    let verified = status["counts"]["verified"].as_u64().unwrap();
    let failed = status["counts"]["failed"].as_u64().unwrap();
    assert_eq!(verified + failed, total);
    assert_eq!(code, if failed > 0 { 8 } else { 0 });
    assert!(verified > total / 2, "{out}");

    let (code, out, _) = s.run(&["rollout", "history", &id]).await;
    assert_eq!(code, 0);
    assert!(
        out.contains("verified") && out.contains("finished"),
        "{out}"
    );
    let (code, out, _) = s.run(&["rollout", "list"]).await;
    assert_eq!(code, 0);
    assert!(
        out.contains("cli test") && out.contains("finished"),
        "{out}"
    );
}

#[tokio::test]
async fn bad_plan_flags_are_named_with_exit_code_2() {
    let s = Setup::new(20, true).await;
    let (code, _, err) = s
        .run(&[
            "rollout", "plan", "--wave", "lots", "--canary", "0", "--hours", "25-3",
        ])
        .await;
    assert_eq!(code, 2, "{err}");
    for flag in ["--wave", "--canary", "--hours"] {
        assert!(err.contains(flag), "{flag}: {err}");
    }
}
