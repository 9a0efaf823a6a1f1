//! Benchmark of the MCP endpoint over streamable HTTP against the simulator. Prints figures
//! next to their targets: list_devices median/p99 over 1,000 calls and its overhead over a
//! direct client call (target < 1 ms), calls/s with 32 concurrent clients (target ≥ 2,000),
//! fleet_summary of 10,000 devices at 20 ms page latency, and bytes per device an agent
//! receives (target < half of the old tool's formatted-plus-raw answer).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmm_api::{
    ApiClient, ApiConfig, BearerToken, DeviceListRequest, SecretString, StaticToken, TokenSource,
};
use rmm_core::{AuditLog, FleetOperations, OperationSettings};
use rmm_mcp::{EndpointSecret, GuardConfig, RmmMcpServer, ServerOptions, serve_http};
use rmm_sim::{Sim, SimConfig, TokenSpec};
use serde_json::{Value, json};

fn ops(sim: &Sim) -> (FleetOperations, ApiClient) {
    let token = sim.mint_token(&TokenSpec {
        ttl_secs: 36_000,
        ..TokenSpec::default()
    });
    let tokens: Arc<dyn TokenSource> = Arc::new(StaticToken::new(BearerToken::new(token).unwrap()));
    let config = ApiConfig::new(
        &sim.info().api_base_url,
        SecretString::from(sim.info().subscription_key.clone()),
        "+00:00",
    )
    .unwrap();
    let client = ApiClient::new(config, tokens.clone()).unwrap();
    (
        FleetOperations::new(
            client.clone(),
            tokens,
            Arc::new(AuditLog::in_memory().unwrap()),
            OperationSettings::default(),
        ),
        client,
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn args(v: Value) -> rmcp::model::JsonObject {
    v.as_object().cloned().unwrap()
}

#[tokio::main]
async fn main() {
    let sim = rmm_sim::start(SimConfig::default()).await.unwrap();
    let (operations, direct) = ops(&sim);
    let secret = EndpointSecret::generate();
    let guard = GuardConfig {
        secret: secret.clone(),
        allowed_origins: vec![],
    };
    let served = operations.clone();
    let http = serve_http(
        "127.0.0.1:0".parse().unwrap(),
        move || RmmMcpServer::new(served.clone(), ServerOptions::default()),
        guard,
    )
    .await
    .unwrap();
    let connect = || async {
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(http.url()).auth_header(secret.expose()),
        );
        ().serve(transport).await.unwrap()
    };

    // 1. list_devices: MCP over HTTP vs the direct API client, 1,000 calls each.
    let client = connect().await;
    let request = DeviceListRequest {
        count: 25,
        ..DeviceListRequest::new(sim.info().group_id.clone())
    };
    let (mut mcp, mut raw) = (Vec::with_capacity(1000), Vec::with_capacity(1000));
    for _ in 0..50 {
        client
            .call_tool(CallToolRequestParams::new("list_devices").with_arguments(args(json!({}))))
            .await
            .unwrap();
    }
    for _ in 0..1000 {
        let t = Instant::now();
        direct.device_page(&request).await.unwrap();
        raw.push(t.elapsed());
        let t = Instant::now();
        client
            .call_tool(CallToolRequestParams::new("list_devices").with_arguments(args(json!({}))))
            .await
            .unwrap();
        mcp.push(t.elapsed());
    }
    mcp.sort();
    raw.sort();
    let overhead = percentile(&mcp, 0.5).saturating_sub(percentile(&raw, 0.5));
    println!(
        "list_devices over MCP/HTTP: median {:?}, p99 {:?} (1,000 calls)",
        percentile(&mcp, 0.5),
        percentile(&mcp, 0.99)
    );
    println!(
        "direct API client:          median {:?}, p99 {:?}",
        percentile(&raw, 0.5),
        percentile(&raw, 0.99)
    );
    println!(
        "median overhead {:?} (target < 1 ms: {})",
        overhead,
        if overhead < Duration::from_millis(1) {
            "met"
        } else {
            "NOT met"
        }
    );

    // 2. 32 concurrent clients.
    let mut clients = Vec::new();
    for _ in 0..32 {
        clients.push(connect().await);
    }
    let per_client = 100;
    let start = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|c| {
            tokio::spawn(async move {
                for _ in 0..per_client {
                    c.call_tool(
                        CallToolRequestParams::new("list_devices").with_arguments(args(json!({}))),
                    )
                    .await
                    .unwrap();
                }
                c
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await.unwrap().cancel().await;
    }
    let rate = f64::from(32 * per_client) / start.elapsed().as_secs_f64();
    println!(
        "32 concurrent clients: {rate:.0} calls/s (target ≥ 2,000: {})",
        if rate >= 2000.0 { "met" } else { "NOT met" }
    );

    // 3. Bytes per device an agent receives vs the old tool's formatted + raw answer.
    let page = client
        .call_tool(
            CallToolRequestParams::new("list_devices")
                .with_arguments(args(json!({"page_size": 100}))),
        )
        .await
        .unwrap();
    let ours = serde_json::to_string(&page).unwrap().len() as f64 / 100.0;
    let raw_page = direct
        .request(
            rmm_api::Method::POST,
            rmm_api::DEVICE_LIST_PATH,
            Some(json!({"startIndex": 0, "count": 100, "groupId": sim.info().group_id})),
        )
        .await
        .unwrap();
    let raw_per_device = raw_page.to_string().len() as f64 / 100.0;
    // The old tool: a formatted list (device_id, model, serial, ip, current, latest, needs_update, ota_mode) plus the raw answer.
    let formatted_per_device = 230.0;
    let old = raw_per_device + formatted_per_device;
    println!(
        "bytes per device: {ours:.0} (old tool ≈ {old:.0} = raw {raw_per_device:.0} + formatted ≈{formatted_per_device:.0}; target < half: {})",
        if ours < old / 2.0 { "met" } else { "NOT met" }
    );
    client.cancel().await.unwrap();
    http.shutdown().await;

    // 4. fleet_summary of 10,000 devices at 20 ms page latency.
    let big = rmm_sim::start(SimConfig {
        devices: 10_000,
        latency_ms: 20,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let (big_ops, _) = ops(&big);
    let secret = EndpointSecret::generate();
    let guard = GuardConfig {
        secret: secret.clone(),
        allowed_origins: vec![],
    };
    let http = serve_http(
        "127.0.0.1:0".parse().unwrap(),
        move || RmmMcpServer::new(big_ops.clone(), ServerOptions::default()),
        guard,
    )
    .await
    .unwrap();
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(http.url()).auth_header(secret.expose()),
    );
    let client = ().serve(transport).await.unwrap();
    let t = Instant::now();
    let summary = client
        .call_tool(CallToolRequestParams::new("fleet_summary").with_arguments(args(json!({}))))
        .await
        .unwrap();
    let took = t.elapsed();
    let total = summary
        .structured_content
        .as_ref()
        .map_or(Value::Null, |s| s["total_devices"].clone());
    println!("fleet_summary of {total} devices at 20 ms/page: {took:?}");
    client.cancel().await.unwrap();
    http.shutdown().await;
}
