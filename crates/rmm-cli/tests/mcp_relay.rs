//! `rmm mcp --stdio` while the desktop app runs: the process relays to the app's local socket,
//! so the agent's calls are answered by the app's server — with the app's approvals (here a
//! stand-in app that refuses every change) and in the app's activity list. With no app it
//! serves on its own (mcp_command.rs), and `--standalone` never relays. `--read-only` holds
//! through the relay: the app's session for that agent lists no change tool and refuses one
//! called by name.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use common::{PROFILE, Setup};
use futures::future::BoxFuture;
use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use rmm_api::{ApiClient, ApiConfig, BearerToken, SecretString, StaticToken, TokenSource};
use rmm_core::{AuditLog, Caller, ChangePreview, FleetOperations, OperationSettings};
use rmm_mcp::local_socket::LocalSocket;
use rmm_mcp::{Approval, CallSeen, EndpointHost, RmmMcpServer, ServerOptions};
use serde_json::json;

/// The app, as far as the relay can tell: refuses every change, remembers what it saw.
#[derive(Default)]
struct StandInApp {
    sessions: Mutex<Vec<&'static str>>,
    calls: Mutex<Vec<String>>,
    approvals: Mutex<u32>,
}

impl EndpointHost for StandInApp {
    fn approve(&self, _caller: Caller, _preview: ChangePreview) -> BoxFuture<'static, Approval> {
        *self.approvals.lock().unwrap() += 1;
        Box::pin(async { Approval::Refused })
    }
    fn session_started(&self, _caller: Caller, transport: &'static str) {
        self.sessions.lock().unwrap().push(transport);
    }
    fn call_seen(&self, call: CallSeen) {
        self.calls.lock().unwrap().push(call.tool);
    }
}

fn operations(s: &Setup) -> FleetOperations {
    let tokens: Arc<dyn TokenSource> = Arc::new(StaticToken::new(
        BearerToken::new(s.sim.valid_token()).unwrap(),
    ));
    let info = s.sim.info();
    let config = ApiConfig::new(
        &info.api_base_url,
        SecretString::from(info.subscription_key.clone()),
        "+00:00",
    )
    .unwrap();
    FleetOperations::new(
        ApiClient::new(config, tokens.clone()).unwrap(),
        tokens,
        Arc::new(AuditLog::in_memory().unwrap()),
        OperationSettings::default(),
    )
}

/// Serves the app's MCP server on the profile's socket until the test ends.
async fn start_app(s: &Setup, app: Arc<StandInApp>) -> tokio::task::JoinHandle<()> {
    let path = s
        .runtime_dir()
        .join("mcp-rmm")
        .join(format!("{PROFILE}.sock"));
    let socket = LocalSocket::bind(&path).await.unwrap();
    let ops = operations(s);
    tokio::spawn(async move {
        while let Ok(stream) = socket.accept().await {
            let host: Arc<dyn EndpointHost> = app.clone();
            let server =
                RmmMcpServer::new(ops.clone(), ServerOptions::default()).with_host(host, "socket");
            tokio::spawn(rmm_mcp::local_socket::serve_client(server, stream));
        }
    })
}

#[tokio::test]
async fn stdio_goes_through_the_running_app_and_its_approvals() {
    let s = Setup::new(20, true).await;
    let app = Arc::new(StandInApp::default());
    let serving = start_app(&s, app.clone()).await;

    let command = tokio::process::Command::from(s.rmm(&["mcp", "--stdio"]));
    let client = ().serve(TokioChildProcess::new(command).unwrap()).await.unwrap();
    let page = client
        .call_tool(
            CallToolRequestParams::new("list_devices")
                .with_arguments(json!({"page_size": 3}).as_object().cloned().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(page.structured_content.unwrap()["summary"]["returned"], 3);
    let id = {
        let devices = client
            .call_tool(
                CallToolRequestParams::new("list_devices")
                    .with_arguments(json!({"page_size": 1}).as_object().cloned().unwrap()),
            )
            .await
            .unwrap()
            .structured_content
            .unwrap();
        devices["devices"][0]["device_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The agent says confirm: true; the app (which refuses) decides.
    let change = client
        .call_tool(
            CallToolRequestParams::new("configure_ota_mode").with_arguments(
                json!({"device_ids": [id], "ota_mode": "off", "confirm": true})
                    .as_object()
                    .cloned()
                    .unwrap(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(change.is_error, Some(true), "{change:?}");
    assert_eq!(change.structured_content.unwrap()["status"], "refused");
    client.cancel().await.unwrap();

    assert_eq!(*app.approvals.lock().unwrap(), 1, "the app was asked once");
    assert_eq!(*app.sessions.lock().unwrap(), ["socket"]);
    assert_eq!(
        *app.calls.lock().unwrap(),
        ["list_devices", "list_devices", "configure_ota_mode"]
    );
    serving.abort();
}

#[tokio::test]
async fn standalone_serves_here_even_while_the_app_runs() {
    let s = Setup::new(20, true).await;
    let app = Arc::new(StandInApp::default());
    let serving = start_app(&s, app.clone()).await;
    let command = tokio::process::Command::from(s.rmm(&["mcp", "--stdio", "--standalone"]));
    let client = ().serve(TokioChildProcess::new(command).unwrap()).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "list_devices"));
    client.cancel().await.unwrap();
    assert!(
        app.sessions.lock().unwrap().is_empty(),
        "nothing reached the app"
    );
    serving.abort();
}

#[tokio::test]
async fn read_only_holds_when_relayed_to_the_app() {
    let s = Setup::new(20, true).await;
    let app = Arc::new(StandInApp::default());
    let serving = start_app(&s, app.clone()).await;
    let command = tokio::process::Command::from(s.rmm(&["mcp", "--stdio", "--read-only"]));
    let client = ().serve(TokioChildProcess::new(command).unwrap()).await.unwrap();
    let tools: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    assert!(tools.iter().any(|t| t == "list_devices"), "{tools:?}");
    for change in rmm_mcp::CHANGE_TOOLS {
        assert!(
            !tools.iter().any(|t| t == change),
            "{change} listed: {tools:?}"
        );
    }
    let refused = client
        .call_tool(
            CallToolRequestParams::new("configure_ota_mode").with_arguments(
                json!({"device_ids": ["mn=TVgtMzA3MQ==:sn=MQ=="], "ota_mode": "off", "confirm": true})
                    .as_object()
                    .cloned()
                    .unwrap(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(refused.is_error, Some(true), "{refused:?}");
    let text = &refused.content[0].as_text().unwrap().text;
    assert!(text.contains("read-only"), "{text}");
    client.cancel().await.unwrap();
    assert_eq!(
        *app.sessions.lock().unwrap(),
        ["socket"],
        "it went through the app"
    );
    assert_eq!(
        *app.approvals.lock().unwrap(),
        0,
        "nothing was put to the person"
    );
    serving.abort();
}
