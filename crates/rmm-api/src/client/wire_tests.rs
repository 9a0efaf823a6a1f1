//! Pins the wire with mockito: headers, exact bodies, retries and their limits, Retry-After,
//! the single token refresh on 401, errorList mapping, the origin guard, changes never re-sent
//! and their read-back verdict, and whole-fleet paging.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mockito::{Matcher, Server, ServerGuard};
use serde_json::{Value, json};

use super::*;
use crate::config::RetryPolicy;
use crate::device::OtaMode;
use crate::device_id::DeviceId;
use crate::error::FieldError;
use crate::token::{StaticToken, TokenSourceError};

const KEY: &str = "sub-key-0123";
const TOKEN: &str = "tok.first.sig";
const FRESH: &str = "tok.fresh.sig";

/// Hands out `TOKEN`, then `FRESH` when told it was refused; counts the refusals.
#[derive(Default)]
struct CountingTokens {
    refused: AtomicUsize,
}

impl TokenSource for CountingTokens {
    fn token(&self) -> BoxFuture<'_, Result<BearerToken, TokenSourceError>> {
        Box::pin(async {
            BearerToken::new(TOKEN).map_err(|e| TokenSourceError::new(e.to_string()))
        })
    }
    fn token_refused<'a>(
        &'a self,
        refused: &'a BearerToken,
    ) -> BoxFuture<'a, Result<BearerToken, TokenSourceError>> {
        Box::pin(async move {
            assert_eq!(
                refused.expose_secret(),
                TOKEN,
                "the refused token is handed back"
            );
            self.refused.fetch_add(1, Ordering::SeqCst);
            BearerToken::new(FRESH).map_err(|e| TokenSourceError::new(e.to_string()))
        })
    }
}

struct Setup {
    client: ApiClient,
    tokens: Arc<CountingTokens>,
    sleeps: Arc<Mutex<Vec<Duration>>>,
}

fn config(base_url: &str) -> ApiConfig {
    let mut config = ApiConfig::new(base_url, secrecy::SecretString::from(KEY), "+05:30")
        .unwrap()
        .with_origin("https://dash.example");
    config.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(2),
        max_retry_after: Duration::from_secs(30),
    };
    config.request_timeout = Duration::from_secs(10);
    config
}

fn setup_with(config: ApiConfig) -> Setup {
    let tokens = Arc::new(CountingTokens::default());
    let sleeps = Arc::new(Mutex::new(Vec::new()));
    let recorded = sleeps.clone();
    let sleeper: Sleeper = Arc::new(move |d| {
        recorded.lock().unwrap().push(d);
        Box::pin(async {})
    });
    let client = ApiClient::with_sleeper(config, tokens.clone(), sleeper).unwrap();
    Setup {
        client,
        tokens,
        sleeps,
    }
}

fn setup(server: &ServerGuard) -> Setup {
    setup_with(config(&server.url()))
}

fn device_json(serial: &str, extra: Value) -> Value {
    let mut d = json!({"deviceId": DeviceId::new("Sharp", serial).unwrap().to_string(),
                       "modelName": "MX-3071", "serialNumber": serial, "updateStatus": "none",
                       "otaMode": "off", "otaStartHour": -1, "otaEndHour": -1, "reservation": null});
    d.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    d
}

fn ok_page(devices: Vec<Value>, total: usize) -> String {
    json!({"deviceList": devices, "totalCount": total, "common": {"errorList": []}}).to_string()
}

fn ids(serials: &[&str]) -> Vec<DeviceId> {
    serials
        .iter()
        .map(|s| DeviceId::new("Sharp", s).unwrap())
        .collect()
}

#[tokio::test]
async fn device_list_sends_every_header_and_the_exact_body() {
    let mut server = Server::new_async().await;
    let mock = server
        .mock("POST", DEVICE_LIST_PATH)
        .match_header("authorization", format!("Bearer {TOKEN}").as_str())
        .match_header("ocp-apim-subscription-key", KEY)
        .match_header("x-time-zone", "+05:30")
        .match_header("content-type", "application/json")
        .match_header("accept", "application/json, text/plain, */*")
        .match_header("origin", "https://dash.example")
        .match_body(Matcher::Json(json!({
            "startIndex": 0, "count": 25, "groupId": "g1",
            "simpleFilters": [{"key": "modelName", "value": "MX", "operator": "contains"}],
            "orderBy": [{"key": "otaMode", "order": "ascending"}]
        })))
        .with_body(ok_page(
            vec![device_json(
                "1",
                json!({"latestFirmwareVersion": "2.0", "rack": "B"}),
            )],
            1,
        ))
        .expect(1)
        .create_async()
        .await;
    let s = setup(&server);
    let request = DeviceListRequest {
        count: 25,
        ..DeviceListRequest::new("g1")
    }
    .with_filter(SimpleFilter::contains("modelName", "MX"))
    .ordered_by("otaMode", crate::device_list::SortOrder::Ascending);
    let page = s.client.device_page(&request).await.unwrap();
    mock.assert_async().await;
    assert_eq!(page.total_count, Some(1));
    assert!(page.devices[0].needs_update());
    assert_eq!(page.devices[0].extra["rack"], json!("B"));
}

#[tokio::test]
async fn a_reservation_says_its_own_zone_in_x_time_zone() {
    let mut server = Server::new_async().await;
    let receipt = r#"{"result":"success","affectedCount":1,"common":{"errorList":[]}}"#;
    // The profile's zone is +05:30; the reservation is in UTC-08:00, and a cloud that reads
    // the execute time in the header's zone must read it in the reservation's.
    let reserve = server
        .mock("POST", SET_RESERVATION_PATH)
        .match_header("x-time-zone", "-08:00")
        .with_body(receipt)
        .expect(1)
        .create_async()
        .await;
    let list = server
        .mock("POST", DEVICE_LIST_PATH)
        .match_header("x-time-zone", "+05:30")
        .with_body(ok_page(vec![], 0))
        .expect(1)
        .create_async()
        .await;
    let s = setup(&server);
    let outcome = s
        .client
        .set_update_reservation(&UpdateReservation {
            group_id: "g1".into(),
            selection: DeviceSelection::only(ids(&["1"])),
            file_id: "f1".into(),
            file_transfer_timestamp: 1_692_012_000_000,
            file_transfer_time_zone: "UTC-08:00".into(),
            execute_update_date_time: "202508111400".into(),
        })
        .await
        .unwrap();
    assert!(
        matches!(outcome, ChangeOutcome::Confirmed(_)),
        "{outcome:?}"
    );
    s.client
        .device_page(&DeviceListRequest::new("g1"))
        .await
        .unwrap();
    reserve.assert_async().await;
    list.assert_async().await;
}

#[tokio::test]
async fn tenants_firmware_list_and_change_bodies_are_pinned() {
    let mut server = Server::new_async().await;
    let tenants = server
        .mock("GET", TENANTS_PATH)
        .match_header("authorization", format!("Bearer {TOKEN}").as_str())
        .match_header("ocp-apim-subscription-key", KEY)
        .with_body(r#"{"tenantList":[{"tenantId":"g1","tenantName":"Demo"}],"totalCount":1,"common":{"errorList":[]}}"#)
        .expect(1)
        .create_async()
        .await;
    let files = server
        .mock("POST", FIRMWARE_LIST_PATH)
        .match_body(Matcher::Json(json!({"startIndex": 0, "count": 100, "groupId": "g1"})))
        .with_body(r#"{"firmwareDataList":[{"fileId":"f1","fileTitle":"MX-3071 Firmware v1.2.5","fileSize":10}],"totalCount":1}"#)
        .expect(1)
        .create_async()
        .await;
    let receipt = r#"{"result":"success","affectedCount":2,"common":{"errorList":[]}}"#;
    let reserve = server
        .mock("POST", SET_RESERVATION_PATH)
        .match_body(Matcher::Json(json!({
            "groupId": "g1", "deviceIds": ["mn=U2hhcnA=:sn=MQ==", "mn=U2hhcnA=:sn=Mg=="], "fileId": "f1",
            "fileTransferTimestamp": 1_692_012_000_000_i64, "fileTransferTimeZone": "UTC+05:30",
            "executeUpdateDateTime": "202508111400", "isExclude": false})))
        .with_body(receipt)
        .expect(1)
        .create_async()
        .await;
    let cancel = server
        .mock("POST", REMOVE_RESERVATION_PATH)
        .match_body(Matcher::Json(
            json!({"groupId": "g1", "deviceIds": ["mn=U2hhcnA=:sn=MQ=="], "isExclude": true}),
        ))
        .with_body(receipt)
        .expect(1)
        .create_async()
        .await;
    let ota = server
        .mock("POST", SET_OTA_MODE_PATH)
        .match_body(Matcher::Json(
            json!({"groupId": "g1", "deviceIds": ["mn=U2hhcnA=:sn=MQ=="], "isExclude": false,
                                         "otaMode": "auto", "otaStartHour": 2, "otaEndHour": 4}),
        ))
        .with_body(receipt)
        .expect(1)
        .create_async()
        .await;
    let s = setup(&server);

    let list = s.client.tenants().await.unwrap();
    assert_eq!(list.tenants[0].tenant_name, "Demo");
    let page = s
        .client
        .firmware_files(&FirmwareListRequest::new("g1"))
        .await
        .unwrap();
    assert_eq!(page.files[0].file_title, "MX-3071 Firmware v1.2.5");
    let outcome = s
        .client
        .set_update_reservation(&UpdateReservation {
            group_id: "g1".into(),
            selection: DeviceSelection::only(ids(&["1", "2"])),
            file_id: "f1".into(),
            file_transfer_timestamp: 1_692_012_000_000,
            file_transfer_time_zone: "UTC+05:30".into(),
            execute_update_date_time: "202508111400".into(),
        })
        .await
        .unwrap();
    let ChangeOutcome::Confirmed(r) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!((r.result.as_str(), r.affected_count), ("success", Some(2)));
    let outcome = s
        .client
        .remove_update_reservation(&ReservationRemoval {
            group_id: "g1".into(),
            selection: DeviceSelection::all_except(ids(&["1"])),
        })
        .await
        .unwrap();
    assert_eq!(outcome.took_effect(), Some(true));
    let outcome = s
        .client
        .set_ota_mode(&OtaSettings {
            group_id: "g1".into(),
            selection: DeviceSelection::only(ids(&["1"])),
            ota_mode: OtaMode::Auto,
            ota_start_hour: 2,
            ota_end_hour: 4,
        })
        .await
        .unwrap();
    assert!(matches!(outcome, ChangeOutcome::Confirmed(_)));
    for m in [tenants, files, reserve, cancel, ota] {
        m.assert_async().await;
    }
}

#[tokio::test]
async fn reads_retry_5xx_with_backoff_and_stop_at_the_limit() {
    let mut server = Server::new_async().await;
    let failing = server
        .mock("POST", FIRMWARE_LIST_PATH)
        .with_status(503)
        .with_body("busy")
        .expect(2)
        .create_async()
        .await;
    let ok = server
        .mock("POST", FIRMWARE_LIST_PATH)
        .with_body(r#"{"firmwareDataList":[],"totalCount":0}"#)
        .expect(1)
        .create_async()
        .await;
    let s = setup(&server);
    s.client
        .firmware_files(&FirmwareListRequest::new("g1"))
        .await
        .unwrap();
    failing.assert_async().await;
    ok.assert_async().await;
    let sleeps = s.sleeps.lock().unwrap().clone();
    assert_eq!(sleeps.len(), 2);
    assert!(
        sleeps[0] <= Duration::from_millis(100) && sleeps[1] <= Duration::from_millis(200),
        "{sleeps:?}"
    );

    // Now it never recovers: exactly max_attempts tries, then a clear error.
    server.reset();
    let always = server
        .mock("POST", FIRMWARE_LIST_PATH)
        .with_status(500)
        .with_body(r#"{"message":"db down"}"#)
        .expect(3)
        .create_async()
        .await;
    let err = s
        .client
        .firmware_files(&FirmwareListRequest::new("g1"))
        .await
        .unwrap_err();
    always.assert_async().await;
    match &err {
        ApiError::Server {
            status: 500,
            attempts: 3,
            message,
        } => assert_eq!(message, "db down"),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
}

#[tokio::test]
async fn retry_after_seconds_and_dates_are_honoured_and_capped() {
    let mut server = Server::new_async().await;
    let limited = server
        .mock("GET", TENANTS_PATH)
        .with_status(429)
        .with_header("retry-after", "7")
        .expect(1)
        .create_async()
        .await;
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(20));
    let dated = server
        .mock("GET", TENANTS_PATH)
        .with_status(429)
        .with_header("retry-after", &date)
        .expect(1)
        .create_async()
        .await;
    let far = server
        .mock("GET", TENANTS_PATH)
        .with_status(429)
        .with_header("retry-after", "3600")
        .expect(1)
        .create_async()
        .await;
    let ok = server
        .mock("GET", TENANTS_PATH)
        .with_body(r#"{"tenantList":[]}"#)
        .expect(1)
        .create_async()
        .await;
    let mut config = config(&server.url());
    config.retry.max_attempts = 4;
    let s = setup_with(config);
    s.client.tenants().await.unwrap();
    for m in [limited, dated, far, ok] {
        m.assert_async().await;
    }
    let sleeps = s.sleeps.lock().unwrap().clone();
    assert_eq!(sleeps.len(), 3, "{sleeps:?}");
    // Measured from "now" when the pause is applied: a hair under the asked seconds.
    assert!(
        sleeps[0] > Duration::from_secs(6) && sleeps[0] <= Duration::from_secs(7),
        "{sleeps:?}"
    );
    assert!(
        sleeps[1] > Duration::from_secs(15) && sleeps[1] <= Duration::from_secs(20),
        "{sleeps:?}"
    );
    assert!(
        sleeps[2] > Duration::from_secs(29) && sleeps[2] <= Duration::from_secs(30),
        "capped: {sleeps:?}"
    );
}

#[tokio::test]
async fn rate_limited_to_the_end_is_a_clear_error() {
    let mut server = Server::new_async().await;
    let m = server
        .mock("GET", TENANTS_PATH)
        .with_status(429)
        .with_header("retry-after", "2")
        .expect(3)
        .create_async()
        .await;
    let s = setup(&server);
    let err = s.client.tenants().await.unwrap_err();
    m.assert_async().await;
    assert!(
        matches!(err, ApiError::RateLimited { attempts: 3, retry_after: Some(d) } if d == Duration::from_secs(2)),
        "{err:?}"
    );
    assert!(err.to_string().contains("429"), "{err}");
}

#[tokio::test]
async fn a_401_gets_exactly_one_fresh_token() {
    let mut server = Server::new_async().await;
    let refused = server
        .mock("GET", TENANTS_PATH)
        .match_header("authorization", format!("Bearer {TOKEN}").as_str())
        .with_status(401)
        .with_body(
            r#"{"statusCode":401,"message":"Unauthorized. Access token is missing or invalid."}"#,
        )
        .expect(1)
        .create_async()
        .await;
    let fresh = server
        .mock("GET", TENANTS_PATH)
        .match_header("authorization", format!("Bearer {FRESH}").as_str())
        .with_body(r#"{"tenantList":[{"tenantId":"g1"}]}"#)
        .expect(1)
        .create_async()
        .await;
    let s = setup(&server);
    assert_eq!(s.client.tenants().await.unwrap().tenants.len(), 1);
    refused.assert_async().await;
    fresh.assert_async().await;
    assert_eq!(s.tokens.refused.load(Ordering::SeqCst), 1);
    assert!(
        s.sleeps.lock().unwrap().is_empty(),
        "a refused token is retried at once"
    );
}

#[tokio::test]
async fn a_second_401_is_unauthorized_without_a_second_refresh() {
    let mut server = Server::new_async().await;
    let m = server
        .mock("GET", TENANTS_PATH)
        .with_status(401)
        .with_body(format!(
            r#"{{"message":"token {FRESH} rejected; key {KEY}"}}"#
        ))
        .expect(2)
        .create_async()
        .await;
    let s = setup(&server);
    let err = s.client.tenants().await.unwrap_err();
    m.assert_async().await;
    assert_eq!(s.tokens.refused.load(Ordering::SeqCst), 1);
    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");
    // Even an answer that echoes the secrets does not put them in our error.
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(FRESH) && !shown.contains(KEY), "{shown}");
    assert!(shown.contains("[REDACTED]"), "{shown}");
}

#[tokio::test]
async fn a_static_token_refused_fails_with_the_token_source_error() {
    let mut server = Server::new_async().await;
    let m = server
        .mock("GET", TENANTS_PATH)
        .with_status(401)
        .expect(1)
        .create_async()
        .await;
    let client = ApiClient::new(
        config(&server.url()),
        Arc::new(StaticToken::new(BearerToken::new(TOKEN).unwrap())),
    )
    .unwrap();
    let err = client.tenants().await.unwrap_err();
    m.assert_async().await;
    assert!(matches!(err, ApiError::Token(_)), "{err:?}");
    assert!(err.to_string().contains("cannot be refreshed"), "{err}");
}

#[tokio::test]
async fn a_403_is_forbidden_naming_the_group() {
    let mut server = Server::new_async().await;
    let m = server
        .mock("POST", DEVICE_LIST_PATH)
        .with_status(403)
        .with_body(
            r#"{"statusCode":403,"message":"Forbidden: group is not accessible for this user."}"#,
        )
        .expect(1)
        .create_async()
        .await;
    let s = setup(&server);
    let err = s
        .client
        .device_page(&DeviceListRequest::new("other-group"))
        .await
        .unwrap_err();
    m.assert_async().await;
    match &err {
        ApiError::Forbidden { group, message } => {
            assert_eq!(group.as_deref(), Some("other-group"));
            assert!(message.contains("not accessible"));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("for group other-group"), "{err}");
}

#[tokio::test]
async fn error_lists_become_field_errors_even_with_http_200() {
    let mut server = Server::new_async().await;
    let with_200 = server
        .mock("POST", SET_OTA_MODE_PATH)
        .with_body(r#"{"result":"failure","common":{"errorList":[{"errorCode":"INVALID_HOUR","errorField":"otaStartHour","errorMessage":"hour out of range"}]}}"#)
        .expect(1)
        .create_async()
        .await;
    let with_400 = server
        .mock("POST", DEVICE_LIST_PATH)
        .with_status(400)
        .with_body(r#"{"common":{"errorList":[{"code":"INVALID_FILTER","field":"simpleFilters[0].key","message":"unknown key"},{"code":"INVALID_ORDER","field":"orderBy[0]","message":"bad order"}]}}"#)
        .expect(1)
        .create_async()
        .await;
    let s = setup(&server);
    let err = s
        .client
        .set_ota_mode(&OtaSettings {
            group_id: "g1".into(),
            selection: DeviceSelection::only(ids(&["1"])),
            ota_mode: OtaMode::Off,
            ota_start_hour: -1,
            ota_end_hour: -1,
        })
        .await
        .unwrap_err();
    with_200.assert_async().await;
    assert_eq!(
        err.field_errors(),
        &[FieldError {
            field: "otaStartHour".into(),
            code: "INVALID_HOUR".into(),
            message: "hour out of range".into()
        }]
    );
    assert!(matches!(err, ApiError::Rejected { status: 200, .. }));

    let err = s
        .client
        .device_page(&DeviceListRequest::new("g1").with_filter(SimpleFilter::equals("colour", "x")))
        .await
        .unwrap_err();
    with_400.assert_async().await;
    assert_eq!(err.field_errors().len(), 2);
    let text = err.to_string();
    assert!(
        text.contains("simpleFilters[0].key: unknown key (INVALID_FILTER)")
            && text.contains("orderBy[0]"),
        "{text}"
    );
}

#[tokio::test]
async fn paths_that_leave_the_origin_are_refused_before_sending() {
    let mut server = Server::new_async().await;
    let nothing = server
        .mock(Matcher::Any.to_string().as_str(), Matcher::Any)
        .expect(0)
        .create_async()
        .await;
    let any_post = server
        .mock("POST", Matcher::Any)
        .expect(0)
        .create_async()
        .await;
    let any_get = server
        .mock("GET", Matcher::Any)
        .expect(0)
        .create_async()
        .await;
    let s = setup(&server);
    for path in [
        "https://evil.example/api/v1/tenants",
        "//evil.example/api/v1/tenants",
        "/api/%2e%2e/%2e%2e/x",
        "/@evil.example/",
        "/api\\..\\x",
        "/api/v1/%2fevil",
        "/api/../../x",
        "/api/v1/tenants%00",
        "/api/v1/tenants\r\nHost: evil",
    ] {
        let err = s.client.request(Method::GET, path, None).await.unwrap_err();
        assert!(matches!(err, ApiError::PathRefused(_)), "{path}: {err:?}");
        let err = s
            .client
            .request(Method::POST, path, Some(json!({})))
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::PathRefused(_)), "{path}: {err:?}");
    }
    for m in [nothing, any_post, any_get] {
        m.assert_async().await;
    }
    assert_eq!(s.tokens.refused.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn generic_request_reaches_allowed_paths_with_the_same_headers() {
    let mut server = Server::new_async().await;
    let m = server
        .mock("GET", "/api/v1/tenants?page=2")
        .match_header("authorization", format!("Bearer {TOKEN}").as_str())
        .match_header("ocp-apim-subscription-key", KEY)
        .with_body(r#"{"tenantList":[],"common":{"errorList":[]}}"#)
        .expect(1)
        .create_async()
        .await;
    let s = setup(&server);
    let answer = s
        .client
        .request(Method::GET, "/api/v1/tenants?page=2", None)
        .await
        .unwrap();
    m.assert_async().await;
    assert_eq!(answer["tenantList"], json!([]));
}

#[tokio::test]
async fn a_change_hit_by_a_5xx_is_not_resent_and_is_read_back_as_applied() {
    let mut server = Server::new_async().await;
    let change = server
        .mock("POST", SET_RESERVATION_PATH)
        .with_status(502)
        .with_body("bad gateway")
        .expect(1)
        .create_async()
        .await;
    let readback = server
        .mock("POST", DEVICE_LIST_PATH)
        .match_body(Matcher::PartialJson(
            json!({"groupId": "g1", "simpleFilters": [{"key": "deviceId", "operator": "equals"}]}),
        ))
        .with_body_from_request(|req| {
            let body: Value = serde_json::from_slice(req.body().unwrap()).unwrap();
            let id = body["simpleFilters"][0]["value"]
                .as_str()
                .unwrap()
                .to_owned();
            let serial = id.parse::<DeviceId>().unwrap().serial().to_owned();
            ok_page(
                vec![device_json(
                    &serial,
                    json!({"updateStatus": "reserved", "reservation": {"fileId": "f1"}}),
                )],
                1,
            )
            .into_bytes()
        })
        .expect(2)
        .create_async()
        .await;
    let s = setup(&server);
    let outcome = s
        .client
        .set_update_reservation(&UpdateReservation {
            group_id: "g1".into(),
            selection: DeviceSelection::only(ids(&["1", "2"])),
            file_id: "f1".into(),
            file_transfer_timestamp: 1_692_012_000_000,
            file_transfer_time_zone: "UTC+00:00".into(),
            execute_update_date_time: "202508111400".into(),
        })
        .await
        .unwrap();
    change.assert_async().await;
    readback.assert_async().await;
    let ChangeOutcome::Applied(check) = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(check.failure.contains("HTTP 502"), "{}", check.failure);
    assert_eq!(check.devices.len(), 2);
    assert!(
        check
            .devices
            .iter()
            .all(|d| d.verdict == crate::DeviceVerdict::Applied)
    );
    assert!(
        s.sleeps.lock().unwrap().is_empty(),
        "no retry wait for a change"
    );
}

#[tokio::test]
async fn a_change_whose_connection_drops_is_not_resent_and_is_read_back_as_not_applied() {
    let mut server = Server::new_async().await;
    let change = server
        .mock("POST", REMOVE_RESERVATION_PATH)
        .with_chunked_body(|w| {
            w.write_all(b"{\"result\":")?;
            Err(std::io::Error::other("connection dropped"))
        })
        .expect(1)
        .create_async()
        .await;
    let readback = server
        .mock("POST", DEVICE_LIST_PATH)
        .with_body(ok_page(
            vec![device_json(
                "1",
                json!({"updateStatus": "reserved", "reservation": {"fileId": "f1"}}),
            )],
            1,
        ))
        .expect(1)
        .create_async()
        .await;
    let s = setup(&server);
    let outcome = s
        .client
        .remove_update_reservation(&ReservationRemoval {
            group_id: "g1".into(),
            selection: DeviceSelection::only(ids(&["1"])),
        })
        .await
        .unwrap();
    change.assert_async().await;
    readback.assert_async().await;
    let ChangeOutcome::NotApplied(check) = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(
        check.failure.contains("broke off") || check.failure.contains("after sending"),
        "{}",
        check.failure
    );
    assert!(
        check.devices[0].detail.contains("still reserved"),
        "{}",
        check.devices[0].detail
    );
}

#[tokio::test]
async fn an_ota_change_whose_read_back_fails_is_unknown() {
    let mut server = Server::new_async().await;
    let change = server
        .mock("POST", SET_OTA_MODE_PATH)
        .with_status(500)
        .expect(1)
        .create_async()
        .await;
    let readback = server
        .mock("POST", DEVICE_LIST_PATH)
        .with_status(503)
        .expect(3)
        .create_async()
        .await;
    let s = setup(&server);
    let outcome = s
        .client
        .set_ota_mode(&OtaSettings {
            group_id: "g1".into(),
            selection: DeviceSelection::only(ids(&["1"])),
            ota_mode: OtaMode::Auto,
            ota_start_hour: 1,
            ota_end_hour: 5,
        })
        .await
        .unwrap();
    change.assert_async().await;
    readback.assert_async().await;
    let ChangeOutcome::Unknown(check) = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(
        check
            .read_back_error
            .as_deref()
            .unwrap_or_default()
            .contains("503"),
        "{check:?}"
    );
}

#[tokio::test]
async fn a_generic_change_with_a_lost_answer_is_outcome_unknown_and_sent_once() {
    let mut server = Server::new_async().await;
    let m = server
        .mock("POST", "/rmm/fss/fwupd/somethingNew")
        .with_status(504)
        .expect(1)
        .create_async()
        .await;
    let s = setup(&server);
    let err = s
        .client
        .request(
            Method::POST,
            "/rmm/fss/fwupd/somethingNew",
            Some(json!({"groupId": "g1"})),
        )
        .await
        .unwrap_err();
    m.assert_async().await;
    assert!(matches!(err, ApiError::OutcomeUnknown { .. }), "{err:?}");
    assert!(err.to_string().contains("not sent again"), "{err}");
}

#[tokio::test]
async fn unreachable_api_is_retried_then_a_transport_error_even_for_changes() {
    // Bind and drop to get a port nobody listens on: connections are refused, nothing is sent.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = setup_with(config(&format!("http://127.0.0.1:{port}")));
    let err = s.client.tenants().await.unwrap_err();
    assert!(
        matches!(err, ApiError::Transport { attempts: 3, .. }),
        "{err:?}"
    );
    let err = s
        .client
        .remove_update_reservation(&ReservationRemoval {
            group_id: "g1".into(),
            selection: DeviceSelection::only(ids(&["1"])),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::Transport { attempts: 3, .. }),
        "a refused connection sent nothing: {err:?}"
    );
    assert_eq!(s.sleeps.lock().unwrap().len(), 4);
}

fn paged_answer(total: usize) -> impl Fn(&mockito::Request) -> Vec<u8> + Send + Sync + 'static {
    move |req| {
        let body: Value = serde_json::from_slice(req.body().unwrap()).unwrap();
        let start = body["startIndex"].as_u64().unwrap() as usize;
        let count = body["count"].as_u64().unwrap() as usize;
        let devices = (start..(start + count).min(total))
            .map(|i| device_json(&format!("{i:05}"), json!({})))
            .collect();
        ok_page(devices, total).into_bytes()
    }
}

#[tokio::test]
async fn fetch_all_devices_gets_every_page_in_order() {
    let mut server = Server::new_async().await;
    let m = server
        .mock("POST", DEVICE_LIST_PATH)
        .match_body(Matcher::PartialJson(json!({"count": 40, "groupId": "g1", "orderBy": [{"key": "serialNumber", "order": "descending"}]})))
        .with_body_from_request(paged_answer(250))
        .expect(7)
        .create_async()
        .await;
    let s = setup(&server);
    let template = DeviceListRequest {
        count: 40,
        start_index: 99,
        ..DeviceListRequest::new("g1")
    }
    .ordered_by("serialNumber", crate::device_list::SortOrder::Descending);
    let mut seen = Vec::new();
    let fleet = s
        .client
        .fetch_all_devices(&template, |p| seen.push(*p))
        .await
        .unwrap();
    m.assert_async().await;
    assert_eq!(
        (fleet.total_count, fleet.pages, fleet.devices.len()),
        (250, 7, 250)
    );
    let serials: Vec<_> = fleet
        .devices
        .iter()
        .map(|d| d.serial_number.clone())
        .collect();
    let expected: Vec<_> = (0..250).map(|i| format!("{i:05}")).collect();
    assert_eq!(serials, expected);
    assert_eq!(seen.len(), 7);
    assert_eq!(
        seen.last().map(|p| (p.pages_done, p.devices_done)),
        Some((7, 250))
    );
    assert!(
        seen.iter()
            .all(|p| p.pages_total == 7 && p.total_count == 250)
    );
}

#[tokio::test]
async fn fetch_all_devices_slows_down_when_rate_limited() {
    let mut server = Server::new_async().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let pages = paged_answer(1000);
    // Requests 2 to 5 (after the first page) are refused with 429.
    let m = server
        .mock("POST", DEVICE_LIST_PATH)
        .with_status_code_from_request(move |_| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            if (1..5).contains(&n) { 429 } else { 200 }
        })
        .with_header("retry-after", "1")
        .with_body_from_request(pages)
        .expect(14)
        .create_async()
        .await;
    let s = setup(&server);
    let mut lowest = usize::MAX;
    let fleet = s
        .client
        .fetch_all_devices(&DeviceListRequest::new("g1"), |p| {
            lowest = lowest.min(p.concurrency)
        })
        .await
        .unwrap();
    m.assert_async().await;
    assert_eq!(fleet.devices.len(), 1000);
    assert_eq!(fleet.rate_limited, 4);
    assert!(lowest < 8, "concurrency went down to {lowest}");
    assert!(
        fleet
            .devices
            .windows(2)
            .all(|w| w[0].serial_number < w[1].serial_number)
    );
    assert!(
        s.sleeps
            .lock()
            .unwrap()
            .iter()
            .any(|d| *d > Duration::from_millis(500)),
        "waited for Retry-After"
    );
}

#[tokio::test]
async fn an_unreadable_answer_is_a_decode_error_naming_the_endpoint() {
    let mut server = Server::new_async().await;
    let m = server
        .mock("POST", FIRMWARE_LIST_PATH)
        .with_body("<html>maintenance</html>")
        .expect(1)
        .create_async()
        .await;
    let s = setup(&server);
    let err = s
        .client
        .firmware_files(&FirmwareListRequest::new("g1"))
        .await
        .unwrap_err();
    m.assert_async().await;
    assert!(
        matches!(&err, ApiError::Decode { endpoint, .. } if endpoint == FIRMWARE_LIST_PATH),
        "{err:?}"
    );
}

#[tokio::test]
async fn invalid_requests_are_refused_before_sending() {
    let mut server = Server::new_async().await;
    let m = server
        .mock("POST", Matcher::Any)
        .expect(0)
        .create_async()
        .await;
    let s = setup(&server);
    let err = s
        .client
        .device_page(&DeviceListRequest {
            count: 101,
            ..DeviceListRequest::new("g1")
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ApiError::InvalidRequest(e) if e.field == "count"),
        "{err:?}"
    );
    let err = s
        .client
        .set_ota_mode(&OtaSettings {
            group_id: "g1".into(),
            selection: DeviceSelection::only(vec![]),
            ota_mode: OtaMode::Auto,
            ota_start_hour: 1,
            ota_end_hour: 2,
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`deviceIds`"), "{err}");
    m.assert_async().await;
}

#[test]
fn client_debug_shows_no_secret() {
    let s = setup_with(config("http://127.0.0.1:9"));
    let shown = format!("{:?}", s.client);
    assert!(!shown.contains(KEY) && !shown.contains(TOKEN), "{shown}");
}

/// Callers spawn these futures on a multi-threaded runtime: they must be `Send`.
#[test]
fn public_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let s = setup_with(config("http://127.0.0.1:9"));
    let c = &s.client;
    let removal = ReservationRemoval {
        group_id: "g".into(),
        selection: DeviceSelection::only(ids(&["1"])),
    };
    let ota = OtaSettings {
        group_id: "g".into(),
        selection: DeviceSelection::only(ids(&["1"])),
        ota_mode: OtaMode::Off,
        ota_start_hour: -1,
        ota_end_hour: -1,
    };
    let list = DeviceListRequest::new("g");
    assert_send(&c.tenants());
    assert_send(&c.device_page(&list));
    assert_send(&c.firmware_files(&FirmwareListRequest::new("g")));
    assert_send(&c.remove_update_reservation(&removal));
    assert_send(&c.set_ota_mode(&ota));
    assert_send(&c.fetch_all_devices(&list, |_| {}));
    assert_send(&c.request(Method::GET, "/x", None));
}

#[tokio::test]
async fn an_answer_larger_than_the_limit_is_an_error_not_a_memory_fill() {
    // Issue 13, finding 5: response bodies had no size limit.
    let mut server = Server::new_async().await;
    let huge = format!(
        r#"{{"firmwareDataList":[],"totalCount":0,"pad":"{}"}}"#,
        "x".repeat(4096)
    );
    let with_length = server
        .mock("POST", FIRMWARE_LIST_PATH)
        .with_body(huge.clone())
        .create_async()
        .await;
    let mut config = config(&server.url());
    config.max_response_bytes = 2048;
    let s = setup_with(config.clone());
    let err = s
        .client
        .firmware_files(&FirmwareListRequest::new("g1"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("larger than 2048 bytes"), "{err}");
    with_length.remove_async().await;

    // Without a length (chunked), the read stops at the limit too.
    let bytes = huge.into_bytes();
    let _chunked = server
        .mock("POST", FIRMWARE_LIST_PATH)
        .with_chunked_body(move |w| w.write_all(&bytes))
        .create_async()
        .await;
    let err = s
        .client
        .firmware_files(&FirmwareListRequest::new("g1"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("larger than 2048 bytes"), "{err}");

    // An answer within the limit is read as before.
    config.max_response_bytes = ApiConfig::DEFAULT_MAX_RESPONSE_BYTES;
    let s = setup_with(config);
    s.client
        .firmware_files(&FirmwareListRequest::new("g1"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_redirect_is_not_followed_so_the_secrets_stay_on_the_api_origin() {
    let mut evil = Server::new_async().await;
    let elsewhere = evil
        .mock("POST", Matcher::Any)
        .expect(0)
        .create_async()
        .await;
    let mut server = Server::new_async().await;
    let _redirect = server
        .mock("POST", FIRMWARE_LIST_PATH)
        .with_status(307)
        .with_header("location", &format!("{}/steal", evil.url()))
        .create_async()
        .await;
    let s = setup(&server);
    let err = s
        .client
        .firmware_files(&FirmwareListRequest::new("g1"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("307"), "{err}");
    elsewhere.assert_async().await;
}
