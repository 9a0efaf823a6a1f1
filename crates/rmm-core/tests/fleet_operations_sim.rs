//! The operations against the simulator: reads with filters, the summary, firmware fit, and
//! each change through validate → preview → confirm → record, with the simulator's state and
//! the audit rows checked afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use rmm_api::{ApiClient, ApiConfig, BearerToken, SecretString, StaticToken, TokenSource};
use rmm_core::{
    AuditLog, AuditQuery, Caller, CancelReservations, ChangeKind, ChangeOutcomeKind, ChangeRequest,
    DeviceQuery, FailureKind, FleetOperations, OperationError, OperationSettings, ScheduleUpdate,
    SetOtaMode, WarningKind,
};
use rmm_sim::{Sim, SimConfig, TokenSpec};

async fn setup_with(token: impl FnOnce(&Sim) -> String) -> (Sim, FleetOperations) {
    let sim = rmm_sim::start(SimConfig::default()).await.unwrap();
    let tokens: Arc<dyn TokenSource> =
        Arc::new(StaticToken::new(BearerToken::new(token(&sim)).unwrap()));
    let config = ApiConfig::new(
        &sim.info().api_base_url,
        SecretString::from(sim.info().subscription_key.clone()),
        "+00:00",
    )
    .unwrap();
    let client = ApiClient::new(config, tokens.clone()).unwrap();
    let ops = FleetOperations::new(
        client,
        tokens,
        Arc::new(AuditLog::in_memory().unwrap()),
        OperationSettings::default(),
    );
    (sim, ops)
}

async fn setup() -> (Sim, FleetOperations) {
    setup_with(Sim::valid_token).await
}

fn person() -> Caller {
    Caller::Person {
        name: "tester".into(),
    }
}

#[tokio::test]
async fn reads_use_the_token_tenant_and_filters() {
    let (sim, ops) = setup().await;
    let page = ops.devices(&DeviceQuery::default()).await.unwrap();
    assert_eq!(page.group_id, sim.info().group_id);
    assert_eq!(page.total_devices, 250);
    assert_eq!(page.returned, 25);

    let needing = ops
        .all_devices(
            &DeviceQuery {
                needs_update: Some(true),
                ..DeviceQuery::default()
            },
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(needing.total_devices > 0 && needing.total_devices < 250);
    assert!(needing.devices.iter().all(|d| d.needs_update));
    assert_eq!(needing.devices.len() as u64, needing.total_devices);

    let model = ops
        .all_devices(
            &DeviceQuery {
                model: Some("MX-3071".into()),
                ..DeviceQuery::default()
            },
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(model.devices.iter().all(|d| d.model == "MX-3071") && !model.devices.is_empty());

    let mut pages = 0;
    let summary = ops.summary(None, &mut |_| pages += 1).await.unwrap();
    assert_eq!(summary.total_devices, 250);
    assert_eq!(summary.needs_update, needing.total_devices);
    assert_eq!(summary.by_model.iter().map(|c| c.devices).sum::<u64>(), 250);
    assert!(pages >= 3, "progress after each page");

    let one = ops.device(&page.devices[0].device_id, None).await.unwrap();
    assert_eq!(one, page.devices[0]);

    let tenants = ops.tenants().await.unwrap();
    assert_eq!(tenants[0].group_id, sim.info().group_id);

    let files = ops.firmware_files(None, 0, 100).await.unwrap();
    assert!(!files.files.is_empty());
    assert!(
        files.files.iter().all(|f| !f.fits_models.is_empty()),
        "sim titles name their model"
    );
}

#[tokio::test]
async fn no_token_tenant_means_group_id_is_needed_and_an_argument_wins() {
    let (sim, ops) = setup_with(|sim| {
        sim.mint_token(&TokenSpec {
            tenant_id: Some(String::new()),
            ..TokenSpec::default()
        })
    })
    .await;
    let err = ops.devices(&DeviceQuery::default()).await.unwrap_err();
    assert_eq!(err.kind(), FailureKind::BadInput);
    assert!(err.problems().unwrap().mentions("group_id"), "{err}");
    let _ = sim;
}

#[tokio::test]
async fn an_expired_token_gets_the_sign_in_instruction_at_once() {
    let (_sim, ops) = setup_with(|sim| {
        sim.mint_token(&TokenSpec {
            ttl_secs: -10,
            ..TokenSpec::default()
        })
    })
    .await;
    let err = ops.devices(&DeviceQuery::default()).await.unwrap_err();
    assert_eq!(err.kind(), FailureKind::Auth);
    assert!(err.to_string().contains("rmm login"), "{err}");
    let status = ops.auth_status().await;
    assert!(!status.signed_in);
    assert!(status.token.is_none());
}

async fn file_for(ops: &FleetOperations, model: &str) -> String {
    let files = ops.firmware_files(None, 0, 100).await.unwrap();
    files
        .files
        .iter()
        .find(|f| rmm_core::fits(&f.fits_models, model) == Some(true))
        .unwrap()
        .file_id
        .clone()
}

#[tokio::test]
async fn schedule_previews_then_applies_only_with_that_preview() {
    let (sim, ops) = setup().await;
    let devices = ops
        .all_devices(
            &DeviceQuery {
                model: Some("MX-3071".into()),
                ..DeviceQuery::default()
            },
            &mut |_| {},
        )
        .await
        .unwrap();
    let targets: Vec<String> = devices
        .devices
        .iter()
        .filter(|d| d.reserved_file_id.is_none())
        .take(2)
        .map(|d| d.device_id.clone())
        .collect();
    let file_id = file_for(&ops, "MX-3071").await;
    let now = sim.now_ms();
    let request = ChangeRequest::ScheduleFirmwareUpdate(ScheduleUpdate {
        device_ids: targets.clone(),
        firmware_file_id: file_id.clone(),
        transfer_datetime: now + 3_600_000,
        execute_datetime: "209901010200".into(),
        timezone: "UTC+05:30".into(),
        group_id: None,
        allow_other_model: false,
    });
    let request = ops.check(&request).unwrap();
    let preview = ops.preview(&request).await.unwrap();
    assert_eq!(preview.devices.len(), 2);
    assert!(
        preview
            .warnings
            .iter()
            .all(|w| w.kind != WarningKind::FileDoesNotFitModel)
    );
    assert!(
        sim.reservations()
            .iter()
            .all(|r| r["deviceId"] != targets[0].as_str()),
        "preview changes nothing"
    );

    let err = ops
        .apply(&request, "not-the-digest", &person())
        .await
        .unwrap_err();
    assert!(matches!(err, OperationError::PreviewChanged(_)), "{err}");
    assert_eq!(ops.audit_log().count().unwrap(), 0);

    let result = ops
        .apply(&request, &preview.digest, &person())
        .await
        .unwrap();
    assert_eq!(result.outcome, ChangeOutcomeKind::Confirmed);
    assert_eq!(result.action, ChangeKind::ScheduleFirmwareUpdate);
    assert_eq!(result.took_effect, Some(true));
    for id in &targets {
        let device = sim.device(id).unwrap();
        assert_eq!(
            device["reservation"]["fileId"],
            file_id.as_str(),
            "{device}"
        );
    }
    let rows = ops
        .audit_entries(&AuditQuery {
            device_id: Some(targets[1].clone()),
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].action, "schedule_firmware_update");
    assert_eq!(rows[0].caller, person());
    assert_eq!(rows[0].preview["digest"], preview.digest.as_str());
    assert!(rows[0].succeeded);
    let text = serde_json::to_string(&rows[0]).unwrap();
    assert!(
        !text.contains(&sim.info().subscription_key),
        "no secret in the audit log"
    );

    // Now reserved: a new preview warns, and cancelling clears it.
    let again = ops.preview(&request).await.unwrap();
    assert!(
        again
            .warnings
            .iter()
            .any(|w| w.kind == WarningKind::AlreadyReserved)
    );
    assert_ne!(again.digest, preview.digest);
    let cancel = ChangeRequest::CancelScheduledUpdate(CancelReservations {
        device_ids: targets.clone(),
        group_id: None,
    });
    let cancel = ops.check(&cancel).unwrap();
    let cancel_preview = ops.preview(&cancel).await.unwrap();
    ops.apply(&cancel, &cancel_preview.digest, &person())
        .await
        .unwrap();
    assert_eq!(sim.device(&targets[0]).unwrap()["updateStatus"], "none");
    assert_eq!(ops.audit_log().count().unwrap(), 2);
}

#[tokio::test]
async fn validation_reports_every_problem_including_cloud_checks() {
    let (sim, ops) = setup().await;
    let missing = rmm_api::DeviceId::new("Sharp", "no-such-serial")
        .unwrap()
        .to_string();
    let request = ChangeRequest::ScheduleFirmwareUpdate(ScheduleUpdate {
        device_ids: vec![missing],
        firmware_file_id: "no-such-file".into(),
        transfer_datetime: sim.now_ms() + 3_600_000,
        execute_datetime: "209901010200".into(),
        timezone: "UTC+05:30".into(),
        group_id: None,
        allow_other_model: false,
    });
    let err = ops
        .preview(&ops.check(&request).unwrap())
        .await
        .unwrap_err();
    let problems = err.problems().unwrap();
    assert!(
        problems.mentions("device_ids") && problems.mentions("firmware_file_id"),
        "{problems}"
    );

    let ota = ChangeRequest::ConfigureOtaMode(SetOtaMode {
        device_ids: vec![" ".into()],
        ota_mode: "sometimes".into(),
        start_hour: 30,
        end_hour: 4,
        group_id: None,
    });
    let problems = ops.check(&ota).unwrap_err();
    assert_eq!(problems.len(), 3, "{problems}");
}

#[tokio::test]
async fn ota_change_reaches_the_device_and_offline_devices_are_warned_about() {
    let (sim, ops) = setup().await;
    let all = ops
        .all_devices(&DeviceQuery::default(), &mut |_| {})
        .await
        .unwrap();
    let target = all
        .devices
        .iter()
        .find(|d| d.connection == "online")
        .unwrap();
    let request = ChangeRequest::ConfigureOtaMode(SetOtaMode {
        device_ids: vec![target.device_id.clone()],
        ota_mode: "confirmation".into(),
        start_hour: 1,
        end_hour: 5,
        group_id: Some(sim.info().group_id.clone()),
    });
    let request = ops.check(&request).unwrap();
    let preview = ops.preview(&request).await.unwrap();
    ops.apply(&request, &preview.digest, &person())
        .await
        .unwrap();
    let device = sim.device(&target.device_id).unwrap();
    assert_eq!(
        (
            device["otaMode"].as_str(),
            device["otaStartHour"].as_i64(),
            device["otaEndHour"].as_i64()
        ),
        (Some("confirmation"), Some(1), Some(5))
    );

    if let Some(offline) = all.devices.iter().find(|d| d.connection == "offline") {
        let request = ChangeRequest::CancelScheduledUpdate(CancelReservations {
            device_ids: vec![offline.device_id.clone()],
            group_id: None,
        });
        let preview = ops.preview(&ops.check(&request).unwrap()).await.unwrap();
        assert!(
            preview
                .warnings
                .iter()
                .any(|w| w.kind == WarningKind::Offline)
        );
    }
}

#[tokio::test]
async fn raw_requests_stay_under_the_base_and_read_only_unless_allowed() {
    let (_sim, ops) = setup().await;
    let tenants = ops
        .api_request("GET", "/api/v1/tenants", None, &person())
        .await
        .unwrap();
    assert!(tenants["tenantList"].is_array());
    let err = ops
        .api_request(
            "GET",
            "https://evil.example/api/v1/tenants",
            None,
            &person(),
        )
        .await
        .unwrap_err();
    assert!(err.problems().unwrap().mentions("endpoint"));
    let err = ops
        .api_request(
            "POST",
            "/rmm/fss/fwupd/removeUpdateReservation",
            Some(serde_json::json!({})),
            &person(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), FailureKind::BadInput);
    assert!(err.to_string().contains("off in settings"), "{err}");
    let err = ops
        .api_request("BREW", "//evil", Some(serde_json::json!(3)), &person())
        .await
        .unwrap_err();
    assert_eq!(err.problems().unwrap().len(), 2);
}

/// In the simulator's strict preset the cloud ignores the needsUpdate filter, invents no
/// connection field and shows odd ids: the listing still holds only matching devices, counts
/// them, says "unknown" for the connection and keeps every id.
#[tokio::test]
async fn a_strict_cloud_gives_the_same_answers_or_says_unknown() {
    let (sim, ops) = setup().await;
    sim.set_modes(rmm_sim::Modes::strict());
    let needing = ops
        .all_devices(
            &DeviceQuery {
                needs_update: Some(true),
                ..DeviceQuery::default()
            },
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(needing.returned > 0);
    assert!(needing.devices.iter().all(|d| d.needs_update));
    assert_eq!(needing.total_devices, needing.returned);
    assert!(needing.devices.iter().all(|d| d.connection == "unknown"));
    let all = ops
        .all_devices(&DeviceQuery::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(
        all.returned, 250,
        "no device lost to a shifting order or an odd id"
    );
    assert!(all.devices.iter().any(|d| !d.device_id.ends_with('=')));
}

/// Issue 15: a file named for another model was only a warning, and `--yes` went ahead. Now it
/// stops the change, unless allowed explicitly; then the preview says it was allowed.
#[tokio::test]
async fn firmware_for_another_model_stops_the_change_unless_allowed() {
    let (sim, ops) = setup().await;
    let devices = ops
        .all_devices(
            &DeviceQuery {
                model: Some("MX-3071".into()),
                ..DeviceQuery::default()
            },
            &mut |_| {},
        )
        .await
        .unwrap();
    let target = devices.devices[0].device_id.clone();
    let files = ops.firmware_files(None, 0, 100).await.unwrap();
    let other = files
        .files
        .iter()
        .find(|f| rmm_core::fits(&f.fits_models, "MX-3071") == Some(false))
        .expect("a file for another model")
        .file_id
        .clone();
    let request = |allow: bool| {
        ChangeRequest::ScheduleFirmwareUpdate(ScheduleUpdate {
            device_ids: vec![target.clone()],
            firmware_file_id: other.clone(),
            transfer_datetime: sim.now_ms() + 3_600_000,
            execute_datetime: "209901010200".into(),
            timezone: "UTC+05:30".into(),
            group_id: None,
            allow_other_model: allow,
        })
    };
    let refused = ops
        .preview(&ops.check(&request(false)).unwrap())
        .await
        .unwrap_err();
    let OperationError::Invalid(problems) = &refused else {
        panic!("not refused as bad input: {refused}");
    };
    let problem = problems.iter().next().unwrap();
    assert_eq!(problem.field, "device_ids[0]");
    assert!(problem.rule.contains("MX-3071"), "{}", problem.rule);
    // Each face words how to allow it (a flag, a parameter, a box).
    assert_eq!(problem.hint, Some(rmm_core::Hint::AllowOtherModel));

    let allowed = ops
        .preview(&ops.check(&request(true)).unwrap())
        .await
        .unwrap();
    let warning = allowed
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::FileDoesNotFitModel)
        .expect("the misfit is still shown");
    assert!(
        warning.message.contains("allowed explicitly"),
        "{}",
        warning.message
    );
    assert_eq!(sim.stats().change_requests, 0, "previews change nothing");
}

/// Issue 16: a preview names the tenant as the cloud calls it, and applying it with its
/// digest still works (the name is not part of the digest).
#[tokio::test]
async fn a_preview_names_the_tenant_and_its_digest_still_applies() {
    let (sim, ops) = setup().await;
    let tenants = ops.tenants().await.unwrap();
    let devices = ops.devices(&DeviceQuery::default()).await.unwrap();
    let device = devices.devices[0].device_id.clone();
    let request = ChangeRequest::CancelScheduledUpdate(rmm_core::CancelReservations {
        device_ids: vec![device],
        group_id: None,
    });
    let checked = ops.check(&request).unwrap();
    let preview = ops.preview(&checked).await.unwrap();
    let tenant = tenants
        .iter()
        .find(|t| t.group_id == preview.group_id)
        .expect("the group is a tenant");
    assert_eq!(preview.group_name.as_deref(), Some(tenant.name.as_str()));
    assert!(
        preview
            .summary
            .contains(&format!("of {} (group {})", tenant.name, tenant.group_id)),
        "{}",
        preview.summary
    );
    ops.apply(&checked, &preview.digest, &person())
        .await
        .unwrap();
    drop(sim);
}

#[tokio::test]
async fn kept_group_reads_answer_previews_only_while_young_and_only_where_asked_for() {
    let (sim, ops) = setup().await;
    let sim = Arc::new(sim);
    let s = sim.clone();
    let ops = ops.with_clock(Arc::new(move || s.now_ms()));
    let kept = ops.clone().with_group_reads_kept(60_000);
    let (_, fleet) = kept.group_devices(None).await.unwrap();
    // More devices than are looked up one by one: a preview would read the group's 3 pages.
    let request = ops
        .check(&ChangeRequest::ConfigureOtaMode(SetOtaMode {
            device_ids: fleet
                .iter()
                .take(50)
                .map(|d| d.device_id.to_string())
                .collect(),
            ota_mode: "confirmation".into(),
            start_hour: 1,
            end_hour: 5,
            group_id: None,
        }))
        .unwrap();
    let requests = || sim.stats().api_requests;
    kept.preview(&request).await.unwrap(); // may read the tenants' names, once
    let before = requests();
    let from_kept = kept.preview(&request).await.unwrap();
    assert_eq!(requests(), before, "the preview read the cloud again");

    // Without the kept read (a person's or an agent's operations), the cloud is read.
    let before = requests();
    let fresh = ops.preview(&request).await.unwrap();
    assert!(requests() >= before + 3, "{} requests", requests() - before);
    assert_eq!(
        fresh.digest, from_kept.digest,
        "the same devices, the same preview"
    );

    // A minute later the kept read is too old.
    sim.advance_clock(61);
    let before = requests();
    kept.preview(&request).await.unwrap();
    assert!(requests() >= before + 3, "{} requests", requests() - before);
}

/// A cloud whose device ids are not all of the documented form: every device is listed, each
/// odd id is said to be odd (and why), and it is what a change takes, exactly as written.
#[tokio::test]
async fn odd_device_ids_are_kept_flagged_and_usable() {
    let (sim, ops) = setup().await;
    sim.set_modes(rmm_sim::Modes {
        odd_device_ids: true,
        ..sim.modes()
    });
    let all = ops
        .all_devices(&DeviceQuery::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(all.devices.len(), 250, "every device listed");
    let odd: Vec<_> = all.devices.iter().filter(|d| d.odd_id.is_some()).collect();
    assert!(!odd.is_empty() && odd.len() < 250, "{} odd", odd.len());
    for d in &all.devices {
        let canonical = d
            .device_id
            .parse::<rmm_api::DeviceId>()
            .unwrap()
            .is_canonical();
        assert_eq!(
            d.odd_id.is_some(),
            !canonical,
            "{}: {:?}",
            d.device_id,
            d.odd_id
        );
    }
    let one = ops.device(&odd[0].device_id, None).await.unwrap();
    assert_eq!(one.device_id, odd[0].device_id);
    assert_eq!(one.odd_id, odd[0].odd_id);
}
