//! CORS for the dashboard origin only, fault injection on the API, and the control endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::StatusCode;
use rmm_sim::{DropPhase, Faults, SimConfig};
use serde_json::{Value, json};

const TENANTS: &str = "/api/v1/tenants";

#[tokio::test]
async fn cors_allows_only_the_dashboard_origin() {
    let sim = sim().await;
    let dashboard = sim.info().dashboard_url.trim_end_matches('/').to_string();
    let url = format!("{}{TENANTS}", sim.info().api_base_url);
    let client = reqwest::Client::new();
    let preflight = |origin: &str| {
        client
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header(
                "access-control-request-headers",
                "authorization, ocp-apim-subscription-key, x-time-zone",
            )
            .send()
    };
    let response = preflight(&dashboard).await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        dashboard.as_str()
    );
    let allowed = response.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    for header in [
        "authorization",
        "content-type",
        "ocp-apim-subscription-key",
        "x-time-zone",
    ] {
        assert!(allowed.contains(header), "{header}");
    }
    let response = preflight("http://evil.example").await.unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let get = |origin: &str| {
        client
            .get(&url)
            .header("origin", origin)
            .bearer_auth(sim.valid_token())
            .header("ocp-apim-subscription-key", &sim.info().subscription_key)
            .send()
    };
    let response = get(&dashboard).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        dashboard.as_str()
    );
    let response = get("http://evil.example").await.unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    // The token endpoint follows the same rule.
    let token_url = format!("{}oauth/token", sim.info().issuer);
    let response = client
        .request(reqwest::Method::OPTIONS, &token_url)
        .header("origin", &dashboard)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        dashboard.as_str()
    );
    let response = client
        .request(reqwest::Method::OPTIONS, &token_url)
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let sim = sim().await;
    sim.set_faults(Faults {
        rate_limit_per_sec: Some(3),
        ..Faults::default()
    });
    let token = sim.valid_token();
    let mut limited = None;
    for _ in 0..10 {
        let response = reqwest::Client::new()
            .get(format!("{}{TENANTS}", sim.info().api_base_url))
            .bearer_auth(&token)
            .header("ocp-apim-subscription-key", &sim.info().subscription_key)
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(response);
            break;
        }
    }
    let response = limited.expect("ten requests in a row exceed three per second");
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    // Refusals are not rate limited.
    let response = reqwest::get(format!("{}{TENANTS}", sim.info().api_base_url))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn error_share_gives_500_and_503() {
    let sim = sim().await;
    sim.set_faults(Faults {
        error_share: 1.0,
        ..Faults::default()
    });
    let token = sim.valid_token();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        let (status, _) = api(&sim, &token, TENANTS, None).await;
        seen.insert(status.as_u16());
    }
    assert_eq!(seen, [500, 503].into_iter().collect());
    sim.set_faults(Faults {
        error_share: 0.5,
        ..Faults::default()
    });
    let mut ok = 0;
    for _ in 0..40 {
        if api(&sim, &token, TENANTS, None).await.0 == StatusCode::OK {
            ok += 1;
        }
    }
    assert!((5..35).contains(&ok), "{ok}");
}

async fn remove_one(sim: &rmm_sim::Sim, id: &str) -> Result<reqwest::Response, reqwest::Error> {
    reqwest::Client::new()
        .post(format!(
            "{}/rmm/fss/fwupd/removeUpdateReservation",
            sim.info().api_base_url
        ))
        .bearer_auth(sim.valid_token())
        .header("ocp-apim-subscription-key", &sim.info().subscription_key)
        .json(&json!({"groupId": sim.info().group_id, "deviceIds": [id]}))
        .send()
        .await
}

#[tokio::test]
async fn drops_before_change_nothing_and_after_apply_the_change() {
    let sim = sim_with(SimConfig {
        devices: 10,
        failure_share: 0.0,
        ..SimConfig::default()
    })
    .await;
    let (_, page) = list(&sim, json!({"count": 10})).await;
    let id = page["deviceList"][0]["deviceId"]
        .as_str()
        .unwrap()
        .to_string();
    let file = sim.firmware_files()[0]["fileId"]
        .as_str()
        .unwrap()
        .to_string();
    let transfer = sim.now_ms() + 3_600_000;
    let (status, _) = change(
        &sim,
        "/rmm/fss/fwupd/setUpdateReservation",
        json!({"deviceIds": [id], "fileId": file, "fileTransferTimestamp": transfer,
               "fileTransferTimeZone": "UTC+00:00", "executeUpdateDateTime": "209901010000"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    sim.set_faults(Faults {
        drop_share: 1.0,
        drop_phase: DropPhase::Before,
        ..Faults::default()
    });
    let error = remove_one(&sim, &id)
        .await
        .expect_err("the connection is dropped");
    assert!(!error.is_status());
    assert_eq!(
        sim.device(&id).unwrap()["updateStatus"],
        "reserved",
        "nothing applied"
    );

    sim.set_faults(Faults {
        drop_share: 1.0,
        drop_phase: DropPhase::After,
        ..Faults::default()
    });
    remove_one(&sim, &id)
        .await
        .expect_err("the connection is dropped");
    assert_eq!(
        sim.device(&id).unwrap()["updateStatus"],
        "none",
        "applied before the drop"
    );
    assert_eq!(sim.stats().change_requests, 2);

    sim.set_faults(Faults::default());
    let response = remove_one(&sim, &id).await.unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["affectedCount"], 0, "a retry does not find it again");
}

#[tokio::test]
async fn latency_is_added_to_api_requests() {
    let sim = sim_with(SimConfig {
        latency_ms: 150,
        devices: 5,
        ..SimConfig::default()
    })
    .await;
    let token = sim.valid_token();
    let started = std::time::Instant::now();
    api(&sim, &token, TENANTS, None).await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
    assert_eq!(sim.faults().latency_ms, 150);
}

#[tokio::test]
async fn control_endpoint_reads_and_writes() {
    let sim = sim().await;
    let control = sim.info().control_url.clone();
    let client = reqwest::Client::new();

    let faults: Value = client
        .post(format!("{control}/faults"))
        .json(&json!({"errorShare": 0.25, "dropPhase": "after", "rateLimitPerSec": 7}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["errorShare"], 0.25);
    assert_eq!(faults["dropPhase"], "after");
    assert_eq!(sim.faults().rate_limit_per_sec, Some(7));
    let read: Value = client
        .get(format!("{control}/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read, faults);
    let response = client
        .post(format!("{control}/faults"))
        .json(&json!({"errorShare": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().starts_with("errorShare"));
    sim.set_faults(Faults::default());

    let before = sim.now_ms();
    let now: Value = client
        .post(format!("{control}/clock"))
        .json(&json!({"advanceSecs": 3600}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(now["now"].as_i64().unwrap() >= before + 3_600_000);
    let response = client
        .post(format!("{control}/clock"))
        .json(&json!({"speed": -1}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    api(&sim, &sim.valid_token(), TENANTS, None).await;
    let stats: Value = client
        .get(format!("{control}/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["apiRequests"], 1);
    for key in [
        "logins",
        "passwordLogins",
        "failedLogins",
        "silentLogins",
        "tokenExchanges",
        "changeRequests",
    ] {
        assert_eq!(stats[key], 0, "{key}");
    }

    let (_, page) = list(&sim, json!({"count": 1})).await;
    let id = page["deviceList"][0]["deviceId"].as_str().unwrap();
    let device: Value = client
        .get(format!("{control}/devices/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(device["deviceId"], id);
    let missing = client
        .get(format!("{control}/devices/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let reservations: Value = client
        .get(format!("{control}/reservations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reservations, json!([]));

    let browser = browser();
    login(&browser, &sim).await;
    let ended = client
        .post(format!("{control}/sessions/end"))
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), StatusCode::OK);
    let response = browser
        .get(authorize_url(&sim, &pkce("c"), "S", Some("none")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        query_param(&location(&response), "error").as_deref(),
        Some("login_required")
    );
}

#[tokio::test]
async fn dashboard_serves_the_spa_that_calls_the_api() {
    let sim = sim().await;
    let client = browser();
    let dashboard = sim.info().dashboard_url.clone();
    for path in ["", "callback"] {
        let html = client
            .get(format!("{dashboard}{path}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(r#"id="device-table""#) && html.contains(r#"id="user-email""#));
        assert!(html.contains("/config.js") && html.contains("/app.js"));
    }
    let app = client
        .get(format!("{dashboard}app.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "/api/v1/tenants",
        "/rmm/fss/fwupd/getFirmwareUpdateList",
        "'authorization'",
        "'ocp-apim-subscription-key'",
        "'x-time-zone'",
        "/oauth/token",
    ] {
        assert!(app.contains(needle), "{needle}");
    }
    let config = client
        .get(format!("{dashboard}config.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(config.contains(&sim.info().subscription_key));
    assert!(config.contains(&sim.info().api_base_url));
}

#[tokio::test]
async fn bad_configuration_names_the_field() {
    let error = rmm_sim::start(SimConfig {
        devices: 100_001,
        ..SimConfig::default()
    })
    .await
    .unwrap_err();
    assert!(error.to_string().contains("devices"), "{error}");
    let error = rmm_sim::start(SimConfig {
        error_share: 1.5,
        ..SimConfig::default()
    })
    .await
    .unwrap_err();
    assert!(error.to_string().contains("error_share"), "{error}");
}
