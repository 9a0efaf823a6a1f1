//! The device list (paging, filters, order), the fleet itself, and changes moving through time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;

use common::*;
use reqwest::StatusCode;
use rmm_sim::SimConfig;
use serde_json::{Value, json};

const RESERVE: &str = "/rmm/fss/fwupd/setUpdateReservation";
const REMOVE: &str = "/rmm/fss/fwupd/removeUpdateReservation";
const OTA: &str = "/stateful/fss/fwupd/setOTAMode";

async fn all_devices(sim: &rmm_sim::Sim, extra: Value) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let mut body = extra.clone();
        body["startIndex"] = json!(out.len());
        body["count"] = json!(100);
        let (status, page) = list(sim, body).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let devices = page["deviceList"].as_array().unwrap().clone();
        let total = page["totalCount"].as_u64().unwrap() as usize;
        out.extend(devices);
        if out.len() >= total {
            return out;
        }
    }
}

#[tokio::test]
async fn paging_covers_the_fleet_exactly_once() {
    let sim = sim().await;
    let (status, page) = list(&sim, json!({"startIndex": 240, "count": 25})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["totalCount"], 250);
    assert_eq!(page["startIndex"], 240);
    assert_eq!(page["count"], 10);
    assert_eq!(page["deviceList"].as_array().unwrap().len(), 10);
    assert_eq!(page["common"]["errorList"], json!([]));
    let devices = all_devices(&sim, json!({})).await;
    let ids: HashSet<_> = devices
        .iter()
        .map(|d| d["deviceId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 250);
    let ordered: Vec<&str> = devices
        .iter()
        .map(|d| d["deviceId"].as_str().unwrap())
        .collect();
    assert!(
        ordered.windows(2).all(|w| w[0] < w[1]),
        "default order is by deviceId"
    );
    let (_, beyond) = list(&sim, json!({"startIndex": 1000, "count": 10})).await;
    assert_eq!(beyond["deviceList"], json!([]));
    assert_eq!(beyond["totalCount"], 250);
}

#[tokio::test]
async fn devices_have_the_documented_shape_and_documentation_addresses() {
    let sim = sim().await;
    let devices = all_devices(&sim, json!({})).await;
    let models: HashSet<_> = devices
        .iter()
        .map(|d| d["modelName"].as_str().unwrap())
        .collect();
    assert!(models.len() >= 8, "{models:?}");
    for device in &devices {
        for key in [
            "deviceId",
            "modelName",
            "serialNumber",
            "friendlyName",
            "ipAddress",
            "firmwareVersion",
            "latestFirmwareVersion",
            "updateStatus",
            "otaMode",
            "otaSettingStatus",
            "otaStartHour",
            "otaEndHour",
            "connectionStatus",
            "location",
            "reservation",
        ] {
            assert!(device.get(key).is_some(), "{key} missing in {device}");
        }
        let ip = device["ipAddress"].as_str().unwrap();
        assert!(
            ["192.0.2.", "198.51.100.", "203.0.113."]
                .iter()
                .any(|p| ip.starts_with(p)),
            "{ip}"
        );
        assert!(
            device["deviceId"]
                .as_str()
                .unwrap()
                .starts_with("mn=U2hhcnA=:sn=")
        );
    }
    let needing = devices
        .iter()
        .filter(|d| d["latestFirmwareVersion"] != "")
        .count();
    let offline = devices
        .iter()
        .filter(|d| d["connectionStatus"] == "offline")
        .count();
    assert!((40..140).contains(&needing), "{needing}");
    assert!((3..50).contains(&offline), "{offline}");
}

#[tokio::test]
async fn same_seed_same_fleet_different_seed_different_fleet() {
    let a = sim_with(SimConfig {
        seed: 11,
        devices: 50,
        ..SimConfig::default()
    })
    .await;
    let b = sim_with(SimConfig {
        seed: 11,
        devices: 50,
        ..SimConfig::default()
    })
    .await;
    let c = sim_with(SimConfig {
        seed: 12,
        devices: 50,
        ..SimConfig::default()
    })
    .await;
    let strip = |devices: Vec<Value>| {
        devices
            .into_iter()
            .map(|mut d| {
                d.as_object_mut().unwrap().remove("otaSettingStatus");
                d
            })
            .collect::<Vec<_>>()
    };
    let (da, db, dc) = (
        strip(all_devices(&a, json!({})).await),
        strip(all_devices(&b, json!({})).await),
        strip(all_devices(&c, json!({})).await),
    );
    assert_eq!(da, db);
    assert_ne!(da, dc);
    assert_eq!(a.firmware_files().len(), b.firmware_files().len());
}

#[tokio::test]
async fn filters_combine_and_contains_ignores_case() {
    let sim = sim().await;
    let all = all_devices(&sim, json!({})).await;
    let mx3071 = all.iter().filter(|d| d["modelName"] == "MX-3071").count();
    let filtered = all_devices(
        &sim,
        json!({"simpleFilters": [{"key": "modelName", "value": "MX-3071"}]}),
    )
    .await;
    assert_eq!(filtered.len(), mx3071);
    assert!(filtered.iter().all(|d| d["modelName"] == "MX-3071"));

    let contains = all_devices(
        &sim,
        json!({"simpleFilters": [{"key": "modelName", "value": "mx-3", "operator": "contains"}]}),
    )
    .await;
    let expected = all
        .iter()
        .filter(|d| d["modelName"].as_str().unwrap().starts_with("MX-3"))
        .count();
    assert_eq!(contains.len(), expected);

    let needing = all_devices(
        &sim,
        json!({"simpleFilters": [{"key": "needsUpdate", "value": "true"}]}),
    )
    .await;
    assert!(needing.iter().all(|d| d["latestFirmwareVersion"] != ""));
    let offline_needing = all_devices(
        &sim,
        json!({"simpleFilters": [{"key": "needsUpdate", "value": "true"},
                                 {"key": "connectionStatus", "value": "offline"}]}),
    )
    .await;
    let expected = needing
        .iter()
        .filter(|d| d["connectionStatus"] == "offline")
        .count();
    assert_eq!(offline_needing.len(), expected);

    let some_ip = all[7]["ipAddress"].as_str().unwrap().to_string();
    let keyword = all_devices(
        &sim,
        json!({"simpleFilters": [{"key": "keyword", "value": some_ip}]}),
    )
    .await;
    assert!(keyword.iter().any(|d| d["deviceId"] == all[7]["deviceId"]));
    let hours = all_devices(
        &sim,
        json!({"simpleFilters": [{"key": "otaStartHour", "value": 2}]}),
    )
    .await;
    assert!(!hours.is_empty() && hours.iter().all(|d| d["otaStartHour"] == 2));
}

#[tokio::test]
async fn order_by_is_stable_with_device_id_tie_break() {
    let sim = sim().await;
    let sorted = all_devices(
        &sim,
        json!({"orderBy": [{"key": "modelName", "order": "descending"}, {"key": "otaStartHour", "order": "ascending"}]}),
    )
    .await;
    for pair in sorted.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let model = b["modelName"]
            .as_str()
            .unwrap()
            .cmp(a["modelName"].as_str().unwrap());
        let hour = a["otaStartHour"]
            .as_i64()
            .unwrap()
            .cmp(&b["otaStartHour"].as_i64().unwrap());
        let id = a["deviceId"]
            .as_str()
            .unwrap()
            .cmp(b["deviceId"].as_str().unwrap());
        assert!(model.then(hour).then(id).is_lt(), "{a} before {b}");
    }
    let by_ip = all_devices(
        &sim,
        json!({"orderBy": [{"key": "ipAddress", "order": "ascending"}]}),
    )
    .await;
    let ips: Vec<std::net::Ipv4Addr> = by_ip
        .iter()
        .map(|d| d["ipAddress"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(ips.windows(2).all(|w| w[0] <= w[1]), "numeric IP order");
}

fn file_for(sim: &rmm_sim::Sim, model: &str) -> (String, String) {
    let prefix = format!("{model} Firmware v");
    sim.firmware_files()
        .into_iter()
        .filter(|f| f["groupId"] == sim.info().group_id.as_str())
        .filter_map(|f| {
            let version = f["fileTitle"].as_str()?.strip_prefix(&prefix)?.to_string();
            Some((f["fileId"].as_str()?.to_string(), version))
        })
        .max_by(|a, b| a.1.cmp(&b.1))
        .unwrap()
}

#[tokio::test]
async fn reservation_moves_through_every_status_to_completed() {
    let sim = sim().await;
    let needing = all_devices(
        &sim,
        json!({"simpleFilters": [{"key": "needsUpdate", "value": "true"}, {"key": "connectionStatus", "value": "online"}]}),
    )
    .await;
    let device = &needing[0];
    let id = device["deviceId"].as_str().unwrap().to_string();
    let (file, version) = file_for(&sim, device["modelName"].as_str().unwrap());
    assert_eq!(device["latestFirmwareVersion"], version.as_str());
    sim.set_clock_speed(0.0);
    let transfer = sim.now_ms() + 10 * 60_000;
    // Execute 20 minutes after now, in UTC+05:30.
    let execute_ms = transfer + 10 * 60_000;
    let (status, body) = change(
        &sim,
        RESERVE,
        json!({"deviceIds": [id], "fileId": file, "fileTransferTimestamp": transfer,
               "fileTransferTimeZone": "UTC+05:30", "executeUpdateDateTime": local(execute_ms, 19_800),
               "isExclude": false}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["result"], "success");
    assert_eq!(body["affectedCount"], 1);
    let status_now = |sim: &rmm_sim::Sim| {
        sim.device(&id).unwrap()["updateStatus"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status_now(&sim), "reserved");
    assert_eq!(
        sim.device(&id).unwrap()["reservation"]["fileId"],
        file.as_str()
    );
    assert_eq!(sim.reservations().len(), 1);
    sim.advance_clock(10 * 60);
    assert_eq!(status_now(&sim), "downloading");
    sim.advance_clock(3 * 60);
    assert_eq!(status_now(&sim), "downloaded");
    sim.advance_clock(7 * 60);
    assert_eq!(status_now(&sim), "updating");
    sim.advance_clock(5 * 60);
    let done = sim.device(&id).unwrap();
    assert_eq!(done["updateStatus"], "completed");
    assert_eq!(done["firmwareVersion"], version.as_str());
    assert_eq!(done["latestFirmwareVersion"], "");
    // The API shows the same.
    let (_, page) = list(
        &sim,
        json!({"simpleFilters": [{"key": "deviceId", "value": id}]}),
    )
    .await;
    assert_eq!(page["deviceList"][0]["updateStatus"], "completed");
    assert_eq!(sim.stats().change_requests, 1);
}

#[tokio::test]
async fn failures_follow_the_share_and_offline_devices_wait() {
    let sim = sim_with(SimConfig {
        failure_share: 1.0,
        ..SimConfig::default()
    })
    .await;
    sim.set_clock_speed(0.0);
    let online = all_devices(
        &sim,
        json!({"simpleFilters": [{"key": "connectionStatus", "value": "online"}]}),
    )
    .await;
    let offline = all_devices(
        &sim,
        json!({"simpleFilters": [{"key": "connectionStatus", "value": "offline"}]}),
    )
    .await;
    let pick = [&online[0], &offline[0]];
    let transfer = sim.now_ms() + 60_000;
    for device in pick {
        let (file, _) = file_for(&sim, device["modelName"].as_str().unwrap());
        let (status, body) = change(
            &sim,
            RESERVE,
            json!({"deviceIds": [device["deviceId"]], "fileId": file, "fileTransferTimestamp": transfer,
                   "fileTransferTimeZone": "UTC+00:00", "executeUpdateDateTime": local(transfer, 0)}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    sim.advance_clock(3600);
    let on = sim.device(online[0]["deviceId"].as_str().unwrap()).unwrap();
    assert_eq!(on["updateStatus"], "failed");
    assert_eq!(on["firmwareVersion"], online[0]["firmwareVersion"]);
    let off = sim
        .device(offline[0]["deviceId"].as_str().unwrap())
        .unwrap();
    assert_eq!(off["updateStatus"], "reserved");
}

#[tokio::test]
async fn remove_with_is_exclude_and_not_applied_twice() {
    let sim = sim_with(SimConfig {
        devices: 20,
        failure_share: 0.0,
        ..SimConfig::default()
    })
    .await;
    sim.set_clock_speed(0.0);
    let devices = all_devices(&sim, json!({})).await;
    let (file, _) = file_for(&sim, devices[0]["modelName"].as_str().unwrap());
    let transfer = sim.now_ms() + 3_600_000;
    let keep: Vec<&Value> = devices[..3].iter().map(|d| &d["deviceId"]).collect();
    let (status, body) = change(
        &sim,
        RESERVE,
        json!({"deviceIds": keep, "isExclude": true, "fileId": file, "fileTransferTimestamp": transfer,
               "fileTransferTimeZone": "UTC+00:00", "executeUpdateDateTime": local(transfer + 3_600_000, 0)}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["affectedCount"], 17);
    assert_eq!(sim.reservations().len(), 17);
    for id in &keep {
        assert_eq!(
            sim.device(id.as_str().unwrap()).unwrap()["updateStatus"],
            "none"
        );
    }
    let some: Vec<&Value> = devices[5..8].iter().map(|d| &d["deviceId"]).collect();
    let (_, body) = change(&sim, REMOVE, json!({"deviceIds": some})).await;
    assert_eq!(body["affectedCount"], 3);
    assert_eq!(
        sim.device(some[0].as_str().unwrap()).unwrap()["updateStatus"],
        "none"
    );
    assert_eq!(
        sim.device(some[0].as_str().unwrap()).unwrap()["reservation"],
        Value::Null
    );
    let (_, again) = change(&sim, REMOVE, json!({"deviceIds": some})).await;
    assert_eq!(again["affectedCount"], 0);
    assert_eq!(sim.reservations().len(), 14);
}

#[tokio::test]
async fn ota_change_is_pending_for_a_minute_then_applied() {
    let sim = sim().await;
    sim.set_clock_speed(0.0);
    let online = all_devices(
        &sim,
        json!({"simpleFilters": [{"key": "connectionStatus", "value": "online"}]}),
    )
    .await;
    let offline = all_devices(
        &sim,
        json!({"simpleFilters": [{"key": "connectionStatus", "value": "offline"}]}),
    )
    .await;
    let ids = [
        online[0]["deviceId"].clone(),
        offline[0]["deviceId"].clone(),
    ];
    let (status, body) = change(
        &sim,
        OTA,
        json!({"deviceIds": ids, "otaMode": "auto", "otaStartHour": 1, "otaEndHour": 3}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["affectedCount"], 2);
    let on = sim.device(ids[0].as_str().unwrap()).unwrap();
    assert_eq!(
        (
            on["otaMode"].clone(),
            on["otaStartHour"].clone(),
            on["otaEndHour"].clone()
        ),
        (json!("auto"), json!(1), json!(3))
    );
    assert_eq!(on["otaSettingStatus"], "pending");
    sim.advance_clock(61);
    assert_eq!(
        sim.device(ids[0].as_str().unwrap()).unwrap()["otaSettingStatus"],
        "applied"
    );
    assert_eq!(
        sim.device(ids[1].as_str().unwrap()).unwrap()["otaSettingStatus"],
        "pending"
    );
    // "any time" hours are accepted for auto.
    let (status, _) = change(
        &sim,
        OTA,
        json!({"deviceIds": [ids[0]], "otaMode": "off", "otaStartHour": -1, "otaEndHour": -1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        sim.device(ids[0].as_str().unwrap()).unwrap()["otaMode"],
        "off"
    );
}

#[tokio::test]
async fn firmware_files_page_and_tell_their_model_by_title() {
    let sim = sim().await;
    let (status, body) = api(
        &sim,
        &sim.valid_token(),
        "/rmm/fss/fwupd/getFirmwareDataList",
        Some(json!({"groupId": sim.info().group_id, "startIndex": 0, "count": 100})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let files = body["firmwareDataList"].as_array().unwrap();
    assert_eq!(body["totalCount"].as_u64().unwrap() as usize, files.len());
    assert!(files.len() >= 11);
    for file in files {
        assert!(file.get("targetModels").is_none());
        let title = file["fileTitle"].as_str().unwrap();
        let name = file["fileName"].as_str().unwrap();
        assert!(title.contains(" Firmware v"), "{title}");
        assert!(name.ends_with(".bin"), "{name}");
        assert!(file["fileSize"].as_u64().unwrap() > 0);
        assert!(!file["uploadDate"].as_str().unwrap().is_empty());
    }
    let (_, page) = api(
        &sim,
        &sim.valid_token(),
        "/rmm/fss/fwupd/getFirmwareDataList",
        Some(json!({"groupId": sim.info().group_id, "startIndex": 2, "count": 3})),
    )
    .await;
    assert_eq!(page["firmwareDataList"].as_array().unwrap().len(), 3);
    assert_eq!(page["firmwareDataList"][0], files[2]);
}

/// `YYYYMMDDHHMM` of `ms` at UTC offset `offset_secs`.
fn local(ms: i64, offset_secs: i32) -> String {
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
