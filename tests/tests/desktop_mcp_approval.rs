//! End-to-end: an agent connected to the MCP endpoint hosted by `mcp-rmm --demo` asks for a
//! change; the app shows rmm-core's preview in its approval dialog and nothing happens until
//! the person answers. Approving applies the change in the simulator; refusing leaves it as it
//! was and tells the agent — even when the agent sent `confirm: true`. The agent shows in the
//! Agents view.
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
use rmm_e2e::demo_app::{self, control_url, testid};
use rmm_e2e::desktop::Desktop;
use rmm_e2e::webdriver::Session;
use rmm_e2e::{artifacts_dir, binaries, demo_sign_in};
use serde_json::{Value, json};

const LIMIT: Duration = Duration::from_secs(60);

/// An agent without elicitation: the app's dialog is what asks the person.
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
    name: &'static str,
    args: Value,
) -> CallToolResult {
    agent
        .call_tool(
            CallToolRequestParams::new(name).with_arguments(args.as_object().cloned().unwrap()),
        )
        .await
        .unwrap()
}

async fn ota_mode(control: &str, id: &str) -> String {
    let device = demo_app::device(control, id).await.unwrap();
    device["otaMode"].as_str().unwrap_or_default().to_owned()
}

/// Waits for the approval dialog, checks it shows the agent and the preview, then answers.
async fn answer_dialog(session: &Session, approve: bool, shot: Option<&str>) -> String {
    let summary = session
        .wait_for_text(&testid("approval-summary"), LIMIT, |t| !t.trim().is_empty())
        .await
        .unwrap();
    let dialog = session
        .wait_for_text(&testid("approval-dialog"), LIMIT, |t| {
            t.contains("e2e-agent")
        })
        .await
        .unwrap();
    if let Some(name) = shot {
        session
            .screenshot(&artifacts_dir().join(name))
            .await
            .unwrap();
    }
    let button = session
        .wait_for(
            &testid(if approve {
                "approval-approve"
            } else {
                "approval-refuse"
            }),
            LIMIT,
        )
        .await
        .unwrap();
    session.click(&button).await.unwrap();
    format!("{summary}\n{dialog}")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agents_change_waits_for_the_persons_approval_in_the_app() {
    let app = binaries::desktop_app().unwrap_or_else(|e| panic!("{e}"));
    let desktop = Desktop::start().unwrap_or_else(|e| panic!("{e}"));
    let demo = demo_sign_in::start_signed_in(desktop.webdriver(), &app)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let session = demo.session;

    // The person turns the endpoint on in the Agents view (any free port).
    let endpoint = demo_app::turn_on_endpoint(&session)
        .await
        .unwrap_or_else(|e| panic!("turning the endpoint on: {e}"));
    let (url, secret, configs) = (endpoint.url, endpoint.secret, endpoint.configs);
    let cursor: Value = serde_json::from_str(configs["cursor"].as_str().unwrap()).unwrap();
    assert_eq!(cursor["mcpServers"]["mcp-rmm"]["url"], url.as_str());
    let control = control_url(&session).await.unwrap();

    // A wrong secret is refused before any tool runs.
    let intruder = Agent
        .serve(StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(url.clone())
                .auth_header("wrong-secret-0123456789abcdef0123456789"),
        ))
        .await;
    assert!(intruder.is_err(), "a wrong secret was let in");

    let agent = Agent
        .serve(StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(url.clone()).auth_header(secret),
        ))
        .await
        .unwrap();
    let listing = call(&agent, "list_devices", json!({"page_size": 50})).await;
    let devices = listing.structured_content.unwrap()["devices"]
        .as_array()
        .unwrap()
        .clone();
    let online: Vec<String> = devices
        .iter()
        .filter(|d| d["connection"] != "offline" && d["ota_mode"] != "off")
        .map(|d| d["device_id"].as_str().unwrap().to_owned())
        .take(2)
        .collect();
    assert_eq!(online.len(), 2, "{devices:?}");
    let (approved_id, refused_id) = (online[0].clone(), online[1].clone());

    // Approved: the change happens only after the click.
    let asked = {
        let agent = agent.peer().clone();
        let id = approved_id.clone();
        tokio::spawn(async move {
            agent
                .call_tool(
                    CallToolRequestParams::new("configure_ota_mode").with_arguments(
                        json!({"device_ids": [id], "ota_mode": "off"})
                            .as_object()
                            .cloned()
                            .unwrap(),
                    ),
                )
                .await
                .unwrap()
        })
    };
    let shown = answer_dialog(&session, true, Some("desktop-approval.png")).await;
    assert!(shown.to_lowercase().contains("ota"), "{shown}");
    let result = asked.await.unwrap();
    assert_ne!(result.is_error, Some(true), "{result:?}");
    assert_eq!(
        result.structured_content.as_ref().unwrap()["status"],
        "done",
        "{result:?}"
    );
    assert_eq!(ota_mode(&control, &approved_id).await, "off");

    // Refused, although the agent said confirm: true: nothing changes, the agent is told.
    let before = ota_mode(&control, &refused_id).await;
    let asked = {
        let agent = agent.peer().clone();
        let id = refused_id.clone();
        tokio::spawn(async move {
            agent
                .call_tool(
                    CallToolRequestParams::new("configure_ota_mode").with_arguments(
                        json!({"device_ids": [id], "ota_mode": "off", "confirm": true})
                            .as_object()
                            .cloned()
                            .unwrap(),
                    ),
                )
                .await
                .unwrap()
        })
    };
    answer_dialog(&session, false, None).await;
    let result = asked.await.unwrap();
    assert_eq!(result.is_error, Some(true), "{result:?}");
    assert_eq!(
        result.structured_content.as_ref().unwrap()["status"],
        "refused",
        "{result:?}"
    );
    assert_eq!(
        ota_mode(&control, &refused_id).await,
        before,
        "a refused change was applied"
    );

    // The Agents view lists the agent and its calls.
    let listed = session
        .wait_for_text(&testid("agent-list"), LIMIT, |t| {
            t.contains("e2e-agent") && t.contains("configure_ota_mode")
        })
        .await
        .unwrap();
    assert!(listed.contains("list_devices"), "{listed}");

    agent.cancel().await.unwrap();
    session.close().await.unwrap();
}
