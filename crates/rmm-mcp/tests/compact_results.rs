//! What a read costs an agent: a client of 2025-06-18 or later gets the data once (in
//! structuredContent) with a one-line text summary; an older client, which cannot read
//! structuredContent, still gets the serialized JSON as text.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use rmcp::ServiceExt as _;
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation, ProtocolVersion,
};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmm_api::{ApiClient, ApiConfig, BearerToken, SecretString, StaticToken, TokenSource};
use rmm_core::{AuditLog, FleetOperations, OperationSettings};
use rmm_mcp::{EndpointSecret, GuardConfig, RmmMcpServer, ServerOptions, serve_http};
use rmm_sim::SimConfig;
use serde_json::{Value, json};

#[tokio::test]
async fn structured_clients_get_the_data_once_older_ones_as_text() {
    let sim = rmm_sim::start(SimConfig {
        devices: 30,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    // The byte figure compares both tools on the simulator's own fleet shape, whatever
    // RMM_SIM_MODE adds: in `documented-fields-only` the old tool's raw answer loses the
    // simulator's invented fields, and the comparison would be of two different fleets.
    sim.set_modes(rmm_sim::Modes::default());
    let tokens: Arc<dyn TokenSource> = Arc::new(StaticToken::new(
        BearerToken::new(sim.valid_token()).unwrap(),
    ));
    let config = ApiConfig::new(
        &sim.info().api_base_url,
        SecretString::from(sim.info().subscription_key.clone()),
        "+00:00",
    )
    .unwrap();
    let direct = ApiClient::new(config, tokens.clone()).unwrap();
    let ops = FleetOperations::new(
        direct.clone(),
        tokens,
        Arc::new(AuditLog::in_memory().unwrap()),
        OperationSettings::default(),
    );
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
    for (version, full_text) in [
        (ProtocolVersion::V_2025_06_18, false),
        (ProtocolVersion::V_2025_03_26, true),
    ] {
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(http.url()).auth_header(secret.expose()),
        );
        let info = ClientConfig::new(ClientCapabilities::default(), Implementation::new("t", "1"))
            .with_protocol_version(version.clone());
        let client = info.serve(transport).await.unwrap();
        let page = client
            .call_tool(
                CallToolRequestParams::new("list_devices")
                    .with_arguments(json!({"page_size": 20}).as_object().cloned().unwrap()),
            )
            .await
            .unwrap();
        let data = page.structured_content.clone().unwrap();
        assert_eq!(data["summary"]["returned"], 20);
        let text = &page.content[0].as_text().unwrap().text;
        if full_text {
            assert_eq!(
                serde_json::from_str::<Value>(text).unwrap(),
                data,
                "{version:?}"
            );
        } else {
            assert!(text.len() < 300, "{text}");
            assert!(
                text.contains("returned=20") && text.contains("structuredContent"),
                "{text}"
            );
            assert!(!text.contains("mn="), "{text}");
        }
        client.cancel().await.unwrap();
    }

    // What an agent pays per device with the old tool's key names (as the benchmark counts
    // it): under half of the old tool's raw-plus-formatted answer.
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(http.url()).auth_header(secret.expose()),
    );
    let client = ().serve(transport).await.unwrap();
    let page = client
        .call_tool(
            CallToolRequestParams::new("list_devices")
                .with_arguments(json!({"page_size": 30}).as_object().cloned().unwrap()),
        )
        .await
        .unwrap();
    let ours = serde_json::to_string(&page).unwrap().len() as f64 / 30.0;
    let raw = direct
        .request(
            rmm_api::Method::POST,
            rmm_api::DEVICE_LIST_PATH,
            Some(json!({"startIndex": 0, "count": 30, "groupId": sim.info().group_id})),
        )
        .await
        .unwrap();
    let old = raw.to_string().len() as f64 / 30.0 + 230.0;
    println!("bytes per device: {ours:.0} (old tool ≈ {old:.0}; target < half)");
    assert!(
        ours < old / 2.0,
        "{ours:.0} bytes per device, old tool {old:.0}"
    );
    client.cancel().await.unwrap();
    http.shutdown().await;
}
