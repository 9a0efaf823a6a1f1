//! Benchmark of the MCP endpoint over streamable HTTP against the simulator. Prints figures
//! next to their targets: list_devices median/p99 over 1,000 calls and its overhead over a
//! direct client call (target < 1 ms), calls/s with 32 concurrent clients (target ≥ 2,000),
//! fleet_summary of 10,000 devices at 20 ms page latency, and bytes per device an agent
//! receives (target < half of the old tool's formatted-plus-raw answer).
//!
//! Under the 32-client figure it prints where the time goes, by elimination: the same calls
//! against the simulator alone (plain reqwest), through rmm-api, through rmm-core, and the MCP
//! layer alone (`auth_status`, no cloud call), each with the process's CPU time per call (from
//! /proc on Linux; the simulator, the endpoint and the clients all run in this process, so on
//! a 2-core machine 2,000 calls/s needs under 1 ms of CPU per call), and what the JSON of one
//! 25-device answer costs to write and to read back with the rmcp client's types.
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

// The allocator of `rmm` and `mcp-rmm`, the binaries that host the endpoint: measured with it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// CPU time this process has used (user + system), from /proc on Linux; None elsewhere.
/// Calls/s depend on what else the machine runs; CPU per call much less so.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

/// `tasks` tasks each running `per_task` calls of `call(task)`; calls/s and CPU µs per call.
async fn concurrent_rate<F, Fut>(tasks: usize, per_task: usize, call: F) -> (f64, Option<f64>)
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let cpu = process_cpu();
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let call = call.clone();
            tokio::spawn(async move {
                for _ in 0..per_task {
                    call(task).await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let calls = (tasks * per_task) as f64;
    let cpu_per_call = match (cpu, process_cpu()) {
        (Some(before), Some(after)) => {
            Some((after.saturating_sub(before)).as_secs_f64() * 1e6 / calls)
        }
        _ => None,
    };
    (calls / elapsed, cpu_per_call)
}

fn cpu_note(cpu: Option<f64>) -> String {
    cpu.map_or_else(String::new, |us| format!(", {us:.0} µs CPU per call"))
}

// The default runtime: multi-threaded, a worker per core. The simulator, the endpoint and the
// clients share it (tried: one worker, four workers, the simulator on a runtime of its own;
// none was faster on a 2-core machine).
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
        clients.push(Arc::new(connect().await));
    }
    let per_client = 100;
    let list_call = {
        let clients = clients.clone();
        move |task: usize| {
            let client = clients[task].clone();
            async move {
                client
                    .call_tool(
                        CallToolRequestParams::new("list_devices").with_arguments(args(json!({}))),
                    )
                    .await
                    .unwrap();
            }
        }
    };
    let (rate, cpu) = concurrent_rate(32, per_client, list_call.clone()).await;
    println!(
        "32 concurrent clients: {rate:.0} calls/s{} (target ≥ 2,000: {})",
        cpu_note(cpu),
        if rate >= 2000.0 { "met" } else { "NOT met" }
    );

    // Where the time of those calls goes, by elimination: the same 32 × 100 calls with
    // layers taken away. Not targets; for finding the costs.
    println!("  where the time goes (32 tasks × {per_client} calls each):");
    {
        // The simulator alone: the same request with plain reqwest, body read, not parsed.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(32)
            .build()
            .unwrap();
        let url = format!("{}{}", sim.info().api_base_url, rmm_api::DEVICE_LIST_PATH);
        let token = sim.mint_token(&TokenSpec {
            ttl_secs: 36_000,
            ..TokenSpec::default()
        });
        let key = sim.info().subscription_key.clone();
        let body =
            json!({"startIndex": 0, "count": 25, "groupId": sim.info().group_id}).to_string();
        let (rate, cpu) = concurrent_rate(32, per_client, move |_| {
            let request = http
                .post(&url)
                .bearer_auth(&token)
                .header("ocp-apim-subscription-key", &key)
                .header("content-type", "application/json")
                .header("x-time-zone", "+00:00")
                .body(body.clone());
            async move {
                let answer = request.send().await.unwrap();
                assert!(answer.status().is_success());
                answer.bytes().await.unwrap();
            }
        })
        .await;
        println!(
            "    simulator alone (reqwest, 25-device page):      {rate:>6.0} calls/s{}",
            cpu_note(cpu)
        );
    }
    {
        let direct = direct.clone();
        let request = request.clone();
        let (rate, cpu) = concurrent_rate(32, per_client, move |_| {
            let direct = direct.clone();
            let request = request.clone();
            async move {
                direct.device_page(&request).await.unwrap();
            }
        })
        .await;
        println!(
            "    + rmm-api client (ApiClient::device_page):      {rate:>6.0} calls/s{}",
            cpu_note(cpu)
        );
    }
    {
        let operations = operations.clone();
        let (rate, cpu) = concurrent_rate(32, per_client, move |_| {
            let operations = operations.clone();
            async move {
                operations
                    .devices(&rmm_core::DeviceQuery::default())
                    .await
                    .unwrap();
            }
        })
        .await;
        println!(
            "    + rmm-core (FleetOperations::devices):          {rate:>6.0} calls/s{}",
            cpu_note(cpu)
        );
    }
    {
        // The MCP layer without the simulator: auth_status answers from the token alone.
        let clients = clients.clone();
        let (rate, cpu) = concurrent_rate(32, per_client, move |task| {
            let client = clients[task].clone();
            async move {
                client
                    .call_tool(
                        CallToolRequestParams::new("auth_status").with_arguments(args(json!({}))),
                    )
                    .await
                    .unwrap();
            }
        })
        .await;
        println!(
            "    MCP/HTTP alone (auth_status, no cloud call):    {rate:>6.0} calls/s{}",
            cpu_note(cpu)
        );
    }
    {
        let (rate, cpu) = concurrent_rate(32, per_client, list_call).await;
        println!(
            "    all of it again (list_devices over MCP/HTTP):   {rate:>6.0} calls/s{}",
            cpu_note(cpu)
        );
    }
    for c in clients {
        if let Ok(c) = Arc::try_unwrap(c) {
            let _ = c.cancel().await;
        }
    }

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
    {
        // What one 25-device answer costs in JSON alone, on one core: the server writes the
        // JSON-RPC message, the rmcp client reads it back (ServerJsonRpcMessage is untagged).
        let answer = client
            .call_tool(CallToolRequestParams::new("list_devices").with_arguments(args(json!({}))))
            .await
            .unwrap();
        let text = format!(
            r#"{{"jsonrpc":"2.0","id":7,"result":{}}}"#,
            serde_json::to_string(&answer).unwrap()
        );
        let n = 500;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(serde_json::to_string(&answer).unwrap());
        }
        let write = t.elapsed() / n;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(
                serde_json::from_str::<rmcp::model::ServerJsonRpcMessage>(&text).unwrap(),
            );
        }
        let read = t.elapsed() / n;
        println!(
            "  JSON of one 25-device answer ({} bytes): written in {write:?}, read by the rmcp client in {read:?}",
            text.len()
        );
    }
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
