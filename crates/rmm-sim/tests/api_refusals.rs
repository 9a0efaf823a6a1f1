//! Every refusal of the API: subscription key, bearer token, other tenant, and errorList codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::StatusCode;
use rmm_sim::TokenSpec;
use serde_json::json;

const TENANTS: &str = "/api/v1/tenants";
const LIST: &str = "/rmm/fss/fwupd/getFirmwareUpdateList";
const RESERVE: &str = "/rmm/fss/fwupd/setUpdateReservation";
const REMOVE: &str = "/rmm/fss/fwupd/removeUpdateReservation";
const OTA: &str = "/stateful/fss/fwupd/setOTAMode";

#[tokio::test]
async fn subscription_key_missing_or_wrong() {
    let sim = sim().await;
    let url = format!("{}{TENANTS}", sim.info().api_base_url);
    let client = reqwest::Client::new();
    let response = client
        .get(&url)
        .bearer_auth(sim.valid_token())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["statusCode"], 401);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("missing subscription key")
    );

    let response = client
        .get(&url)
        .bearer_auth(sim.valid_token())
        .header("ocp-apim-subscription-key", "0000")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("invalid subscription key")
    );
}

async fn assert_invalid_token(sim: &rmm_sim::Sim, authorization: Option<String>) {
    let mut request = reqwest::Client::new()
        .get(format!("{}{TENANTS}", sim.info().api_base_url))
        .header("ocp-apim-subscription-key", &sim.info().subscription_key);
    if let Some(value) = &authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "{authorization:?}"
    );
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["message"],
        "Unauthorized. Access token is missing or invalid."
    );
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let sim = sim().await;
    let bearer = |t: String| Some(format!("Bearer {t}"));
    assert_invalid_token(&sim, None).await;
    assert_invalid_token(&sim, Some("Basic abc".into())).await;
    assert_invalid_token(&sim, bearer("not.a.jwt".into())).await;
    let expired = sim.mint_token(&TokenSpec {
        ttl_secs: -60,
        ..TokenSpec::default()
    });
    assert_invalid_token(&sim, bearer(expired)).await;
    let foreign = sim.mint_token(&TokenSpec {
        sign_with_foreign_key: true,
        ..TokenSpec::default()
    });
    assert_invalid_token(&sim, bearer(foreign)).await;
    let audience = sim.mint_token(&TokenSpec {
        audience: Some("https://other".into()),
        ..TokenSpec::default()
    });
    assert_invalid_token(&sim, bearer(audience)).await;
    let issuer = sim.mint_token(&TokenSpec {
        issuer: Some("https://evil/".into()),
        ..TokenSpec::default()
    });
    assert_invalid_token(&sim, bearer(issuer)).await;
    let kid = sim.mint_token(&TokenSpec {
        kid: Some("0000000000000000".into()),
        ..TokenSpec::default()
    });
    assert_invalid_token(&sim, bearer(kid)).await;
    let early = sim.mint_token(&TokenSpec {
        not_before_offset_secs: Some(600),
        ..TokenSpec::default()
    });
    assert_invalid_token(&sim, bearer(early)).await;
    // A tampered payload breaks the signature.
    let valid = sim.valid_token();
    let mut parts: Vec<String> = valid.split('.').map(String::from).collect();
    parts[1] = parts[1].chars().rev().collect();
    assert_invalid_token(&sim, bearer(parts.join("."))).await;
    // And the valid one passes.
    assert_eq!(api(&sim, &valid, TENANTS, None).await.0, StatusCode::OK);
    assert_eq!(sim.stats().api_requests, 11);
}

#[tokio::test]
async fn other_tenant_is_forbidden() {
    let sim = sim().await;
    let other = sim.info().other_group_id.clone();
    for path in [
        LIST,
        RESERVE,
        REMOVE,
        OTA,
        "/rmm/fss/fwupd/getFirmwareDataList",
    ] {
        let (status, body) = change(&sim, path, json!({"groupId": other, "deviceIds": []})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(
            body["message"],
            "Forbidden: group is not accessible for this user."
        );
    }
    // A token of the other tenant sees only its own tenant.
    let token = sim.mint_token(&TokenSpec {
        tenant_id: Some(other.clone()),
        ..TokenSpec::default()
    });
    let (_, tenants) = api(&sim, &token, TENANTS, None).await;
    assert_eq!(tenants["tenantList"][0]["tenantId"], other.as_str());
    assert_eq!(
        tenants["tenantList"][0]["tenantName"],
        "Northwind Print Services"
    );
    let (status, list) = api(
        &sim,
        &token,
        LIST,
        Some(json!({"groupId": other, "count": 100})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["totalCount"], 30);
    // Its devices are not the user's.
    let foreign_device = list["deviceList"][0]["deviceId"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = change(&sim, REMOVE, json!({"deviceIds": [foreign_device]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        codes(&body),
        vec![("DEVICE_NOT_FOUND".into(), "deviceIds[0]".into())]
    );
}

#[tokio::test]
async fn reservation_lists_every_problem_at_once() {
    let sim = sim().await;
    let (_, list) = list(&sim, json!({"count": 1})).await;
    let good = list["deviceList"][0]["deviceId"]
        .as_str()
        .unwrap()
        .to_string();
    let past = sim.now_ms() - 3_600_000;
    let (status, body) = change(
        &sim,
        RESERVE,
        json!({"deviceIds": [good, "garbage", "mn=U2hhcnA=:sn=OTk5OTk5OTk5"], "fileId": "no-such-file",
               "fileTransferTimestamp": past, "fileTransferTimeZone": "IST",
               "executeUpdateDateTime": "2025-08-11 14:00"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        codes(&body),
        vec![
            ("INVALID_DEVICE_ID".into(), "deviceIds[1]".into()),
            ("DEVICE_NOT_FOUND".into(), "deviceIds[2]".into()),
            ("FILE_NOT_FOUND".into(), "fileId".into()),
            ("PAST_TIMESTAMP".into(), "fileTransferTimestamp".into()),
            ("INVALID_TIMEZONE".into(), "fileTransferTimeZone".into()),
            ("INVALID_DATETIME".into(), "executeUpdateDateTime".into()),
        ]
    );
    for entry in body["common"]["errorList"].as_array().unwrap() {
        assert!(!entry["message"].as_str().unwrap().is_empty());
    }
    assert!(sim.reservations().is_empty(), "nothing applied");
    assert_eq!(sim.stats().change_requests, 0);
}

#[tokio::test]
async fn reservation_timestamp_and_order_codes() {
    let sim = sim().await;
    let (_, list) = list(&sim, json!({"count": 1})).await;
    let device = list["deviceList"][0]["deviceId"]
        .as_str()
        .unwrap()
        .to_string();
    let file = sim.firmware_files()[0]["fileId"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = change(
        &sim,
        RESERVE,
        json!({"deviceIds": [device], "fileId": file, "fileTransferTimestamp": "soon",
               "fileTransferTimeZone": "UTC+00:00", "executeUpdateDateTime": "202513011400"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        codes(&body),
        vec![
            ("INVALID_TIMESTAMP".into(), "fileTransferTimestamp".into()),
            ("INVALID_DATETIME".into(), "executeUpdateDateTime".into()),
        ]
    );
    // Execute an hour before the transfer.
    let transfer = sim.now_ms() + 7_200_000;
    let (status, body) = change(
        &sim,
        RESERVE,
        json!({"deviceIds": [device], "fileId": file, "fileTransferTimestamp": transfer,
               "fileTransferTimeZone": "UTC+00:00", "executeUpdateDateTime": local(transfer - 3_600_000, 0)}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        codes(&body),
        vec![(
            "EXECUTE_BEFORE_TRANSFER".into(),
            "executeUpdateDateTime".into()
        )]
    );
}

/// `YYYYMMDDHHMM` of `ms` at UTC offset `offset_secs`.
pub fn local(ms: i64, offset_secs: i32) -> String {
    let offset = time::UtcOffset::from_whole_seconds(offset_secs).unwrap();
    let at = time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .unwrap()
        .to_offset(offset);
    format!(
        "{:04}{:02}{:02}{:02}{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

#[tokio::test]
async fn empty_selection_and_ota_codes() {
    let sim = sim().await;
    let (status, body) = change(&sim, REMOVE, json!({"deviceIds": []})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        codes(&body),
        vec![("EMPTY_DEVICE_LIST".into(), "deviceIds".into())]
    );

    let (_, list) = list(&sim, json!({"count": 1})).await;
    let device = list["deviceList"][0]["deviceId"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = change(
        &sim,
        OTA,
        json!({"deviceIds": [device], "otaMode": "sometimes", "otaStartHour": 24, "otaEndHour": -2}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        codes(&body),
        vec![
            ("INVALID_OTA_MODE".into(), "otaMode".into()),
            ("INVALID_HOUR".into(), "otaStartHour".into()),
            ("INVALID_HOUR".into(), "otaEndHour".into()),
        ]
    );
    let (status, body) = change(
        &sim,
        OTA,
        json!({"deviceIds": [device], "otaMode": "auto", "otaStartHour": 5, "otaEndHour": 3}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        codes(&body),
        vec![("INVALID_HOUR_RANGE".into(), "otaStartHour".into())]
    );
}

#[tokio::test]
async fn list_paging_filter_and_order_codes() {
    let sim = sim().await;
    let (status, body) = list(
        &sim,
        json!({"count": 101, "startIndex": -5,
               "simpleFilters": [{"key": "colour", "value": "red"}, {"key": "needsUpdate", "value": "maybe"}],
               "orderBy": [{"key": "otaMode", "order": "sideways"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        codes(&body),
        vec![
            ("INVALID_COUNT".into(), "count".into()),
            ("INVALID_START_INDEX".into(), "startIndex".into()),
            ("INVALID_FILTER".into(), "simpleFilters[0].key".into()),
            ("INVALID_FILTER".into(), "simpleFilters[1].value".into()),
            ("INVALID_ORDER".into(), "orderBy[0].order".into()),
        ]
    );
    let (status, body) = list(&sim, json!({"count": 0})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes(&body), vec![("INVALID_COUNT".into(), "count".into())]);
}

#[tokio::test]
async fn malformed_body_and_missing_group_are_named() {
    let sim = sim().await;
    let response = reqwest::Client::new()
        .post(format!("{}{LIST}", sim.info().api_base_url))
        .bearer_auth(sim.valid_token())
        .header("ocp-apim-subscription-key", &sim.info().subscription_key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        codes(&body),
        vec![("INVALID_REQUEST".into(), "body".into())]
    );
    let (status, body) = api(&sim, &sim.valid_token(), LIST, Some(json!({"count": 5}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        codes(&body),
        vec![("INVALID_REQUEST".into(), "groupId".into())]
    );
}
