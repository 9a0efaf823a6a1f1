//! The MCP endpoint through a real rmcp client against the simulator: over streamable HTTP
//! (behind the guard) and over the stdio codec (a duplex pipe): tool list, annotations and
//! schemas, happy paths with the simulator's state checked, validation, confirmation both
//! ways, read-only mode, audit rows, and the HTTP guard refusing before anything runs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, Implementation, ProtocolVersion,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt as _};
use rmm_api::{ApiClient, ApiConfig, BearerToken, SecretString, StaticToken, TokenSource};
use rmm_core::{AuditLog, FleetOperations, OperationSettings};
use rmm_mcp::{EndpointSecret, GuardConfig, HttpEndpoint, RmmMcpServer, ServerOptions, serve_http};
use rmm_sim::{Sim, SimConfig, TokenSpec};
use serde_json::{Value, json};

fn operations(sim: &Sim, token: String) -> FleetOperations {
    let tokens: Arc<dyn TokenSource> = Arc::new(StaticToken::new(BearerToken::new(token).unwrap()));
    let config = ApiConfig::new(
        &sim.info().api_base_url,
        SecretString::from(sim.info().subscription_key.clone()),
        "+00:00",
    )
    .unwrap();
    let client = ApiClient::new(config, tokens.clone()).unwrap();
    FleetOperations::new(
        client,
        tokens,
        Arc::new(AuditLog::in_memory().unwrap()),
        OperationSettings::default(),
    )
}

async fn endpoint(ops: FleetOperations, read_only: bool) -> (HttpEndpoint, EndpointSecret) {
    let secret = EndpointSecret::generate();
    let guard = GuardConfig {
        secret: secret.clone(),
        allowed_origins: vec!["http://localhost:6274".into()],
    };
    let http = serve_http(
        "127.0.0.1:0".parse().unwrap(),
        move || RmmMcpServer::new(ops.clone(), ServerOptions { read_only }),
        guard,
    )
    .await
    .unwrap();
    (http, secret)
}

/// A client that answers elicitations with a fixed choice, and says whether it supports them.
#[derive(Clone)]
struct TestClient {
    elicitation: Option<bool>,
    version: ProtocolVersion,
}

impl ClientHandler for TestClient {
    fn get_info(&self) -> ClientConfig {
        let capabilities = if self.elicitation.is_some() {
            ClientCapabilities::builder().enable_elicitation().build()
        } else {
            ClientCapabilities::default()
        };
        ClientConfig::new(capabilities, Implementation::new("test-agent", "1.0"))
            .with_protocol_version(self.version.clone())
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _ctx: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let ElicitRequestParams::FormElicitationParams {
            message,
            requested_schema,
            ..
        } = &request
        else {
            panic!("form expected")
        };
        assert!(message.contains("Carry out this change?"), "{message}");
        let form = serde_json::to_value(requested_schema).unwrap();
        assert_eq!(form["required"], json!(["confirm"]), "{form}");
        assert_eq!(form["properties"]["confirm"]["type"], "boolean", "{form}");
        assert!(
            form["properties"]["confirm"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("carry out")),
            "the confirm field has its description: {form}"
        );
        let yes = self.elicitation.unwrap_or(false);
        Ok(if yes {
            ElicitResult::new(ElicitationAction::Accept).with_content(json!({"confirm": true}))
        } else {
            ElicitResult::new(ElicitationAction::Decline)
        })
    }
}

async fn http_client(
    http: &HttpEndpoint,
    secret: &str,
    client: TestClient,
) -> RunningService<RoleClient, TestClient> {
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(http.url()).auth_header(secret),
    );
    client.serve(transport).await.unwrap()
}

fn plain() -> TestClient {
    TestClient {
        elicitation: None,
        version: ProtocolVersion::V_2025_06_18,
    }
}

async fn call(
    client: &RunningService<RoleClient, TestClient>,
    name: &'static str,
    args: Value,
) -> CallToolResult {
    client
        .call_tool(
            CallToolRequestParams::new(name).with_arguments(args.as_object().cloned().unwrap()),
        )
        .await
        .unwrap()
}

fn error_body(result: &CallToolResult) -> Value {
    assert_eq!(result.is_error, Some(true), "{result:?}");
    serde_json::from_str(&result.content[0].as_text().unwrap().text).unwrap()
}

#[tokio::test]
async fn tool_list_annotations_schemas_and_read_only() {
    let sim = rmm_sim::start(SimConfig::default()).await.unwrap();
    let (http, secret) = endpoint(operations(&sim, sim.valid_token()), false).await;
    let client = http_client(&http, secret.expose(), plain()).await;
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for name in [
        "extract_auth_token",
        "list_devices",
        "make_api_request",
        "list_staged_firmware",
        "schedule_firmware_update",
        "configure_ota_mode",
        "cancel_scheduled_update",
        "auth_status",
        "list_tenants",
        "get_device",
        "fleet_summary",
    ] {
        assert!(names.contains(&name), "{name} missing");
    }
    for tool in &tools {
        let hints = tool.annotations.as_ref().unwrap();
        assert!(
            tool.output_schema.is_some(),
            "{} has no output schema",
            tool.name
        );
        assert!(tool.description.as_ref().unwrap().len() > 40);
        let is_change = rmm_mcp::CHANGE_TOOLS.contains(&tool.name.as_ref())
            || rmm_mcp::RolloutTool::from_name(&tool.name).is_some_and(|t| !t.reads_only());
        assert_eq!(hints.read_only_hint, Some(!is_change), "{}", tool.name);
        assert_eq!(hints.destructive_hint, Some(is_change), "{}", tool.name);
    }
    let list = tools.iter().find(|t| t.name == "list_devices").unwrap();
    let props = list.input_schema["properties"].as_object().unwrap();
    for p in [
        "group_id",
        "page_size",
        "start_index",
        "all",
        "needs_update",
        "model",
    ] {
        assert!(props.contains_key(p), "{p}");
    }
    let schedule = tools
        .iter()
        .find(|t| t.name == "schedule_firmware_update")
        .unwrap();
    let required: Vec<&str> = schedule.input_schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(required.contains(&"device_ids") && required.contains(&"transfer_datetime"));
    client.cancel().await.unwrap();
    http.shutdown().await;

    let (http, secret) = endpoint(operations(&sim, sim.valid_token()), true).await;
    let client = http_client(&http, secret.expose(), plain()).await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(
        tools
            .iter()
            .all(|t| !rmm_mcp::CHANGE_TOOLS.contains(&t.name.as_ref()))
    );
    let refused = call(
        &client,
        "cancel_scheduled_update",
        json!({"device_ids": ["x"], "confirm": true}),
    )
    .await;
    assert!(
        error_body(&refused)["message"]
            .as_str()
            .unwrap()
            .contains("read-only")
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn reads_and_validation_over_http() {
    let sim = rmm_sim::start(SimConfig::default()).await.unwrap();
    let (http, secret) = endpoint(operations(&sim, sim.valid_token()), false).await;
    let client = http_client(&http, secret.expose(), plain()).await;

    let page = call(&client, "list_devices", json!({"page_size": 10})).await;
    let page = page.structured_content.unwrap();
    // The old tool's keys, exactly (agents written for it read them).
    assert_eq!(page["success"], true);
    for key in ["total_devices", "devices_needing_update", "group_id"] {
        assert!(page["summary"].get(key).is_some(), "summary.{key}: {page}");
    }
    for device in page["devices"].as_array().unwrap() {
        for key in [
            "device_id",
            "model_name",
            "serial_number",
            "ip_address",
            "current_firmware",
            "latest_firmware",
        ] {
            assert!(device[key].is_string(), "{key}: {device}");
        }
        assert!(device["needs_update"].is_boolean(), "{device}");
        assert!(
            ["auto", "confirmation", "off"].contains(&device["ota_mode"].as_str().unwrap()),
            "{device}"
        );
        if device["needs_update"] == false {
            assert_eq!(device["latest_firmware"], device["current_firmware"]);
        }
    }
    assert_eq!(page["summary"]["returned"], 10);
    assert_eq!(page["summary"]["total_devices"], 250);
    assert_eq!(page["summary"]["group_id"], sim.info().group_id.as_str());

    let all = call(
        &client,
        "list_devices",
        json!({"all": true, "needs_update": true}),
    )
    .await
    .structured_content
    .unwrap();
    assert!(
        all["devices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["needs_update"] == true)
    );
    assert_eq!(all["summary"]["returned"], all["summary"]["total_devices"]);

    let summary = call(&client, "fleet_summary", json!({}))
        .await
        .structured_content
        .unwrap();
    assert_eq!(summary["total_devices"], 250);
    let status = call(&client, "auth_status", json!({}))
        .await
        .structured_content
        .unwrap();
    assert_eq!(status["signed_in"], true);
    assert!(status.get("token").is_none(), "never the token by default");
    let firmware = call(&client, "list_staged_firmware", json!({}))
        .await
        .structured_content
        .unwrap();
    for file in firmware["firmware_files"].as_array().unwrap() {
        for key in ["file_id", "title", "filename", "uploaded_at"] {
            assert!(file[key].is_string(), "{key}: {file}");
        }
        assert!(file.get("size_bytes").is_some(), "{file}");
    }
    assert!(
        !firmware["firmware_files"][0]["fits_models"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Every problem at once, as a tool error (not a protocol error).
    let bad = call(
        &client,
        "list_devices",
        json!({"page_size": 500, "start_index": "x", "ota_mode": "sometimes", "colour": 1}),
    )
    .await;
    let body = error_body(&bad);
    let fields: Vec<&str> = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    for f in ["page_size", "start_index", "ota_mode", "colour"] {
        assert!(fields.contains(&f), "{f}: {body}");
    }
    let bad = call(
        &client,
        "configure_ota_mode",
        json!({"device_ids": ["no such id"], "ota_mode": "sometimes", "start_hour": 30, "end_hour": "4"}),
    )
    .await;
    let body = error_body(&bad);
    assert_eq!(body["error"], "bad_input");
    let fields: Vec<&str> = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    for f in ["device_ids[0]", "ota_mode", "start_hour", "end_hour"] {
        assert!(fields.contains(&f), "{f}: {body}");
    }
    // Wrong types and wrong values mixed, in a list and beside it: all of them, as sent.
    let bad = call(
        &client,
        "configure_ota_mode",
        json!({"device_ids": [7, "no such id", true], "ota_mode": "sometimes", "start_hour": "two", "confirm": "yes"}),
    )
    .await;
    assert_eq!(bad.is_error, Some(true));
    let body = error_body(&bad);
    let mut fields: Vec<&str> = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "confirm",
            "device_ids[0]",
            "device_ids[1]",
            "device_ids[2]",
            "ota_mode",
            "start_hour"
        ],
        "{body}"
    );
    let bad = call(&client, "schedule_firmware_update", json!({"device_ids": [], "firmware_file_id": "", "transfer_datetime": 1, "execute_datetime": "2025", "timezone": "IST"})).await;
    let body = error_body(&bad);
    assert!(body["problems"].as_array().unwrap().len() >= 5, "{body}");
    // Hints are data, rendered in an agent's words: the tool that lists the values.
    let problem = |field: &str| {
        body["problems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["field"] == field)
            .cloned()
            .unwrap_or_else(|| panic!("no {field}: {body}"))
    };
    assert_eq!(problem("device_ids")["hint"], "list_devices");
    assert_eq!(problem("firmware_file_id")["hint"], "list_staged_firmware");
    assert!(problem("timezone").get("hint").is_none(), "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("(see list_devices)") && message.contains("(see list_staged_firmware)"),
        "{message}"
    );
    let outside = call(
        &client,
        "make_api_request",
        json!({"endpoint": "https://evil.example/x"}),
    )
    .await;
    assert!(
        error_body(&outside)["message"]
            .as_str()
            .unwrap()
            .contains("endpoint")
    );
    assert_eq!(sim.stats().change_requests, 0, "nothing was changed");
    client.cancel().await.unwrap();
}

async fn cancellable_device(
    sim: &Sim,
    client: &RunningService<RoleClient, TestClient>,
) -> (String, String) {
    let devices = call(
        client,
        "list_devices",
        json!({"all": true, "model": "MX-3071", "ota_mode": "auto"}),
    )
    .await
    .structured_content
    .unwrap();
    let device = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d.get("reserved_file_id").is_none() && d["connection"] != "offline")
        .unwrap()
        .clone();
    let files = call(client, "list_staged_firmware", json!({}))
        .await
        .structured_content
        .unwrap();
    let file = files["firmware_files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fits_models"][0] == "MX-3071")
        .unwrap()["file_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let _ = sim;
    (device["device_id"].as_str().unwrap().to_owned(), file)
}

#[tokio::test]
async fn confirmation_by_confirm_true_and_audit_rows() {
    let sim = rmm_sim::start(SimConfig::default()).await.unwrap();
    let ops = operations(&sim, sim.valid_token());
    let (http, secret) = endpoint(ops.clone(), false).await;
    let client = http_client(&http, secret.expose(), plain()).await;
    let (device, file) = cancellable_device(&sim, &client).await;
    let args = json!({"device_ids": [device], "firmware_file_id": file, "transfer_datetime": sim.now_ms() + 3_600_000, "execute_datetime": "209901010200"});

    let preview = call(&client, "schedule_firmware_update", args.clone())
        .await
        .structured_content
        .unwrap();
    assert_eq!(preview["status"], "preview");
    assert!(
        sim.device_truth(&device).unwrap()["reservation"].is_null(),
        "a preview changes nothing"
    );

    let mut confirmed = args.clone();
    confirmed["confirm"] = json!(true);
    confirmed["preview_digest"] = preview["preview"]["digest"].clone();
    let done = call(&client, "schedule_firmware_update", confirmed)
        .await
        .structured_content
        .unwrap();
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(
        sim.device_truth(&device).unwrap()["reservation"]["fileId"],
        file.as_str()
    );

    // The old digest no longer matches (the device is now reserved): nothing is sent.
    let mut stale = args.clone();
    stale["confirm"] = json!(true);
    stale["preview_digest"] = preview["preview"]["digest"].clone();
    let before = sim.stats().change_requests;
    let again = call(&client, "schedule_firmware_update", stale).await;
    assert_eq!(again.is_error, Some(true));
    assert_eq!(sim.stats().change_requests, before);

    let rows = ops
        .audit_log()
        .query(&rmm_core::AuditQuery {
            device_id: Some(device.clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(rows.len(), 1);
    match &rows[0].caller {
        rmm_core::Caller::McpClient { name, session } => {
            assert!(name.starts_with("test-agent"), "{name}");
            assert!(!session.is_empty());
        }
        other => panic!("{other:?}"),
    }
    let resource = client
        .read_resource(rmcp::model::ReadResourceRequestParams::new(
            rmm_mcp::RECENT_AUDIT_URI,
        ))
        .await
        .unwrap();
    let text = format!("{resource:?}");
    assert!(text.contains("schedule_firmware_update"));
    assert!(!text.contains(&sim.valid_token()[..40]));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn confirmation_by_elicitation_yes_and_no() {
    let sim = rmm_sim::start(SimConfig::default()).await.unwrap();
    let (http, secret) = endpoint(operations(&sim, sim.valid_token()), false).await;
    for version in [ProtocolVersion::V_2025_06_18, ProtocolVersion::V_2025_11_25] {
        let no = http_client(
            &http,
            secret.expose(),
            TestClient {
                elicitation: Some(false),
                version: version.clone(),
            },
        )
        .await;
        let (device, _) = cancellable_device(&sim, &no).await;
        let args =
            json!({"device_ids": [device], "ota_mode": "off", "start_hour": -1, "end_hour": -1});
        let declined = call(&no, "configure_ota_mode", args.clone())
            .await
            .structured_content
            .unwrap();
        assert_eq!(declined["status"], "declined");
        assert_ne!(sim.device(&device).unwrap()["otaMode"], "off");
        no.cancel().await.unwrap();

        let yes = http_client(
            &http,
            secret.expose(),
            TestClient {
                elicitation: Some(true),
                version,
            },
        )
        .await;
        let done = call(&yes, "configure_ota_mode", args)
            .await
            .structured_content
            .unwrap();
        assert_eq!(done["status"], "done", "{done}");
        assert_eq!(sim.device(&device).unwrap()["otaMode"], "off");
        yes.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn no_sign_in_answers_at_once_with_the_instruction() {
    let sim = rmm_sim::start(SimConfig::default()).await.unwrap();
    let expired = sim.mint_token(&TokenSpec {
        ttl_secs: -5,
        ..TokenSpec::default()
    });
    let (http, secret) = endpoint(operations(&sim, expired), false).await;
    let client = http_client(&http, secret.expose(), plain()).await;
    let result = call(&client, "list_devices", json!({})).await;
    let body = error_body(&result);
    assert_eq!(body["error"], "auth");
    assert!(body["message"].as_str().unwrap().contains("rmm login"));
    assert_eq!(
        sim.stats().api_requests,
        0,
        "nothing was sent with an expired token"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn the_guard_refuses_before_anything_runs() {
    let sim = rmm_sim::start(SimConfig::default()).await.unwrap();
    let (http, secret) = endpoint(operations(&sim, sim.valid_token()), false).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}});
    let raw = reqwest::Client::new();
    let post = |host: Option<&str>, origin: Option<&str>, auth: Option<String>| {
        let mut req = raw
            .post(http.url())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(init.to_string());
        if let Some(h) = host {
            req = req.header("host", h);
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.send()
    };
    let good = format!("Bearer {}", secret.expose());
    assert_eq!(
        post(None, None, None).await.unwrap().status(),
        401,
        "no secret"
    );
    assert_eq!(
        post(None, None, Some("Bearer wrong".into()))
            .await
            .unwrap()
            .status(),
        401,
        "wrong secret"
    );
    assert_eq!(
        post(Some("evil.example"), None, Some(good.clone()))
            .await
            .unwrap()
            .status(),
        403,
        "foreign Host"
    );
    assert_eq!(
        post(None, Some("https://evil.example"), Some(good.clone()))
            .await
            .unwrap()
            .status(),
        403,
        "foreign Origin"
    );
    assert_eq!(sim.stats().api_requests, 0, "nothing ran");
    assert!(
        post(None, Some("http://localhost:6274"), Some(good.clone()))
            .await
            .unwrap()
            .status()
            .is_success(),
        "allowed origin"
    );
    assert!(
        post(None, None, Some(good))
            .await
            .unwrap()
            .status()
            .is_success()
    );
    assert!(
        serve_http(
            "0.0.0.0:0".parse().unwrap(),
            || unreachable!(),
            GuardConfig {
                secret,
                allowed_origins: vec![]
            }
        )
        .await
        .is_err()
    );
}

/// What the MCP Python SDK does when a 2025-11-25 client closes: DELETE with the session id.
/// It takes 200, 204 or 405 as a clean end (rmcp alone answered 202); a session that already
/// ended is 404, as the spec says; and without the secret the guard answers first.
#[tokio::test]
async fn ending_a_session_answers_no_content_then_not_found() {
    let sim = rmm_sim::start(SimConfig::default()).await.unwrap();
    let (http, secret) = endpoint(operations(&sim, sim.valid_token()), false).await;
    let good = format!("Bearer {}", secret.expose());
    let raw = reqwest::Client::new();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}});
    let opened = raw
        .post(http.url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("authorization", &good)
        .body(init.to_string())
        .send()
        .await
        .unwrap();
    assert!(opened.status().is_success(), "{}", opened.status());
    let session = opened.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let delete = |auth: Option<&str>| {
        let mut request = raw
            .delete(http.url())
            .header("mcp-session-id", &session)
            .header("mcp-protocol-version", "2025-11-25");
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.send()
    };
    assert_eq!(delete(None).await.unwrap().status(), 401, "no secret");
    assert_eq!(delete(Some(&good)).await.unwrap().status(), 204, "ended");
    assert_eq!(
        delete(Some(&good)).await.unwrap().status(),
        404,
        "already ended"
    );
    let after = raw
        .post(http.url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("authorization", &good)
        .header("mcp-session-id", &session)
        .body(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 404, "an ended session takes no request");
}

#[tokio::test]
async fn stdio_codec_serves_the_same_tools() {
    let sim = rmm_sim::start(SimConfig::default()).await.unwrap();
    let server = RmmMcpServer::new(
        operations(&sim, sim.valid_token()),
        ServerOptions::default(),
    );
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let client = plain().serve(client_io).await.unwrap();
    assert_eq!(client.list_all_tools().await.unwrap().len(), 20);
    let summary = call(&client, "fleet_summary", json!({}))
        .await
        .structured_content
        .unwrap();
    assert_eq!(summary["total_devices"], 250);
    let (device, _) = cancellable_device(&sim, &client).await;
    let done = call(
        &client,
        "cancel_scheduled_update",
        json!({"device_ids": [device], "confirm": true}),
    )
    .await
    .structured_content
    .unwrap();
    assert_eq!(done["status"], "done");
    assert_eq!(sim.device(&device).unwrap()["updateStatus"], "none");
    client.cancel().await.unwrap();
}

/// Whether an OTA setting reached the device is in the listing (absent: applied), and
/// get_device also gives every field the cloud sent, under its names, known or not.
#[tokio::test]
async fn the_ota_setting_is_shown_and_get_device_gives_every_field_the_cloud_sent() {
    let sim = rmm_sim::start(SimConfig::default()).await.unwrap();
    let (http, secret) = endpoint(operations(&sim, sim.valid_token()), false).await;
    let client = http_client(&http, secret.expose(), plain()).await;
    let all = call(&client, "list_devices", json!({"all": true}))
        .await
        .structured_content
        .unwrap();
    let devices = all["devices"].as_array().unwrap();
    let pending: Vec<&Value> = devices
        .iter()
        .filter(|d| d["ota_setting"] == "pending")
        .collect();
    assert!(!pending.is_empty(), "no device with a pending OTA setting");
    assert!(
        devices
            .iter()
            .all(|d| d.get("ota_setting").is_none() || d["ota_setting"] == "pending"),
        "applied is left out"
    );
    let id = pending[0]["device_id"].as_str().unwrap();
    let detail = call(&client, "get_device", json!({"device_id": id}))
        .await
        .structured_content
        .unwrap();
    assert_eq!(detail["device_id"], id, "{detail}");
    assert_eq!(detail["ota_setting"], "pending", "{detail}");
    let fields = &detail["cloud_fields"];
    assert_eq!(fields["deviceId"], id, "{detail}");
    assert_eq!(fields["otaSettingStatus"], "pending", "{detail}");
    // A field this client has no name for, passed through as the cloud sent it.
    assert_eq!(
        fields["location"],
        sim.device(id).unwrap()["location"],
        "{detail}"
    );
    let tools = client.list_all_tools().await.unwrap();
    let schema = tools
        .iter()
        .find(|t| t.name == "get_device")
        .unwrap()
        .output_schema
        .clone()
        .unwrap();
    let props = schema["properties"].as_object().unwrap();
    assert!(
        props.contains_key("device_id") && props.contains_key("cloud_fields"),
        "{schema:?}"
    );
}

/// A file for another model is bad input naming the device and the parameter that allows it;
/// with allow_other_model the preview goes ahead and says it was allowed.
#[tokio::test]
async fn firmware_for_another_model_needs_allow_other_model() {
    let sim = rmm_sim::start(SimConfig::default()).await.unwrap();
    let (http, secret) = endpoint(operations(&sim, sim.valid_token()), false).await;
    let client = http_client(&http, secret.expose(), plain()).await;
    let page = call(
        &client,
        "list_devices",
        json!({"model": "MX-3071", "page_size": 1}),
    )
    .await
    .structured_content
    .unwrap();
    let device = page["devices"][0]["device_id"].as_str().unwrap().to_owned();
    let files = call(&client, "list_staged_firmware", json!({}))
        .await
        .structured_content
        .unwrap();
    let other = files["firmware_files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            !f["fits_models"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m == "MX-3071")
        })
        .unwrap()["file_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let args = |allow: bool| {
        json!({
            "device_ids": [device],
            "firmware_file_id": other,
            "transfer_datetime": sim.now_ms() + 3_600_000,
            "execute_datetime": "209901010200",
            "allow_other_model": allow,
        })
    };
    let refused = call(&client, "schedule_firmware_update", args(false)).await;
    assert_eq!(refused.is_error, Some(true));
    let body = error_body(&refused);
    assert_eq!(body["problems"][0]["field"], "device_ids[0]", "{body}");
    assert_eq!(body["problems"][0]["hint"], "allow_other_model", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("(or allow it with allow_other_model: true)"),
        "{body}"
    );
    let preview = call(&client, "schedule_firmware_update", args(true))
        .await
        .structured_content
        .unwrap();
    assert_eq!(preview["status"], "preview", "{preview}");
    assert!(
        preview.to_string().contains("allowed explicitly"),
        "{preview}"
    );
    assert_eq!(sim.stats().change_requests, 0);
}
