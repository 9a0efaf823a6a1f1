//! The fleet commands as a user runs them: the real `rmm` binary against the simulator, with
//! `--json` read back, changes carried out only with `--yes`, the audit log written, and exit
//! codes telling bad input (2), sign-in (3) and a change not carried out (6) apart (a refusal by
//! the cloud, 4, is in cloud_refusal.rs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::Setup;
use serde_json::Value;

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[tokio::test]
async fn reads_tables_and_json() {
    let s = Setup::new(40, true).await;
    let (code, out, err) = s.run(&["devices", "--all", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let all = json(&out);
    assert_eq!(all["total_devices"], 40);
    assert_eq!(all["devices"].as_array().unwrap().len(), 40);

    let (code, out, err) = s
        .run(&["devices", "--needs-update", "--all", "--json"])
        .await;
    assert_eq!(code, 0, "{err}");
    let needing = json(&out);
    assert!(
        needing["devices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["needs_update"] == true)
    );

    let (code, out, _) = s.run(&["devices", "--page-size", "5"]).await;
    assert_eq!(code, 0);
    assert!(out.starts_with("MODEL"), "{out}");
    assert_eq!(
        out.lines().take_while(|l| !l.is_empty()).count(),
        6,
        "{out}"
    );
    assert!(out.contains("5 of 40 devices shown"), "{out}");

    let (code, out, _) = s.run(&["summary", "--json"]).await;
    assert_eq!(code, 0);
    let summary = json(&out);
    assert_eq!(summary["total_devices"], 40);
    assert_eq!(summary["needs_update"], needing["total_devices"]);

    let (code, out, _) = s.run(&["firmware"]).await;
    assert_eq!(code, 0);
    assert!(out.starts_with("FILE ID"), "{out}");
}

async fn target(s: &Setup) -> (String, String) {
    let (_, out, _) = s
        .run(&["devices", "--all", "--model", "MX-3071", "--json"])
        .await;
    let devices = json(&out);
    let device = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d.get("reserved_file_id").is_none() && d["connection"] != "offline")
        .unwrap()["device_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, out, _) = s.run(&["firmware", "--json"]).await;
    let file = json(&out)["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fits_models"][0] == "MX-3071")
        .unwrap()["file_id"]
        .as_str()
        .unwrap()
        .to_owned();
    (device, file)
}

#[tokio::test]
async fn a_change_needs_yes_and_is_audited() {
    let s = Setup::new(60, true).await;
    let (device, file) = target(&s).await;
    let schedule = [
        "schedule",
        "--file",
        &file,
        "--transfer",
        "209901010100",
        "--execute",
        "209901010200",
        "--timezone",
        "UTC+00:00",
        &device,
    ];
    // No terminal to ask and no --yes: the preview is shown, nothing is changed.
    let (code, out, err) = s.run(&schedule).await;
    assert_eq!(code, 6, "{err}");
    assert!(out.contains(&device), "{out}");
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(s.sim.stats().change_requests, 0);

    let mut confirmed = schedule.to_vec();
    confirmed.extend(["--yes", "--json"]);
    let (code, out, err) = s.run(&confirmed).await;
    assert_eq!(code, 0, "{err}");
    let done = json(&out);
    assert_eq!(done["result"]["outcome"], "confirmed", "{done}");
    assert_eq!(s.sim.stats().change_requests, 1);
    assert!(
        s.sim
            .reservations()
            .iter()
            .any(|r| r["deviceId"] == device.as_str() && r["fileId"] == file.as_str()),
        "{:?}",
        s.sim.reservations()
    );

    let (code, out, _) = s.run(&["audit", "--json", "--device", &device]).await;
    assert_eq!(code, 0);
    let entries = json(&out);
    assert_eq!(entries.as_array().unwrap().len(), 1, "{entries}");
    assert_eq!(entries[0]["action"], "schedule_firmware_update");
    assert_eq!(entries[0]["caller"]["kind"], "cli_user");
    assert_eq!(entries[0]["caller"]["user"], "test-user");
    // Who asked (the OS user) and the account the change was made with.
    assert_eq!(
        entries[0]["account"].as_str(),
        Some(s.sim.info().username.as_str()),
        "{out}"
    );
    assert!(!out.contains(&s.sim.info().subscription_key));
    // The tenant by the name the cloud gave it, in JSON and in the table; by its id where
    // the cloud's tenant list did not give a name we can read (the strict simulator's).
    let (code, table, _) = s.run(&["audit", "--device", &device]).await;
    assert_eq!(code, 0);
    if s.sim.modes().documented_fields_only {
        assert!(entries[0].get("group_name").is_none(), "{out}");
        assert!(table.contains(&s.sim.info().group_id), "{table}");
    } else {
        assert_eq!(entries[0]["group_name"], "Sharp Demo Fleet", "{out}");
        assert!(table.contains("Sharp Demo Fleet"), "{table}");
    }

    let (code, _, err) = s.run(&["cancel", "--yes", &device]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        !s.sim
            .reservations()
            .iter()
            .any(|r| r["deviceId"] == device.as_str())
    );
}

#[tokio::test]
async fn bad_input_is_reported_field_by_field_with_exit_code_2() {
    let s = Setup::new(10, true).await;
    let (code, _, err) = s
        .run(&[
            "ota",
            "--mode",
            "sometimes",
            "--start",
            "30",
            "--end",
            "-5",
            "not an id",
        ])
        .await;
    assert_eq!(code, 2, "{err}");
    // In the terminal's words: the flags and arguments, not core's field names.
    for field in [
        "--mode:",
        "--start:",
        "--end:",
        "DEVICE_ID 1st of the command:",
    ] {
        assert!(err.contains(field), "{field} missing: {err}");
    }
    for core_name in ["ota_mode", "start_hour", "end_hour", "device_ids"] {
        assert!(!err.contains(core_name), "{core_name} shown: {err}");
    }
    let (code, _, err) = s
        .run(&[
            "schedule",
            "--file",
            "f",
            "--transfer",
            "soon",
            "--execute",
            "x",
            "mn=QQ==:sn=QQ==",
        ])
        .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--transfer:") && err.contains("--execute:"),
        "{err}"
    );
    assert!(!err.contains("execute_datetime"), "{err}");
    // A bad zone is reported as the zone, not as a well-written transfer time (issue 15).
    let (code, _, err) = s
        .run(&[
            "schedule",
            "--file",
            "f",
            "--transfer",
            "203001010000",
            "--execute",
            "203001010100",
            "--timezone",
            "IST",
            "mn=QQ==:sn=QQ==",
        ])
        .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--timezone:") && err.contains("\"IST\""),
        "{err}"
    );
    assert!(!err.contains("--transfer:"), "{err}");
    // A past transfer is shown as a time in the zone, not in milliseconds.
    let (code, _, err) = s
        .run(&[
            "schedule",
            "--file",
            "f",
            "--transfer",
            "202001010000",
            "--execute",
            "202001010100",
            "--timezone",
            "UTC+05:30",
            "mn=QQ==:sn=QQ==",
        ])
        .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--transfer: must be in the future; got 2020-01-01 00:00 UTC+05:30"),
        "{err}"
    );
    let (code, _, err) = s.run(&["devices", "--page-size", "500"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--page-size:"), "{err}");
    assert_eq!(s.sim.stats().api_requests, 0);
}

#[tokio::test]
async fn without_a_sign_in_commands_say_so_at_once_with_exit_code_3() {
    let s = Setup::new(10, false).await;
    let started = Instant::now();
    let (code, _, err) = s.run(&["devices"]).await;
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("rmm login"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(s.sim.stats().logins, 0);
    // A group the user cannot see (403) is a refusal of the request, not of the sign-in: exit
    // code 4, tested in cloud_refusal.rs.
}

/// `rmm devices --all | head -2`: the reader closes the pipe after a line or two; `rmm` ends
/// quietly with status 0 (no panic, no backtrace), in its table and JSON forms.
#[tokio::test]
async fn a_reader_that_stops_early_ends_the_command_quietly() {
    use std::process::Stdio;
    use tokio::io::AsyncReadExt;

    // Enough devices that the output is far larger than a pipe's buffer.
    let s = Setup::new(3000, true).await;
    for args in [
        &["devices", "--all"][..],
        &["devices", "--all", "--json"][..],
        &["firmware"][..],
    ] {
        let mut command = tokio::process::Command::from(s.rmm(args));
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 16];
        stdout.read_exact(&mut first).await.unwrap();
        drop(stdout);
        let output = child.wait_with_output().await.unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "rmm {args:?}: {err}");
        assert!(!err.contains("panicked"), "rmm {args:?}: {err}");
    }
}

/// A schedule names its zone once: without --timezone it is the profile's (UTC+05:30 unless it
/// sets one), and a cloud that reads the execute time in `x-time-zone`'s zone (the
/// simulator's `time-zone-header` mode) reads it in the schedule's zone, named or not.
#[tokio::test]
async fn a_schedule_is_in_the_profiles_zone_unless_named_and_the_cloud_is_told_which() {
    let s = Setup::new(60, true).await;
    s.sim.set_modes(rmm_sim::Modes {
        time_zone_header: true,
        ..s.sim.modes()
    });
    let (device, file) = target(&s).await;
    // 2099-01-01 02:00 UTC, Unix ms.
    const TWO_AM_UTC: i64 = 4_070_916_000_000;
    let settings = s.config_dir().join("settings.toml");
    for (profile_zone, flag, zone, offset_minutes) in [
        (None, None, "UTC+05:30", 330),
        (Some("-08:00"), None, "UTC-08:00", -480),
        (Some("-08:00"), Some("UTC+09:00"), "UTC+09:00", 540),
    ] {
        if let Some(z) = profile_zone {
            let mut file = rmm_core::settings::SettingsFile::load(&settings).unwrap();
            file.profiles.get_mut(common::PROFILE).unwrap().time_zone = Some(z.to_owned());
            file.save(&settings).unwrap();
        }
        let mut schedule = vec![
            "schedule",
            "--file",
            &file,
            "--transfer",
            "209901010100",
            "--execute",
            "209901010200",
            "--yes",
            "--json",
        ];
        if let Some(f) = flag {
            schedule.extend(["--timezone", f]);
        }
        schedule.push(&device);
        let (code, out, err) = s.run(&schedule).await;
        assert_eq!(code, 0, "{zone}: {err}");
        assert!(out.contains(zone), "{zone}: {out}");
        let made = s.sim.reservation_log().pop().unwrap();
        assert_eq!(made.time_zone, zone);
        assert_eq!(
            made.execute_ms,
            TWO_AM_UTC - offset_minutes * 60_000,
            "{zone}: the cloud read the execute time in another zone"
        );
        let (code, _, err) = s.run(&["cancel", "--yes", &device]).await;
        assert_eq!(code, 0, "{err}");
    }
}

/// A gateway that answers only the dashboard's origin (the simulator's
/// `require-dashboard-origin` mode) answers us: the profile names the dashboard, and its origin
/// goes with every request, as with the dashboard's own.
#[tokio::test]
async fn the_profiles_dashboard_origin_goes_with_every_request() {
    let s = Setup::new(30, true).await;
    s.sim.set_modes(rmm_sim::Modes {
        require_dashboard_origin: true,
        ..s.sim.modes()
    });
    let (code, out, err) = s.run(&["devices", "--all", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["devices"].as_array().unwrap().len(), 30, "{out}");
    let (code, _, err) = s.run(&["firmware", "--json"]).await;
    assert_eq!(code, 0, "{err}");
}

/// Firmware for another model stops a schedule with the device named in the command's words
/// and the flag that allows it; with that flag the preview goes ahead and says so.
#[tokio::test]
async fn firmware_for_another_model_needs_allow_other_model() {
    let s = Setup::new(60, true).await;
    let (device, _) = target(&s).await;
    let (_, out, _) = s.run(&["firmware", "--json"]).await;
    let other = json(&out)["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            !f["fits_models"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m == "MX-3071")
        })
        .unwrap()["file_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let schedule = [
        "schedule",
        "--file",
        &other,
        "--transfer",
        "209901010100",
        "--execute",
        "209901010200",
        &device,
    ];
    let (code, _, err) = s.run(&schedule).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("DEVICE_ID") && err.contains("or allow it with --allow-other-model"),
        "{err}"
    );
    let mut allowed = schedule.to_vec();
    allowed.insert(1, "--allow-other-model");
    let (code, out, err) = s.run(&allowed).await;
    // The preview is shown; without a terminal or --yes nothing is changed.
    assert_eq!(code, 6, "{err}");
    assert!(out.contains("allowed explicitly"), "{out}");
    assert_eq!(s.sim.stats().change_requests, 0);
}
