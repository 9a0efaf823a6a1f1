//! The behaviour modes over HTTP: each changes what the docs say it changes, `/__sim/modes`
//! switches them at runtime, and the default mode keeps the settled behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;

use common::*;
use reqwest::{Client, StatusCode};
use rmm_sim::{Modes, Sim, SimConfig};
use serde_json::{Value, json};

const LIST: &str = "/rmm/fss/fwupd/getFirmwareUpdateList";
const RESERVE: &str = "/rmm/fss/fwupd/setUpdateReservation";
const OTA: &str = "/stateful/fss/fwupd/setOTAMode";

async fn sim_in(modes: Modes) -> Sim {
    sim_with(SimConfig {
        failure_share: 0.0,
        modes,
        ..SimConfig::default()
    })
    .await
}

/// A request with the key and a valid token, and the given extra headers.
async fn call(
    sim: &Sim,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (StatusCode, Value) {
    let info = sim.info();
    let mut request = Client::new()
        .request(method, format!("{}{path}", info.api_base_url))
        .bearer_auth(sim.valid_token())
        .header("ocp-apim-subscription-key", &info.subscription_key);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(mut body) = body {
        if body.get("groupId").is_none() {
            body["groupId"] = json!(info.group_id);
        }
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn ids(page: &Value) -> Vec<String> {
    page["deviceList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["deviceId"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn modes_are_read_and_switched_through_the_control_endpoint() {
    let sim = sim_in(Modes::default()).await;
    let control = &sim.info().control_url;
    let http = Client::new();
    let read: Value = http
        .get(format!("{control}/modes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read, serde_json::to_value(Modes::default()).unwrap());
    let set = http
        .post(format!("{control}/modes"))
        .json(&json!({"preset": "strict"}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(sim.modes(), Modes::strict());
    let bad = http
        .post(format!("{control}/modes"))
        .json(&json!({"bogus": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: Value = bad.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("bogus"), "{body}");
    assert_eq!(
        sim.modes(),
        Modes::strict(),
        "a refused patch changes nothing"
    );
}

#[tokio::test]
async fn refusals_come_with_200_and_the_same_error_list() {
    let sim = sim_in(Modes::default()).await;
    let bad = json!({"deviceIds": ["nope"], "otaMode": "sideways"});
    let (status, default_body) = change(&sim, OTA, bad.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    sim.set_modes(Modes {
        refusals_as_200: true,
        ..Modes::default()
    });
    let (status, body) = change(&sim, OTA, bad).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(codes(&body), codes(&default_body));
    assert_eq!(codes(&body).len(), 2, "{body}");
    assert_eq!(sim.stats().change_requests, 0);
}

#[tokio::test]
async fn unknown_filters_are_ignored_and_operators_too() {
    let sim = sim_in(Modes {
        unknown_filters_ignored: true,
        ..Modes::default()
    })
    .await;
    let (status, page) = list(
        &sim,
        json!({"count": 100, "simpleFilters": [{"key": "needsUpdate", "value": "true"}, {"key": "keyword", "value": "zzz-none"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["totalCount"], 250, "the filters did nothing");
    // `contains` is not known either: the value is compared whole.
    let (_, page) = list(
        &sim,
        json!({"simpleFilters": [{"key": "modelName", "value": "MX", "operator": "contains"}]}),
    )
    .await;
    assert_eq!(page["totalCount"], 0, "{page}");
    let (_, page) = list(
        &sim,
        json!({"simpleFilters": [{"key": "modelName", "value": "MX-3071", "operator": "contains"}]}),
    )
    .await;
    let models: HashSet<&str> = page["deviceList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["modelName"].as_str().unwrap())
        .collect();
    assert_eq!(models, HashSet::from(["MX-3071"]));
}

#[tokio::test]
async fn shuffled_order_is_another_full_order_and_moves_lose_and_repeat_devices() {
    let sim = sim_in(Modes {
        shuffled_order: true,
        ..Modes::default()
    })
    .await;
    let mut read = Vec::new();
    for start in [0, 100, 200] {
        let (_, page) = list(&sim, json!({"startIndex": start, "count": 100})).await;
        read.extend(ids(&page));
    }
    assert_eq!(read.iter().collect::<HashSet<_>>().len(), 250);
    assert!(
        !read.windows(2).all(|w| w[0] < w[1]),
        "not the deviceId order"
    );
    // Reading again gives the same order while nothing moves.
    let (_, again) = list(&sim, json!({"count": 100})).await;
    assert_eq!(ids(&again), read[..100].to_vec());

    sim.set_modes(Modes {
        moving_devices: true,
        ..Modes::default()
    });
    let mut seen = Vec::new();
    for start in (0..250).step_by(25) {
        let (_, page) = list(&sim, json!({"startIndex": start, "count": 25})).await;
        seen.extend(ids(&page));
    }
    assert_eq!(seen.len(), 250, "every page was full");
    let distinct: HashSet<_> = seen.iter().collect();
    assert!(
        distinct.len() < 250,
        "a page-by-page read sees some device twice and misses another"
    );
    let (_, page) = list(&sim, json!({"count": 1})).await;
    assert_eq!(page["totalCount"], 250);
}

#[tokio::test]
async fn documented_fields_only_hides_the_invented_fields_and_shapes() {
    let sim = sim_in(Modes {
        documented_fields_only: true,
        ..Modes::default()
    })
    .await;
    let (_, page) = list(&sim, json!({"count": 5})).await;
    for device in page["deviceList"].as_array().unwrap() {
        for invented in ["connectionStatus", "location", "reservation"] {
            assert!(device.get(invented).is_none(), "{invented} in {device}");
        }
        assert!(device.get("otaSettingStatus").is_some());
    }
    let (status, tenants) = call(&sim, reqwest::Method::GET, "/api/v1/tenants", None, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(tenants.get("tenantList").is_none(), "{tenants}");
    let id = ids(&page)[0].clone();
    let (status, receipt) = change(&sim, OTA, json!({"deviceIds": [id], "otaMode": "off"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(receipt, json!({"common": {"errorList": []}}));
    assert_eq!(sim.device(&id).unwrap()["otaMode"], "off");
}

#[tokio::test]
async fn odd_ids_are_listed_and_accepted_and_the_canonical_twin_is_not() {
    let sim = sim_in(Modes {
        odd_device_ids: true,
        ..Modes::default()
    })
    .await;
    let mut all = Vec::new();
    for start in [0, 100, 200] {
        let (_, page) = list(&sim, json!({"startIndex": start, "count": 100})).await;
        all.extend(page["deviceList"].as_array().unwrap().clone());
    }
    let odd: Vec<&Value> = all
        .iter()
        .filter(|d| !d["deviceId"].as_str().unwrap().ends_with('='))
        .collect();
    assert!(odd.len() > 25, "{} odd ids", odd.len());
    let opaque = all
        .iter()
        .find(|d| d["deviceId"].as_str().unwrap().starts_with("SHARP-"))
        .unwrap();
    let id = opaque["deviceId"].as_str().unwrap();
    let (status, body) = change(&sim, OTA, json!({"deviceIds": [id], "otaMode": "off"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(sim.device(id).unwrap()["otaMode"], "off");
    let serial = opaque["serialNumber"].as_str().unwrap();
    let canonical = format!(
        "mn=U2hhcnA=:sn={}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, serial)
    );
    let (status, body) = change(
        &sim,
        OTA,
        json!({"deviceIds": [canonical], "otaMode": "auto"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes(&body)[0].0, "DEVICE_NOT_FOUND");
}

#[tokio::test]
async fn tenants_need_the_dashboard_origin_in_that_mode() {
    let sim = sim_in(Modes {
        tenants_need_browser: true,
        ..Modes::default()
    })
    .await;
    let dashboard = sim.info().dashboard_url.trim_end_matches('/').to_string();
    let get = reqwest::Method::GET;
    let (status, _) = call(&sim, get.clone(), "/api/v1/tenants", None, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(
        &sim,
        get.clone(),
        "/api/v1/tenants",
        None,
        &[("origin", "https://dev7-smartoffice.sharpb2bcloud.com")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = call(
        &sim,
        get,
        "/api/v1/tenants",
        None,
        &[("origin", &dashboard)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The RMM endpoints do not mind.
    let (status, _) = list(&sim, json!({"count": 1})).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_dashboard_origin_is_required_everywhere_in_that_mode() {
    let sim = sim_in(Modes {
        require_dashboard_origin: true,
        ..Modes::default()
    })
    .await;
    let dashboard = sim.info().dashboard_url.trim_end_matches('/').to_string();
    let post = reqwest::Method::POST;
    let (status, _) = call(&sim, post.clone(), LIST, Some(json!({"count": 1})), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, page) = call(
        &sim,
        post,
        LIST,
        Some(json!({"count": 1})),
        &[("origin", &dashboard)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
}

#[tokio::test]
async fn the_time_zone_header_decides_the_execute_time_in_that_mode() {
    for (modes, header_wins) in [
        (Modes::default(), false),
        (
            Modes {
                time_zone_header: true,
                ..Modes::default()
            },
            true,
        ),
    ] {
        let sim = sim_in(modes).await;
        sim.set_clock_speed(0.0);
        let (_, page) = list(&sim, json!({"count": 1})).await;
        let device = &page["deviceList"][0];
        let file = sim
            .firmware_files()
            .into_iter()
            .find(|f| f["groupId"] == sim.info().group_id.as_str())
            .unwrap();
        // Transfer at the next whole hour plus one; execute at that hour + 3 h, local.
        let hour = 3_600_000;
        let transfer = (sim.now_ms() / hour + 1) * hour;
        let at = time::OffsetDateTime::from_unix_timestamp(transfer / 1000 + 3 * 3600)
            .unwrap()
            .to_offset(time::UtcOffset::from_whole_seconds(19_800).unwrap());
        let execute = format!(
            "{:04}{:02}{:02}{:02}{:02}",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute()
        );
        let (status, body) = call(
            &sim,
            reqwest::Method::POST,
            RESERVE,
            Some(
                json!({"deviceIds": [device["deviceId"]], "fileId": file["fileId"],
                        "fileTransferTimestamp": transfer, "fileTransferTimeZone": "UTC+05:30",
                        "executeUpdateDateTime": execute, "isExclude": false}),
            ),
            &[("x-time-zone", "+00:00")],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let reservation = sim.reservations().into_iter().next().unwrap();
        let read = reservation["executeAt"].as_i64().unwrap();
        let expected = if header_wins {
            // Read as UTC: 5 h 30 later than meant.
            transfer + 3 * hour + 19_800_000
        } else {
            transfer + 3 * hour
        };
        assert_eq!(read, expected, "header wins: {header_wins}");
    }
}
