//! 50 concurrent tool calls with an expired stored token cause exactly one login: the endpoint
//! runs on `rmm_core::connect_profile` (rmm-auth's `TokenManager`, the profile's file store,
//! the headless Chromium login with the saved password) against the simulator. And with no
//! saved password every tool answers at once with the sign-in instruction.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmm_core::settings::{EnvVars, Profile, ProfileFlags, SettingsFile, resolve_profile};
use rmm_core::{AuditLog, OperationSettings, ProfileConnection, connect_profile};
use rmm_mcp::{EndpointSecret, GuardConfig, HttpEndpoint, RmmMcpServer, ServerOptions, serve_http};
use rmm_sim::{Sim, SimConfig, TokenSpec};
use serde_json::{Value, json};

/// A profile for `sim` whose file store holds an expired token and, when `with_password`,
/// the password for a headless login.
fn connect(sim: &Sim, dir: &std::path::Path, name: &str, with_password: bool) -> ProfileConnection {
    let i = sim.info();
    let secrets = dir.join("secrets.json");
    let expired = sim.mint_token(&TokenSpec {
        ttl_secs: -120,
        ..TokenSpec::default()
    });
    let mut contents = json!({
        "token": {"jwt": expired, "origin": "headless-browser"},
        "subscription_key": i.subscription_key,
    });
    if with_password {
        contents["password"] = json!(i.password);
    }
    std::fs::write(&secrets, contents.to_string()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut file = SettingsFile::default();
    file.profiles.insert(
        name.to_owned(),
        Profile {
            name: name.to_owned(),
            login_url: Some(i.login_url.clone()),
            api_base_url: Some(i.api_base_url.clone()),
            dashboard_url: Some(i.dashboard_url.clone()),
            issuer: Some(i.issuer.clone()),
            audience: Some(i.audience.clone()),
            jwks_url: Some(i.jwks_url.clone()),
            username: Some(i.username.clone()),
            token_file: Some(secrets),
            // Even a profile asking for a visible browser gets none from these faces.
            headless: Some(false),
            ..Profile::default()
        },
    );
    let resolved = resolve_profile(
        &ProfileFlags {
            profile: Some(name.to_owned()),
            ..ProfileFlags::default()
        },
        &EnvVars::default(),
        &file,
    )
    .unwrap();
    connect_profile(
        &resolved,
        Arc::new(AuditLog::in_memory().unwrap()),
        OperationSettings::default(),
    )
    .unwrap()
}

async fn endpoint(connection: &ProfileConnection) -> (HttpEndpoint, EndpointSecret) {
    let secret = EndpointSecret::generate();
    let ops = connection.operations.clone();
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
    (http, secret)
}

async fn fifty_calls(
    http: &HttpEndpoint,
    secret: &EndpointSecret,
) -> Vec<rmcp::model::CallToolResult> {
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(http.url()).auth_header(secret.expose()),
    );
    let client = ().serve(transport).await.unwrap();
    let peer = client.peer().clone();
    let calls: Vec<_> = (0..50)
        .map(|i| {
            let peer = peer.clone();
            tokio::spawn(async move {
                let args = json!({"page_size": 5, "start_index": i % 10});
                peer.call_tool(
                    CallToolRequestParams::new("list_devices")
                        .with_arguments(args.as_object().cloned().unwrap()),
                )
                .await
                .unwrap()
            })
        })
        .collect();
    let mut results = Vec::new();
    for call in calls {
        results.push(call.await.unwrap());
    }
    client.cancel().await.unwrap();
    results
}

#[tokio::test]
async fn fifty_concurrent_calls_with_an_expired_token_log_in_once() {
    let sim = rmm_sim::start(SimConfig {
        devices: 50,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let name = format!("mcp-one-login-{}", std::process::id());
    let connection = connect(&sim, dir.path(), &name, true);
    let (http, secret) = endpoint(&connection).await;

    let results = fifty_calls(&http, &secret).await;
    for r in &results {
        assert_ne!(r.is_error, Some(true), "{r:?}");
        assert_eq!(
            r.structured_content.as_ref().unwrap()["summary"]["returned"],
            5
        );
    }
    assert_eq!(sim.stats().logins, 1, "{:?}", sim.stats());
    assert_eq!(connection.tokens.logins_started(), 1);
    // The new token was kept in the profile's store for the next process.
    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("secrets.json")).unwrap())
            .unwrap();
    assert_ne!(
        stored["token"]["jwt"],
        json!(sim.mint_token(&TokenSpec {
            ttl_secs: -120,
            ..TokenSpec::default()
        }))
    );
    http.shutdown().await;
    if let Ok(dir) = rmm_core::settings::data_dir() {
        let _ = std::fs::remove_dir_all(dir.join("browser-profiles").join(&name));
    }
}

#[tokio::test]
async fn without_saved_credentials_every_tool_answers_at_once_with_the_sign_in_instruction() {
    let sim = rmm_sim::start(SimConfig {
        devices: 10,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let connection = connect(&sim, dir.path(), "mcp-no-credentials", false);
    let (http, secret) = endpoint(&connection).await;
    let started = Instant::now();
    let results = fifty_calls(&http, &secret).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    for r in &results {
        assert_eq!(r.is_error, Some(true), "{r:?}");
        let body: Value = serde_json::from_str(&r.content[0].as_text().unwrap().text).unwrap();
        assert_eq!(body["error"], "auth", "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains("rmm login"), "{message}");
    }
    assert_eq!(sim.stats().logins, 0);
    assert_eq!(sim.stats().api_requests, 0);
    http.shutdown().await;
}
