//! `rmm mcp` as agents and users run it: the real `rmm mcp --stdio` process driven by an rmcp
//! client (child-process transport) against the simulator, `--read-only`, and
//! `--print-config` giving the same kept secret every time, which the HTTP endpoint accepts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Setup;
use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};

async fn stdio_client(
    s: &Setup,
    extra: &[&str],
) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    let mut args = vec!["mcp", "--stdio"];
    args.extend(extra);
    let command = tokio::process::Command::from(s.rmm(&args));
    ().serve(TokioChildProcess::new(command).unwrap())
        .await
        .unwrap()
}

async fn call(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    name: &'static str,
    args: Value,
) -> rmcp::model::CallToolResult {
    client
        .call_tool(
            CallToolRequestParams::new(name).with_arguments(args.as_object().cloned().unwrap()),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn stdio_serves_reads_and_confirmed_changes_and_read_only_lists_no_changes() {
    let s = Setup::new(60, true).await;
    let client = stdio_client(&s, &[]).await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "schedule_firmware_update"));
    let page = call(&client, "list_devices", json!({"page_size": 7})).await;
    assert_eq!(page.structured_content.unwrap()["summary"]["returned"], 7);

    let devices = call(
        &client,
        "list_devices",
        json!({"all": true, "ota_mode": "auto"}),
    )
    .await
    .structured_content
    .unwrap();
    let device = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["connection"] != "offline")
        .unwrap()["device_id"]
        .clone();
    let args = json!({"device_ids": [device], "ota_mode": "off", "start_hour": -1, "end_hour": -1});
    let preview = call(&client, "configure_ota_mode", args.clone()).await;
    assert_eq!(preview.structured_content.unwrap()["status"], "preview");
    assert_eq!(s.sim.stats().change_requests, 0);
    let mut confirmed = args;
    confirmed["confirm"] = json!(true);
    let done = call(&client, "configure_ota_mode", confirmed).await;
    assert_eq!(done.structured_content.unwrap()["status"], "done");
    assert_eq!(s.sim.stats().change_requests, 1);
    client.cancel().await.unwrap();

    let client = stdio_client(&s, &["--read-only"]).await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(
        tools
            .iter()
            .all(|t| !rmm_mcp::CHANGE_TOOLS.contains(&t.name.as_ref()))
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn print_config_keeps_one_secret_that_the_http_endpoint_accepts() {
    let s = Setup::new(10, true).await;
    let (code, first, err) = s
        .run(&["mcp", "--print-config", "--http", "127.0.0.1:18765"])
        .await;
    assert_eq!(code, 0, "{err}");
    let first: Value = serde_json::from_str(&first).unwrap();
    let (_, second, _) = s
        .run(&["mcp", "--print-config", "--http", "127.0.0.1:18765"])
        .await;
    let second: Value = serde_json::from_str(&second).unwrap();
    let http = &first["mcpServers"]["mcp-rmm"];
    assert_eq!(http["type"], "http");
    assert_eq!(http["url"], "http://127.0.0.1:18765/mcp");
    let auth = http["headers"]["Authorization"].as_str().unwrap();
    assert!(auth.starts_with("Bearer ") && auth.len() > 40, "{auth}");
    assert_eq!(
        second["mcpServers"]["mcp-rmm"]["headers"]["Authorization"],
        auth
    );
    let stdio = &first["mcpServers"]["mcp-rmm-stdio"];
    assert_eq!(
        stdio["args"],
        json!(["mcp", "--stdio", "--profile", common::PROFILE])
    );
    // Kept in the profile's store, not in the settings file.
    let stored = std::fs::read_to_string(s.secrets()).unwrap();
    assert!(stored.contains(auth.trim_start_matches("Bearer ")));
    let settings = std::fs::read_to_string(s.config_dir().join("settings.toml")).unwrap();
    assert!(!settings.contains(auth.trim_start_matches("Bearer ")));
    assert!(!err.contains(auth.trim_start_matches("Bearer ")), "{err}");
    // VS Code's shape keeps the secret out of the workspace file (a prompt asks for it).
    let (code, code_config, err) = s
        .run(&[
            "mcp",
            "--print-config",
            "--http",
            "127.0.0.1:18765",
            "--client",
            "vscode",
        ])
        .await;
    assert_eq!(code, 0, "{err}");
    assert!(!code_config.contains(auth.trim_start_matches("Bearer ")));
    assert!(!err.contains(auth.trim_start_matches("Bearer ")), "{err}");
    let code_config: Value = serde_json::from_str(&code_config).unwrap();
    assert_eq!(code_config["inputs"][0]["password"], true);
    assert_eq!(code_config["servers"]["mcp-rmm"]["type"], "http");
    let (code, _, err) = s.run(&["mcp", "--print-config", "--client", "emacs"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--client") && err.contains("vscode"), "{err}");

    // The endpoint started later takes that secret, and refuses without it.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let mut server = s.rmm(&["mcp", "--http", &addr]).spawn().unwrap();
    let url = format!("http://{addr}/mcp");
    let http_client = reqwest::Client::new();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let mut answered = None;
    for _ in 0..100 {
        match http_client
            .post(&url)
            .header("authorization", auth)
            .header("accept", "application/json, text/event-stream")
            .json(&body)
            .send()
            .await
        {
            Ok(r) => {
                answered = Some(r.status().as_u16());
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    let refused = http_client
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .json(&body)
        .send()
        .await
        .map(|r| r.status().as_u16());
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(answered, Some(200));
    assert_eq!(refused.unwrap(), 401);
}

#[tokio::test]
async fn the_port_is_chosen_once_and_a_taken_port_stops_the_endpoint() {
    let s = Setup::new(5, true).await;
    let url = |out: &str| {
        let v: Value = serde_json::from_str(out).unwrap();
        v["mcpServers"]["mcp-rmm"]["url"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (code, first, err) = s.run(&["mcp", "--print-config"]).await;
    assert_eq!(code, 0, "{err}");
    let (_, again, _) = s.run(&["mcp", "--print-config"]).await;
    assert_eq!(url(&first), url(&again), "the chosen port is kept");
    assert!(url(&first).starts_with("http://127.0.0.1:"), "{first}");
    assert!(
        !url(&first).contains(":8765/"),
        "not a fixed, guessable port"
    );

    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = squatter.local_addr().unwrap().to_string();
    let (code, _, err) = s.run(&["mcp", "--http", &addr]).await;
    assert_ne!(
        code, 0,
        "the endpoint must not start on a port it does not hold"
    );
    assert!(err.contains("already taken"), "{err}");
}
