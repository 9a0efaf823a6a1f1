//! End-to-end: an agent's rollout through the MCP endpoint hosted by `mcp-rmm --demo`. The
//! agent plans; a start under another digest is refused without asking anyone; the start it
//! asks for waits for the person, whose dialog shows the waves, the envelope and the digest,
//! and approves. Driven by the app's runner to the canary's pause, the agent's promote is
//! refused outside the envelope with the limit named; the person qualifies the firmware in the
//! Firmware tab and sets the failure share in Settings, and the agent's promote is then taken
//! without a new approval. The kill switch
//! in the Rollouts tab pauses the rollout and the agent may not resume it.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation,
};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, RoleClient, ServiceExt as _};
use rmm_e2e::demo_app::{self, control_url, script, testid};
use rmm_e2e::desktop::Desktop;
use rmm_e2e::{artifacts_dir, binaries, demo_sign_in};
use serde_json::{Value, json};

const LIMIT: Duration = Duration::from_secs(60);

#[derive(Clone)]
struct Agent;

impl ClientHandler for Agent {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("e2e-agent", "1.0"),
        )
    }
}

async fn call(
    agent: &RunningService<RoleClient, Agent>,
    name: &str,
    args: Value,
) -> CallToolResult {
    agent
        .call_tool(
            CallToolRequestParams::new(name.to_owned())
                .with_arguments(args.as_object().cloned().unwrap()),
        )
        .await
        .unwrap()
}

fn error_body(result: &CallToolResult) -> Value {
    assert_eq!(result.is_error, Some(true), "{result:?}");
    serde_json::from_str(&result.content[0].as_text().unwrap().text).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_starts_a_rollout_the_person_approves_and_promotes_only_inside_the_envelope() {
    let app = binaries::desktop_app().unwrap_or_else(|e| panic!("{e}"));
    let desktop = Desktop::start().unwrap_or_else(|e| panic!("{e}"));
    let demo = demo_sign_in::start_signed_in(desktop.webdriver(), &app)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let session = demo.session;
    let endpoint = demo_app::turn_on_endpoint(&session)
        .await
        .unwrap_or_else(|e| panic!("turning the endpoint on: {e}"));
    let control = control_url(&session).await.unwrap();
    let agent = Agent
        .serve(StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(endpoint.url.clone())
                .auth_header(endpoint.secret.clone()),
        ))
        .await
        .unwrap();

    // One model, so that one qualification covers the rollout.
    let probe = call(&agent, "plan_rollout", json!({"plan": {"name": "probe"}})).await;
    let probe = probe.structured_content.unwrap();
    let mut targets = probe["preview"]["targets"].as_array().unwrap().clone();
    targets.sort_by_key(|t| std::cmp::Reverse(t["devices"].as_u64().unwrap()));
    let model = targets[0]["model"].as_str().unwrap().to_owned();
    let file = targets[0]["file_id"].as_str().unwrap().to_owned();
    let plan = json!({
        "name": "agent rollout",
        "devices": {"models": [model]},
        "canary": {"count": 2, "soak_minutes": 5},
        "waves": [{"percent": 100.0, "soak_minutes": 5}],
        "gates": {"pause_after_each_wave": true, "success_share": 0.5, "failure_share": 0.9},
        "execution": {"retries": 0}
    });
    let planned = call(&agent, "plan_rollout", json!({"plan": plan})).await;
    let planned = planned.structured_content.unwrap();
    let digest = planned["preview"]["digest"].as_str().unwrap().to_owned();

    // Another digest: refused at once, nobody is asked.
    let foreign = call(
        &agent,
        "start_rollout",
        json!({"plan": plan, "digest": "0000000000000000", "confirm": true}),
    )
    .await;
    assert_eq!(
        foreign.structured_content.unwrap()["status"],
        "preview_changed"
    );

    // The start waits for the person's yes in the app's dialog.
    let asked = {
        let peer = agent.peer().clone();
        let args = json!({"plan": plan, "digest": digest});
        tokio::spawn(async move {
            peer.call_tool(
                CallToolRequestParams::new("start_rollout")
                    .with_arguments(args.as_object().cloned().unwrap()),
            )
            .await
            .unwrap()
        })
    };
    let title = session
        .wait_for_text(&testid("approval-title"), LIMIT, |t| {
            t.contains("start rollout")
        })
        .await
        .unwrap();
    assert!(
        title.starts_with("e2e-agent 1.0 asks to start rollout"),
        "{title}"
    );
    session
        .wait_for_text(&testid("rollout-preview-digest"), LIMIT, |t| {
            t.contains(&digest)
        })
        .await
        .unwrap();
    session
        .screenshot(&artifacts_dir().join("desktop-agent-rollout-approval.png"))
        .await
        .unwrap();
    let approve = session
        .wait_for(&testid("approval-approve"), LIMIT)
        .await
        .unwrap();
    session.click(&approve).await.unwrap();
    let started = asked.await.unwrap().structured_content.unwrap();
    assert_eq!(started["status"], "started", "{started}");
    let id = started["rollout_id"].as_i64().unwrap();

    // The app's runner drives it to the canary's pause; the simulator's time moves on.
    let mut paused = false;
    for _ in 0..90 {
        demo_app::post_json(&format!("{control}/clock"), &json!({"advanceSecs": 600}))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let status = call(&agent, "rollout_status", json!({"rollout_id": id})).await;
        if status.structured_content.unwrap()["rollout"]["state"] == "paused" {
            paused = true;
            break;
        }
    }
    assert!(paused, "the rollout never waited for its promote");

    let refused = error_body(&call(&agent, "promote_rollout", json!({"rollout_id": id})).await);
    assert_eq!(refused["error"], "outside_envelope");
    assert_eq!(refused["limits"][0]["limit"], "qualified", "{refused}");

    // The person qualifies the file for the model in the Firmware tab.
    let tab = session
        .wait_for(&testid("nav-firmware"), LIMIT)
        .await
        .unwrap();
    session.click(&tab).await.unwrap();
    let box_ = session
        .wait_for(&testid(&format!("qualify-{file}-{model}")), LIMIT)
        .await
        .unwrap();
    session.click(&box_).await.unwrap();
    let mut qualified = false;
    for _ in 0..50 {
        let policy = script(
            &session,
            "done(await window.__TAURI_INTERNALS__.invoke('agent_policy'));",
        )
        .await
        .unwrap();
        if policy["qualified"]
            .as_array()
            .is_some_and(|q| !q.is_empty())
        {
            qualified = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(qualified, "the Firmware tab did not qualify the file");

    // An offline canary device may time out: the person lets agents go on up to half failing.
    let tab = session
        .wait_for(&testid("nav-settings"), LIMIT)
        .await
        .unwrap();
    session.click(&tab).await.unwrap();
    session
        .wait_for_text(&testid("limit-kill-switch"), LIMIT, |t| t.contains("off"))
        .await
        .unwrap();
    script(
        &session,
        "const i = document.querySelector('[data-testid=\"limit-max-failure-share\"]'); i.value = '0.5'; done(true);",
    )
    .await
    .unwrap();
    let save = session
        .wait_for(&testid("limit-save"), LIMIT)
        .await
        .unwrap();
    session.click(&save).await.unwrap();
    let mut saved = false;
    for _ in 0..50 {
        let policy = script(
            &session,
            "done(await window.__TAURI_INTERNALS__.invoke('agent_policy'));",
        )
        .await
        .unwrap();
        if policy["max_failure_share"] == 0.5 {
            saved = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(saved, "the Settings form did not save the failure share");

    let promoted = call(&agent, "promote_rollout", json!({"rollout_id": id})).await;
    assert_ne!(promoted.is_error, Some(true), "{promoted:?}");
    let promoted = promoted.structured_content.unwrap();
    assert_eq!(promoted["action"], "promote");
    assert_eq!(promoted["status"]["rollout"]["state"], "running");

    // The kill switch in the Rollouts tab.
    let tab = session
        .wait_for(&testid("nav-rollouts"), LIMIT)
        .await
        .unwrap();
    session.click(&tab).await.unwrap();
    script(&session, "window.confirm = () => true; done(true);")
        .await
        .unwrap();
    let stop = session
        .wait_for(&testid("agents-stop"), LIMIT)
        .await
        .unwrap();
    session.click(&stop).await.unwrap();
    let mut stopped = false;
    for _ in 0..50 {
        let status = call(&agent, "rollout_status", json!({"rollout_id": id})).await;
        if status.structured_content.unwrap()["rollout"]["state"] == "paused" {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(stopped, "the kill switch did not pause the agent's rollout");
    let refused = error_body(&call(&agent, "resume_rollout", json!({"rollout_id": id})).await);
    assert_eq!(refused["limits"][0]["limit"], "agents_stopped", "{refused}");
    agent.cancel().await.unwrap();
    session.close().await.unwrap();
}
