//! `rmm policy` end to end against the simulator: the defaults shown, limits set and kept in
//! the settings file, every bad flag named at once with exit code 2 and nothing written, a
//! qualification checked against the staged files (unknown file, file for another model), and
//! `rmm rollout plan --json` giving the plan's standing against the envelope.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Setup;
use serde_json::Value;

#[tokio::test]
async fn limits_are_set_checked_and_kept_and_a_plan_shows_where_it_stands() {
    let s = Setup::new(40, true).await;
    let (code, out, err) = s.run(&["policy", "show"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("qualified firmware none"), "{out}");
    assert!(out.contains("kill switch        off"), "{out}");

    let settings = s.config_dir().join("settings.toml");
    let before = std::fs::read_to_string(&settings).unwrap();
    let (code, _, err) = s
        .run(&[
            "policy",
            "set",
            "--hours",
            "25-3",
            "--max-failure-share",
            "2",
            "--largest-wave",
            "0",
        ])
        .await;
    assert_eq!(code, 2, "{err}");
    for flag in ["--hours", "--max-failure-share", "--largest-wave"] {
        assert!(err.contains(flag), "{flag}: {err}");
    }
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), before);

    let (code, out, err) = s
        .run(&[
            "policy",
            "--json",
            "set",
            "--hours",
            "8-18",
            "--largest-wave",
            "25",
            "--blackout",
            "2026-12-24",
        ])
        .await;
    assert_eq!(code, 0, "{err}");
    let policy: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(policy["largest_wave"], 25);
    assert_eq!(policy["hours"][0], "8-18");
    let text = std::fs::read_to_string(&settings).unwrap();
    assert!(text.contains("[profiles.testfleet.agent_policy]"), "{text}");

    // Qualifications are checked against what is staged.
    let (code, out, _) = s.run(&["firmware", "--json"]).await;
    assert_eq!(code, 0);
    let files: Value = serde_json::from_str(&out).unwrap();
    let files = files["files"].as_array().unwrap().clone();
    let made_for = files
        .iter()
        .find(|f| !f["fits_models"].as_array().unwrap().is_empty())
        .unwrap();
    let model = made_for["fits_models"][0].as_str().unwrap();
    let file_id = made_for["file_id"].as_str().unwrap();
    let (code, _, err) = s
        .run(&[
            "policy",
            "qualify",
            "--model",
            model,
            "--file",
            "no-such-file",
        ])
        .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--file") && err.contains("rmm firmware"),
        "{err}"
    );
    let (code, _, err) = s
        .run(&["policy", "qualify", "--model", "AR-0000", "--file", file_id])
        .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is made for"), "{err}");
    let (code, out, err) = s
        .run(&["policy", "qualify", "--model", model, "--file", file_id])
        .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("qualified          {file_id} for {model}")),
        "{out}"
    );

    // A plan's preview says which limits it is beyond.
    let (code, out, err) = s
        .run(&[
            "rollout", "--json", "plan", "--canary", "3", "--wave", "100%",
        ])
        .await;
    assert_eq!(code, 0, "{err}");
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["envelope"]["policy"]["largest_wave"], 25);
    let limits: Vec<&str> = answer["envelope"]["limits_hit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["limit"].as_str().unwrap())
        .collect();
    assert!(limits.contains(&"qualified"), "{out}");

    let (code, out, err) = s.run(&["policy", "stop-agents"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Paused 0 rollout(s)"), "{out}");
    let (_, out, _) = s.run(&["policy", "show"]).await;
    assert!(out.contains("kill switch        ON"), "{out}");
    let (code, _, _) = s.run(&["policy", "allow-agents"]).await;
    assert_eq!(code, 0);
    let (code, _, err) = s
        .run(&["policy", "unqualify", "--model", model, "--file", "other"])
        .await;
    assert_eq!(code, 2, "{err}");
}
