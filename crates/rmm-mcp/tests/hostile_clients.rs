//! The HTTP endpoint against hostile local clients: a connection that never finishes its
//! headers is closed at the deadline, a flood of idle connections churns among itself while
//! the legitimate client is served, and connections over the cap are closed at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmm_api::{ApiClient, ApiConfig, BearerToken, SecretString, StaticToken, TokenSource};
use rmm_core::{AuditLog, FleetOperations, OperationSettings};
use rmm_mcp::{
    ConnectionLimits, EndpointSecret, GuardConfig, RmmMcpServer, ServerOptions,
    serve_http_with_limits,
};
use rmm_sim::SimConfig;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Reads until the server closes the connection (0 bytes or an error).
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    // A safety net only: the server closes long before.
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    })
    .await;
    waited.unwrap_or(false)
}

#[tokio::test]
async fn idle_and_half_sent_connections_do_not_starve_the_client_with_the_secret() {
    let sim = rmm_sim::start(SimConfig {
        devices: 10,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let tokens: Arc<dyn TokenSource> = Arc::new(StaticToken::new(
        BearerToken::new(sim.valid_token()).unwrap(),
    ));
    let config = ApiConfig::new(
        &sim.info().api_base_url,
        SecretString::from(sim.info().subscription_key.clone()),
        "+00:00",
    )
    .unwrap();
    let ops = FleetOperations::new(
        ApiClient::new(config, tokens.clone()).unwrap(),
        tokens,
        Arc::new(AuditLog::in_memory().unwrap()),
        OperationSettings::default(),
    );
    let secret = EndpointSecret::generate();
    let limits = ConnectionLimits {
        max_connections: 40,
        max_unauthenticated: 8,
        auth_deadline: Duration::from_millis(500),
    };
    let http = serve_http_with_limits(
        "127.0.0.1:0".parse().unwrap(),
        move || RmmMcpServer::new(ops.clone(), ServerOptions::default()),
        GuardConfig {
            secret: secret.clone(),
            allowed_origins: vec![],
        },
        limits,
    )
    .await
    .unwrap();

    // Headers begun and never finished: closed at the deadline.
    let mut slow = TcpStream::connect(http.addr()).await.unwrap();
    slow.write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    assert!(
        closed_by_server(&mut slow).await,
        "a half-sent request stays open"
    );

    // Far more idle connections than the caps allow.
    let mut idle = Vec::new();
    for _ in 0..200 {
        let mut s = TcpStream::connect(http.addr()).await.unwrap();
        let _ = s.write_all(b"GET /mcp HTTP/1.1\r\n").await;
        idle.push(s);
    }
    // The client with the secret is served while they are open.
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(http.url()).auth_header(secret.expose()),
    );
    let client = ().serve(transport).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "list_devices"));
    let status = client
        .call_tool(CallToolRequestParams::new("auth_status"))
        .await
        .unwrap();
    assert_ne!(status.is_error, Some(true), "{status:?}");
    // The server closed the idle ones: all but the newest few made room or timed out.
    let mut closed = 0;
    for s in &mut idle {
        if closed_by_server(s).await {
            closed += 1;
        }
    }
    assert_eq!(
        closed,
        idle.len(),
        "every idle connection is closed in the end"
    );
    // Authenticated, the client's connection is not closed for being idle.
    tokio::time::sleep(limits.auth_deadline * 3).await;
    let again = client
        .call_tool(CallToolRequestParams::new("auth_status"))
        .await
        .unwrap();
    assert_ne!(again.is_error, Some(true), "{again:?}");
    client.cancel().await.unwrap();
    http.shutdown().await;
}
