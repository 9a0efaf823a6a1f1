//! Exit code 4 (the cloud understood the request and refused it), through the real `rmm`
//! binary against the simulator: requests that pass rmm-core's own checks but that the
//! simulator refuses. stderr names the refusal and carries no secret.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Setup;
use serde_json::Value;

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// stderr must not hold the token, the subscription key or the password.
fn assert_no_secret(s: &Setup, text: &str) {
    let info = s.sim.info();
    // The token the profile's store holds (what rmm sent as its bearer).
    let stored = json(&std::fs::read_to_string(s.secrets()).unwrap());
    let token = stored["token"]["jwt"].as_str().unwrap();
    for part in token.split('.').skip(1) {
        assert!(!text.contains(part), "the token leaked: {text}");
    }
    assert!(
        !text.contains(&info.subscription_key),
        "the subscription key leaked: {text}"
    );
    assert!(
        !text.contains(&info.password),
        "the password leaked: {text}"
    );
}

/// An online device with no reservation, and a staged file that fits its model.
async fn device_and_file(s: &Setup) -> (String, String) {
    let (code, out, err) = s
        .run(&["devices", "--all", "--model", "MX-3071", "--json"])
        .await;
    assert_eq!(code, 0, "{err}");
    let device = json(&out)["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d.get("reserved_file_id").is_none() && d["connection"] != "offline")
        .unwrap()["device_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, out, err) = s.run(&["firmware", "--json"]).await;
    assert_eq!(code, 0, "{err}");
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

/// The transfer time is in the future by this machine's clock, so rmm-core lets it through,
/// but the cloud's clock is a century ahead: the cloud answers 400 with `PAST_TIMESTAMP` in
/// its errorList. Nothing is changed, the refusal is audited, and the exit code is 4.
#[tokio::test]
async fn a_change_the_cloud_refuses_exits_with_code_4_naming_the_refusal() {
    let s = Setup::new(60, true).await;
    let (device, file) = device_and_file(&s).await;
    s.sim.advance_clock(100 * 366 * 24 * 3600);
    let requests_before = s.sim.stats().api_requests;
    let (code, out, err) = s
        .run(&[
            "schedule",
            "--file",
            &file,
            "--transfer",
            "209901010100",
            "--execute",
            "209901010200",
            "--timezone",
            "UTC+00:00",
            "--yes",
            &device,
        ])
        .await;
    assert_eq!(code, 4, "stdout: {out}\nstderr: {err}");
    assert!(err.contains("refused"), "{err}");
    assert!(err.contains("PAST_TIMESTAMP"), "{err}");
    assert!(err.contains("fileTransferTimestamp"), "{err}");
    assert_no_secret(&s, &err);
    assert_no_secret(&s, &out);
    // The request did reach the cloud (it is the cloud that refused), and changed nothing.
    assert!(s.sim.stats().api_requests > requests_before);
    assert_eq!(s.sim.stats().change_requests, 0);
    assert!(
        !s.sim
            .reservations()
            .iter()
            .any(|r| r["deviceId"] == device.as_str()),
        "{:?}",
        s.sim.reservations()
    );

    // The attempt and the cloud's answer are in the audit log, marked as not succeeded.
    let (code, out, err) = s.run(&["audit", "--json", "--device", &device]).await;
    assert_eq!(code, 0, "{err}");
    let entries = json(&out);
    assert_eq!(entries.as_array().unwrap().len(), 1, "{entries}");
    assert_eq!(entries[0]["action"], "schedule_firmware_update");
    assert_eq!(entries[0]["succeeded"], false, "{entries}");
    assert!(entries[0]["answer"].to_string().contains("PAST_TIMESTAMP"));
    assert_no_secret(&s, &out);
}

/// A well-formed group id of the simulator's other tenant: the token is valid, the cloud
/// answers 403 "group is not accessible for this user". Signing in again would not help, so
/// this is a refusal (4), not a sign-in failure (3).
#[tokio::test]
async fn a_group_the_user_cannot_see_exits_with_code_4() {
    let s = Setup::new(10, true).await;
    let other = s.sim.info().other_group_id.clone();
    for args in [
        vec!["devices", "--group", other.as_str()],
        vec!["summary", "--group", other.as_str()],
    ] {
        let (code, out, err) = s.run(&args).await;
        assert_eq!(code, 4, "{args:?}\nstdout: {out}\nstderr: {err}");
        assert!(err.contains("refused"), "{err}");
        assert!(err.contains("403"), "{err}");
        assert!(err.contains(&other), "the refusal names the group: {err}");
        assert!(!err.contains("rmm login"), "no sign-in advice: {err}");
        assert_no_secret(&s, &err);
    }
    assert_eq!(s.sim.stats().logins, 0);
}
