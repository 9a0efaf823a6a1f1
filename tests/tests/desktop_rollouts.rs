//! End-to-end: a rollout in the Rollouts view of `mcp-rmm --demo`, as a person runs one. A
//! plan for one model is made in the view's form, previewed and started; a bad firmware for
//! that model is switched on in the simulator; the app's own runner drives the rollout (the
//! test only moves the simulator's clock on) until the failure gate pauses it at the canary,
//! with the reason, naming the model, shown; the person aborts; the simulator then holds no
//! reservation for any device of the rollout that had not started. Saves the paused view as
//! tests/artifacts/desktop-rollouts.png and the preview as desktop-rollout-preview.png (the
//! README's docs/rollouts.png and docs/rollout-preview.png are copies of them).
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use rmm_e2e::demo_app::{self, control_url, script, testid};
use rmm_e2e::desktop::Desktop;
use rmm_e2e::{artifacts_dir, binaries, demo_sign_in};
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn a_rollout_made_in_the_view_pauses_at_a_bad_canary_and_an_abort_leaves_no_reservation() {
    let app = binaries::desktop_app().unwrap_or_else(|e| panic!("{e}"));
    let desktop = Desktop::start().unwrap_or_else(|e| panic!("{e}"));
    let demo = demo_sign_in::start_signed_in(desktop.webdriver(), &app)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let session = demo.session;
    let control = control_url(&session).await.unwrap();
    let group = script(
        &session,
        "const info = await window.__TAURI_INTERNALS__.invoke('app_info'); done(info.demo.groupId);",
    )
    .await
    .unwrap();
    let group = group.as_str().unwrap().to_owned();
    session
        .wait_for_text(&testid("fleet-count"), LIMIT, |t| t.contains("250 devices"))
        .await
        .unwrap();

    // The model with most devices to update, and the file the rollout would give it.
    let target = script(
        &session,
        "const a = await window.__TAURI_INTERNALS__.invoke('plan_rollout', { plan: { name: 'probe' } });
         const t = [...a.preview.targets].sort((x, y) => y.devices - x.devices)[0];
         done({ model: t.model, file: t.file_id, devices: t.devices });",
    )
    .await
    .unwrap();
    let model = target["model"].as_str().unwrap().to_owned();
    let file = target["file"].as_str().unwrap().to_owned();
    assert!(target["devices"].as_u64().unwrap() > 5, "{target}");

    // The plan, typed into the view's form.
    let tab = session
        .wait_for(&testid("nav-rollouts"), LIMIT)
        .await
        .unwrap();
    session.click(&tab).await.unwrap();
    let new = session
        .wait_for(&testid("rollout-new"), LIMIT)
        .await
        .unwrap();
    session.click(&new).await.unwrap();
    script(
        &session,
        &format!(
            "const set = (id, v) => {{ const i = document.querySelector(`[data-testid=\"${{id}}\"]`); i.value = v; i.dispatchEvent(new Event('input', {{ bubbles: true }})); }};
             set('rollout-name', 'Bad canary');
             set('rollout-models', '{model}');
             set('rollout-canary', '3');
             set('rollout-waves', '100%');
             set('rollout-soak', '5');
             done(true);"
        ),
    )
    .await
    .unwrap();
    let preview = session
        .wait_for(&testid("rollout-preview-button"), LIMIT)
        .await
        .unwrap();
    session.click(&preview).await.unwrap();
    let summary = session
        .wait_for_text(&testid("rollout-preview-summary"), LIMIT, |t| {
            t.contains("devices in")
        })
        .await
        .unwrap();
    assert!(summary.contains("in 2 waves"), "{summary}");
    session
        .wait_for_text(&testid("rollout-preview-digest"), LIMIT, |t| {
            t.starts_with("Digest ")
        })
        .await
        .unwrap();
    session
        .wait_for_text(&testid("rollout-preview-envelope"), LIMIT, |t| {
            t.contains("Outside the agents' limits")
        })
        .await
        .unwrap();
    session
        .screenshot(&artifacts_dir().join("desktop-rollout-preview.png"))
        .await
        .unwrap();

    demo_app::post_json(
        &format!("{control}/rollout-faults"),
        &json!({"badFirmware": [{"fileId": file, "model": model}]}),
    )
    .await
    .unwrap();
    let start = session
        .wait_for(&testid("rollout-start"), LIMIT)
        .await
        .unwrap();
    session.click(&start).await.unwrap();
    session
        .wait_for_text(&testid("rollout-state"), LIMIT, |t| t == "running")
        .await
        .unwrap();

    // The app's runner drives it; the simulator's time moves ten minutes at a time.
    let mut paused = false;
    for _ in 0..90 {
        demo_app::post_json(&format!("{control}/clock"), &json!({"advanceSecs": 600}))
            .await
            .unwrap();
        if session
            .wait_for_text(&testid("rollout-state"), Duration::from_secs(3), |t| {
                t == "paused"
            })
            .await
            .is_ok()
        {
            paused = true;
            break;
        }
    }
    if !paused {
        let _ = session
            .screenshot(&artifacts_dir().join("desktop-rollouts-not-paused.png"))
            .await;
    }
    assert!(paused, "the failure gate did not pause the rollout");
    let reason = session
        .wait_for_text(&testid("rollout-reason"), LIMIT, |t| {
            t.contains("failure gate")
        })
        .await
        .unwrap();
    assert!(reason.contains("canary"), "{reason}");
    assert!(reason.contains(&model), "{reason}");
    let wave = session
        .wait_for_text(&testid("rollout-wave-0-counts"), LIMIT, |t| {
            t.contains("failing")
        })
        .await
        .unwrap();
    assert!(!wave.starts_with("0 verified · 0 failing"), "{wave}");
    session
        .screenshot(&artifacts_dir().join("desktop-rollouts.png"))
        .await
        .unwrap();

    // The person aborts (the confirmation answered yes).
    script(&session, "window.confirm = () => true; done(true);")
        .await
        .unwrap();
    let abort = session
        .wait_for(&testid("rollout-action-abort"), LIMIT)
        .await
        .unwrap();
    session.click(&abort).await.unwrap();
    session
        .wait_for_text(&testid("rollout-state"), LIMIT, |t| t == "aborted")
        .await
        .unwrap();

    // No device that had not started holds a reservation.
    let never_started = script(
        &session,
        "const list = await window.__TAURI_INTERNALS__.invoke('list_rollouts');
         const id = list.find((r) => r.name === 'Bad canary').id;
         const events = await window.__TAURI_INTERNALS__.invoke('rollout_history', { rolloutId: id, limit: 100000 });
         done(events.filter((e) => e.kind === 'aborted' && e.device_id).map((e) => e.device_id));",
    )
    .await
    .unwrap();
    let never_started: Vec<String> = never_started
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert!(!never_started.is_empty(), "every device had started");
    let held = demo_app::reservations(&control, &group).await.unwrap();
    let still: Vec<&(String, String)> = held
        .iter()
        .filter(|(device, _)| never_started.contains(device))
        .collect();
    assert!(still.is_empty(), "reservations left: {still:?}");
    session.close().await.unwrap();
}
