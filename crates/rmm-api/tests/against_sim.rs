//! The client against the simulator over real HTTP: every endpoint, every refusal, and the
//! fault paths (errors, dropped connections, rate limits).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use rmm_api::{
    ApiClient, ApiConfig, ApiError, BearerToken, ChangeOutcome, DeviceId, DeviceListRequest,
    DeviceSelection, FirmwareListRequest, Method, OtaMode, OtaSettings, ReservationRemoval,
    RetryPolicy, SecretString, SimpleFilter, SortOrder, StaticToken, TokenSource, TokenSourceError,
    UpdateReservation, UpdateStatus,
};
use rmm_sim::{DropPhase, Faults, Sim, SimConfig, TokenSpec};
use serde_json::json;

/// Gives `first`, and `fresh` when told the token was refused; counts refusals.
struct SimTokens {
    first: String,
    fresh: String,
    refused: AtomicUsize,
}

impl TokenSource for SimTokens {
    fn token(&self) -> BoxFuture<'_, Result<BearerToken, TokenSourceError>> {
        Box::pin(async {
            BearerToken::new(self.first.clone()).map_err(|e| TokenSourceError::new(e.to_string()))
        })
    }
    fn token_refused<'a>(
        &'a self,
        _refused: &'a BearerToken,
    ) -> BoxFuture<'a, Result<BearerToken, TokenSourceError>> {
        self.refused.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            BearerToken::new(self.fresh.clone()).map_err(|e| TokenSourceError::new(e.to_string()))
        })
    }
}

async fn sim(devices: usize) -> Sim {
    rmm_sim::start(SimConfig {
        devices,
        ..Default::default()
    })
    .await
    .unwrap()
}

fn config_for(sim: &Sim, key: &str) -> ApiConfig {
    let mut config = ApiConfig::new(
        &sim.info().api_base_url,
        SecretString::from(key.to_owned()),
        "+00:00",
    )
    .unwrap();
    config.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(2),
    };
    config.request_timeout = Duration::from_secs(10);
    config
}

fn client(sim: &Sim) -> ApiClient {
    let token = BearerToken::new(sim.valid_token()).unwrap();
    ApiClient::new(
        config_for(sim, &sim.info().subscription_key),
        Arc::new(StaticToken::new(token)),
    )
    .unwrap()
}

fn client_with(sim: &Sim, first: String, fresh: String) -> (ApiClient, Arc<SimTokens>) {
    let tokens = Arc::new(SimTokens {
        first,
        fresh,
        refused: AtomicUsize::new(0),
    });
    let client = ApiClient::new(
        config_for(sim, &sim.info().subscription_key),
        tokens.clone(),
    )
    .unwrap();
    (client, tokens)
}

async fn some_ids(client: &ApiClient, group: &str, n: u32) -> Vec<DeviceId> {
    let page = client
        .device_page(&DeviceListRequest {
            count: n,
            ..DeviceListRequest::new(group)
        })
        .await
        .unwrap();
    page.devices.into_iter().map(|d| d.device_id).collect()
}

/// `YYYYMMDDHHMM` in UTC for Unix milliseconds.
fn utc_minute(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}",
        rest / 3600,
        rest % 3600 / 60
    )
}

fn reservation(sim: &Sim, ids: Vec<DeviceId>, file_id: &str) -> UpdateReservation {
    let transfer = sim.now_ms() + 3_600_000;
    UpdateReservation {
        group_id: sim.info().group_id.clone(),
        selection: DeviceSelection::only(ids),
        file_id: file_id.to_owned(),
        file_transfer_timestamp: transfer,
        file_transfer_time_zone: "UTC+00:00".into(),
        execute_update_date_time: utc_minute(transfer + 3_600_000),
    }
}

async fn a_file_id(client: &ApiClient, group: &str) -> String {
    let files = client
        .firmware_files(&FirmwareListRequest::new(group))
        .await
        .unwrap();
    assert!(
        !files.files.is_empty(),
        "the simulator stages firmware files"
    );
    files.files[0].file_id.clone()
}

#[tokio::test]
async fn tenants_lists_and_paging_work() {
    let sim = sim(250).await;
    let client = client(&sim);
    let group = sim.info().group_id.clone();

    let tenants = client.tenants().await.unwrap();
    assert!(tenants.tenants.iter().any(|t| t.tenant_id == group));
    assert!(
        !tenants
            .tenants
            .iter()
            .any(|t| t.tenant_id == sim.info().other_group_id)
    );

    let page = client
        .device_page(
            &DeviceListRequest {
                start_index: 10,
                count: 25,
                ..DeviceListRequest::new(&group)
            }
            .ordered_by("serialNumber", SortOrder::Ascending),
        )
        .await
        .unwrap();
    assert_eq!(page.devices.len(), 25);
    assert_eq!(page.total_count, Some(250));
    assert!(page.unreadable.is_empty());
    assert!(
        page.devices
            .windows(2)
            .all(|w| w[0].serial_number <= w[1].serial_number)
    );
    let first = &page.devices[0];
    assert_eq!(first.device_id.serial(), first.serial_number);
    assert_eq!(
        sim.device(first.device_id.as_str()).unwrap()["deviceId"],
        json!(first.device_id.as_str())
    );

    let needing = client
        .device_page(
            &DeviceListRequest::new(&group)
                .with_filter(SimpleFilter::equals("needsUpdate", "true")),
        )
        .await
        .unwrap();
    assert!(needing.devices.iter().all(|d| d.needs_update()));

    let by_id = client
        .device_page(
            &DeviceListRequest::new(&group)
                .with_filter(SimpleFilter::equals("deviceId", first.device_id.as_str())),
        )
        .await
        .unwrap();
    assert_eq!(by_id.devices.len(), 1);

    let files = client
        .firmware_files(&FirmwareListRequest::new(&group))
        .await
        .unwrap();
    // The simulator's list spans both tenants; this group's share is a non-empty part of it.
    assert_eq!(
        files.total_count.map(|n| n as usize),
        Some(files.files.len())
    );
    assert!(!files.files.is_empty() && files.files.len() <= sim.firmware_files().len());
    assert!(
        files
            .files
            .iter()
            .all(|f| !f.file_id.is_empty() && !f.file_title.is_empty())
    );

    let mut pages_seen = 0;
    let fleet = client
        .fetch_all_devices(
            &DeviceListRequest {
                count: 30,
                ..DeviceListRequest::new(&group)
            },
            |p| pages_seen = p.pages_done,
        )
        .await
        .unwrap();
    assert_eq!((fleet.devices.len(), fleet.pages, pages_seen), (250, 9, 9));
    let mut ids: Vec<_> = fleet.devices.iter().map(|d| d.device_id.clone()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 250);

    let raw = client
        .request(Method::GET, "/api/v1/tenants", None)
        .await
        .unwrap();
    assert!(raw["tenantList"].is_array());
    sim.shutdown().await;
}

#[tokio::test]
async fn changes_reach_the_devices() {
    let sim = sim(50).await;
    let client = client(&sim);
    let group = sim.info().group_id.clone();
    let ids = some_ids(&client, &group, 3).await;
    let file_id = a_file_id(&client, &group).await;

    let outcome = client
        .set_update_reservation(&reservation(&sim, ids.clone(), &file_id))
        .await
        .unwrap();
    let ChangeOutcome::Confirmed(receipt) = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(receipt.affected_count, Some(3));
    for id in &ids {
        let device = sim.device(id.as_str()).unwrap();
        assert_eq!(device["reservation"]["fileId"], json!(file_id));
    }

    let outcome = client
        .remove_update_reservation(&ReservationRemoval {
            group_id: group.clone(),
            selection: DeviceSelection::only(ids[..2].to_vec()),
        })
        .await
        .unwrap();
    assert_eq!(outcome.took_effect(), Some(true));
    assert_eq!(
        sim.device(ids[0].as_str()).unwrap()["updateStatus"],
        json!("none")
    );
    assert!(sim.device(ids[2].as_str()).unwrap()["reservation"].is_object());

    let outcome = client
        .set_ota_mode(&OtaSettings {
            group_id: group.clone(),
            selection: DeviceSelection::only(ids.clone()),
            ota_mode: OtaMode::Auto,
            ota_start_hour: 1,
            ota_end_hour: 5,
        })
        .await
        .unwrap();
    assert!(matches!(outcome, ChangeOutcome::Confirmed(_)));
    let device = sim.device(ids[1].as_str()).unwrap();
    assert_eq!(
        (
            device["otaMode"].clone(),
            device["otaStartHour"].clone(),
            device["otaEndHour"].clone()
        ),
        (json!("auto"), json!(1), json!(5))
    );
    assert_eq!(sim.stats().change_requests, 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn refusals_come_back_as_typed_errors() {
    let sim = sim(20).await;
    let group = sim.info().group_id.clone();

    // Wrong subscription key: 401, one refresh, then Unauthorized naming the key problem.
    let (bad_key, tokens) = {
        let tokens = Arc::new(SimTokens {
            first: sim.valid_token(),
            fresh: sim.valid_token(),
            refused: AtomicUsize::new(0),
        });
        (
            ApiClient::new(config_for(&sim, "not-the-key"), tokens.clone()).unwrap(),
            tokens,
        )
    };
    let err = bad_key.tenants().await.unwrap_err();
    assert!(
        matches!(&err, ApiError::Unauthorized { message } if message.contains("subscription key")),
        "{err:?}"
    );
    assert_eq!(tokens.refused.load(Ordering::SeqCst), 1);
    assert!(!format!("{err:?}").contains("not-the-key"));

    // Expired token: exactly one refresh, then it works.
    let (client, tokens) = client_with(
        &sim,
        sim.mint_token(&TokenSpec {
            ttl_secs: -60,
            ..Default::default()
        }),
        sim.valid_token(),
    );
    assert!(!client.tenants().await.unwrap().tenants.is_empty());
    assert_eq!(tokens.refused.load(Ordering::SeqCst), 1);

    // Foreign-signed token twice: Unauthorized after one refresh.
    let forged = sim.mint_token(&TokenSpec {
        sign_with_foreign_key: true,
        ..Default::default()
    });
    let (client, tokens) = client_with(&sim, forged.clone(), forged.clone());
    let err = client.tenants().await.unwrap_err();
    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");
    assert_eq!(tokens.refused.load(Ordering::SeqCst), 1);
    assert!(!err.to_string().contains(&forged));

    // Another tenant's group: Forbidden naming it.
    let client = client_with(&sim, sim.valid_token(), sim.valid_token()).0;
    let other = sim.info().other_group_id.clone();
    let err = client
        .device_page(&DeviceListRequest::new(&other))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ApiError::Forbidden { group: Some(g), .. } if *g == other),
        "{err:?}"
    );

    // Field-level refusals from the cloud.
    let err = client
        .device_page(
            &DeviceListRequest::new(&group).with_filter(SimpleFilter::equals("colour", "red")),
        )
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].code, "INVALID_FILTER", "{err:?}");
    let err = client
        .device_page(&DeviceListRequest::new(&group).ordered_by("colour", SortOrder::Ascending))
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].code, "INVALID_ORDER", "{err:?}");

    let ids = some_ids(&client, &group, 2).await;
    let file_id = a_file_id(&client, &group).await;
    let unknown = DeviceId::new("Sharp", "NO-SUCH-SERIAL").unwrap();
    let mut request = reservation(&sim, vec![ids[0].clone(), unknown], "no-such-file");
    request.file_transfer_timestamp = sim.now_ms() - 3_600_000;
    let err = client.set_update_reservation(&request).await.unwrap_err();
    let codes: Vec<_> = err.field_errors().iter().map(|e| e.code.as_str()).collect();
    for code in ["DEVICE_NOT_FOUND", "FILE_NOT_FOUND", "PAST_TIMESTAMP"] {
        assert!(codes.contains(&code), "{code} missing in {err}");
    }
    assert!(
        err.field_errors().iter().any(|e| e.field == "deviceIds[1]"),
        "{err}"
    );

    let mut request = reservation(&sim, vec![ids[0].clone()], &file_id);
    request.execute_update_date_time = utc_minute(request.file_transfer_timestamp - 3_600_000);
    let err = client.set_update_reservation(&request).await.unwrap_err();
    assert_eq!(
        err.field_errors()[0].code,
        "EXECUTE_BEFORE_TRANSFER",
        "{err:?}"
    );

    let err = client
        .request(Method::POST, "/stateful/fss/fwupd/setOTAMode", Some(json!({"groupId": group, "deviceIds": [ids[0]], "isExclude": false, "otaMode": "weekly", "otaStartHour": 30, "otaEndHour": 2})))
        .await
        .unwrap_err();
    let codes: Vec<_> = err.field_errors().iter().map(|e| e.code.clone()).collect();
    assert!(
        codes.contains(&"INVALID_OTA_MODE".to_owned())
            && codes.contains(&"INVALID_HOUR".to_owned()),
        "{codes:?}"
    );

    let err = client
        .request(
            Method::POST,
            "/rmm/fss/fwupd/getFirmwareUpdateList",
            Some(json!({"startIndex": -1, "count": 500, "groupId": group})),
        )
        .await
        .unwrap_err();
    let codes: Vec<_> = err.field_errors().iter().map(|e| e.code.clone()).collect();
    assert!(
        codes.contains(&"INVALID_COUNT".to_owned())
            && codes.contains(&"INVALID_START_INDEX".to_owned()),
        "{codes:?}"
    );

    let err = client
        .request(
            Method::POST,
            "/rmm/fss/fwupd/removeUpdateReservation",
            Some(json!({"groupId": group, "deviceIds": ["mn=bad"], "isExclude": false})),
        )
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].code, "INVALID_DEVICE_ID", "{err:?}");
    assert_eq!(sim.stats().change_requests, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_origin_guard_sends_nothing() {
    let sim = sim(5).await;
    let client = client(&sim);
    let before = sim.stats().api_requests;
    for path in [
        "http://127.0.0.1:1/api/v1/tenants",
        "//127.0.0.1/x",
        "/api/%2e%2e/__sim/stats",
        "/api/../__sim/stats",
    ] {
        assert!(
            matches!(
                client.request(Method::GET, path, None).await,
                Err(ApiError::PathRefused(_))
            ),
            "{path}"
        );
    }
    assert_eq!(sim.stats().api_requests, before);
    sim.shutdown().await;
}

#[tokio::test]
async fn server_errors_on_reads_are_retried_up_to_the_limit() {
    let sim = sim(5).await;
    let client = client(&sim);
    sim.set_faults(Faults {
        error_share: 1.0,
        ..Default::default()
    });
    let before = sim.stats().api_requests;
    let err = client.tenants().await.unwrap_err();
    assert!(
        matches!(err, ApiError::Server { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(sim.stats().api_requests - before, 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_dropped_change_is_read_back_not_resent() {
    let sim = sim(30).await;
    // The read-back may start before the test lifts the fault: give it retries enough to
    // outlast that moment (full-jitter waits up to 50, 100, 200 ms, ...).
    let mut config = config_for(&sim, &sim.info().subscription_key);
    config.retry = RetryPolicy {
        max_attempts: 8,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_secs(1),
        max_retry_after: Duration::from_secs(2),
    };
    let client = ApiClient::new(
        config,
        Arc::new(StaticToken::new(
            BearerToken::new(sim.valid_token()).unwrap(),
        )),
    )
    .unwrap();
    let group = sim.info().group_id.clone();
    let ids = some_ids(&client, &group, 2).await;
    let file_id = a_file_id(&client, &group).await;

    // Dropped after the change was applied: the read-back says Applied, sent once.
    sim.set_faults(Faults {
        drop_share: 1.0,
        drop_phase: DropPhase::After,
        ..Default::default()
    });
    let request = reservation(&sim, ids.clone(), &file_id);
    let outcome = tokio::spawn({
        let client = client.clone();
        async move { client.set_update_reservation(&request).await }
    });
    // The read-back must get through: lift the fault once the change has been handled.
    while sim.stats().change_requests == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    sim.set_faults(Faults::default());
    let outcome = outcome.await.unwrap().unwrap();
    assert!(matches!(outcome, ChangeOutcome::Applied(_)), "{outcome:?}");
    assert_eq!(sim.stats().change_requests, 1, "not sent twice");

    // Dropped before: nothing changed, the read-back says NotApplied.
    let before_requests = sim.stats().api_requests;
    sim.set_faults(Faults {
        drop_share: 1.0,
        drop_phase: DropPhase::Before,
        ..Default::default()
    });
    let removal = ReservationRemoval {
        group_id: group.clone(),
        selection: DeviceSelection::only(ids.clone()),
    };
    let outcome = tokio::spawn({
        let client = client.clone();
        async move { client.remove_update_reservation(&removal).await }
    });
    while sim.stats().api_requests == before_requests {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    sim.set_faults(Faults::default());
    let outcome = outcome.await.unwrap().unwrap();
    let ChangeOutcome::NotApplied(check) = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(check.devices.len(), 2);
    assert_eq!(sim.stats().change_requests, 1);
    assert_eq!(
        sim.device(ids[0].as_str()).unwrap()["updateStatus"],
        json!(UpdateStatus::Reserved.as_str())
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_rate_limited_fleet_fetch_still_completes_in_order() {
    let sim = sim(600).await;
    let client = client(&sim);
    let group = sim.info().group_id.clone();
    // Two a second: the five pages fetched together after the first cannot all fit in one
    // window however slow the machine, so the limit is surely met.
    sim.set_faults(Faults {
        rate_limit_per_sec: Some(2),
        ..Default::default()
    });
    let mut config = config_for(&sim, &sim.info().subscription_key);
    config.retry.max_attempts = 10;
    let patient = ApiClient::new(
        config,
        Arc::new(StaticToken::new(
            BearerToken::new(sim.valid_token()).unwrap(),
        )),
    )
    .unwrap();
    let fleet = patient
        .fetch_all_devices(
            &DeviceListRequest::new(&group).ordered_by("serialNumber", SortOrder::Ascending),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(fleet.devices.len(), 600);
    assert!(fleet.rate_limited > 0, "the limit was hit");
    assert!(
        fleet
            .devices
            .windows(2)
            .all(|w| w[0].serial_number <= w[1].serial_number)
    );
    drop(client);
    sim.shutdown().await;
}
