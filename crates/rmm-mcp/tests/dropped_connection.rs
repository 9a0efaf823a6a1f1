//! A change whose connection drops after the cloud applied it is not applied twice: the
//! confirmed `schedule_firmware_update` goes through a proxy that, exactly while the change
//! request is in flight, turns on the simulator's own fault (`dropShare: 1.0`,
//! `dropPhase: "after"`). The tool reads the devices back instead of re-sending, and calling
//! again with the old confirmation only gets the new preview.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;

use rmcp::RoleClient;
use rmcp::ServiceExt as _;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmm_api::{ApiClient, ApiConfig, BearerToken, SecretString, StaticToken, TokenSource};
use rmm_core::{AuditLog, FleetOperations, OperationSettings};
use rmm_mcp::{EndpointSecret, GuardConfig, RmmMcpServer, ServerOptions, serve_http};
use rmm_sim::{DropPhase, Faults, Sim, SimConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// Forwards to the simulator's API; a request for `trigger` is sent with the simulator set to
/// drop the connection after handling it, and the faults are cleared once it has.
async fn proxy(sim: Arc<Sim>, trigger: &'static str) -> SocketAddr {
    let upstream: SocketAddr = sim
        .info()
        .api_base_url
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (client, _) = listener.accept().await.unwrap();
            let sim = sim.clone();
            tokio::spawn(async move {
                let server = TcpStream::connect(upstream).await.unwrap();
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let sim_up = sim.clone();
                let up = tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match client_read.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        if String::from_utf8_lossy(&buf[..n]).contains(trigger) {
                            sim_up.set_faults(Faults {
                                drop_share: 1.0,
                                drop_phase: DropPhase::After,
                                ..Faults::default()
                            });
                        }
                        if server_write.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match server_read.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if client_write.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
                // The simulator closed this connection (a drop, or the end): no more drops.
                sim.set_faults(Faults::default());
                up.abort();
            });
        }
    });
    addr
}

fn operations(api_base: &str, sim: &Sim) -> FleetOperations {
    let tokens: Arc<dyn TokenSource> = Arc::new(StaticToken::new(
        BearerToken::new(sim.valid_token()).unwrap(),
    ));
    let config = ApiConfig::new(
        api_base,
        SecretString::from(sim.info().subscription_key.clone()),
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

async fn call(
    client: &RunningService<RoleClient, ()>,
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

#[tokio::test]
async fn a_change_whose_answer_is_lost_is_read_back_not_sent_again() {
    let sim = Arc::new(
        rmm_sim::start(SimConfig {
            devices: 60,
            ..SimConfig::default()
        })
        .await
        .unwrap(),
    );
    let via = proxy(sim.clone(), "setUpdateReservation").await;
    let ops = operations(&format!("http://{via}"), &sim);
    let secret = EndpointSecret::generate();
    let http = serve_http(
        "127.0.0.1:0".parse().unwrap(),
        move || RmmMcpServer::new(ops.clone(), ServerOptions::default()),
        GuardConfig {
            secret: secret.clone(),
            allowed_origins: vec![],
        },
    )
    .await
    .unwrap();
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(http.url()).auth_header(secret.expose()),
    );
    let client = ().serve(transport).await.unwrap();

    let devices = call(
        &client,
        "list_devices",
        json!({"all": true, "model": "MX-3071"}),
    )
    .await
    .structured_content
    .unwrap();
    let device = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d.get("reserved_file_id").is_none() && d["connection"] != "offline")
        .expect("an online MX-3071 without a reservation")["device_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let files = call(&client, "list_staged_firmware", json!({}))
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
    let args = json!({"device_ids": [device], "firmware_file_id": file,
        "transfer_datetime": sim.now_ms() + 3_600_000, "execute_datetime": "209901010200"});
    let preview = call(&client, "schedule_firmware_update", args.clone())
        .await
        .structured_content
        .unwrap();
    assert_eq!(preview["status"], "preview", "{preview}");
    let digest = preview["preview"]["digest"].as_str().unwrap().to_owned();
    let before = sim.stats().change_requests;

    let mut confirmed = args.clone();
    confirmed["confirm"] = json!(true);
    confirmed["preview_digest"] = json!(digest);
    let done = call(&client, "schedule_firmware_update", confirmed.clone()).await;
    let body = done.structured_content.clone().unwrap_or(Value::Null);
    assert_ne!(done.is_error, Some(true), "{done:?}");
    // The answer was lost, the devices were read back and showed the change.
    assert_eq!(body["result"]["outcome"], "applied", "{body}");
    assert_eq!(body["result"]["took_effect"], true, "{body}");
    assert_eq!(sim.stats().change_requests, before + 1);
    let reserved: Vec<Value> = sim
        .reservations()
        .into_iter()
        .filter(|r| r["deviceId"] == json!(device))
        .collect();
    assert_eq!(reserved.len(), 1, "{reserved:?}");

    // The agent retries with the same confirmation: the preview has changed, nothing is sent.
    let again = call(&client, "schedule_firmware_update", confirmed).await;
    assert_eq!(again.is_error, Some(true), "{again:?}");
    assert_eq!(again.structured_content.unwrap()["status"], "preview");
    assert_eq!(sim.stats().change_requests, before + 1);
    client.cancel().await.unwrap();
    http.shutdown().await;
}
