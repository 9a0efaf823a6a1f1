//! `rmm sim` as a user starts it: the real binary, its one JSON line, its refusals of bad flags.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Kills the simulator when the test ends, pass or fail.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rmm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rmm"))
}

/// Starts `rmm sim` with `args` and `env`, and returns it with its one JSON line.
async fn start_sim(
    args: &[&str],
    env: &[(&str, &std::path::Path)],
) -> (Running, serde_json::Value) {
    let mut command = rmm();
    command
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut running = Running(command.spawn().unwrap());
    let stdout = running.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let info = serde_json::from_str(line.trim())
        .unwrap_or_else(|error| panic!("not one JSON line ({error}): {line:?}"));
    (running, info)
}

#[tokio::test]
async fn with_a_profile_it_records_the_details_and_keeps_secrets_out_of_the_settings_file() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config");
    let secrets = home.path().join("secrets.json");
    let (_running, info) = start_sim(
        &["sim", "--devices", "5", "--profile", "demo"],
        &[("RMM_CONFIG_DIR", &config), ("TOKEN_FILE", &secrets)],
    )
    .await;

    let settings = std::fs::read_to_string(
        std::fs::read_dir(&config)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .find(|path| path.is_file())
            .expect("a settings file"),
    )
    .unwrap();
    assert!(settings.contains("demo"), "{settings}");
    assert!(
        settings.contains(info["api_base_url"].as_str().unwrap()),
        "{settings}"
    );
    assert!(
        settings.contains(info["login_url"].as_str().unwrap()),
        "{settings}"
    );
    for secret in ["password", "subscription_key"] {
        let value = info[secret].as_str().unwrap();
        assert!(
            !settings.contains(value),
            "the settings file holds the {secret}"
        );
    }
    // The secrets went to the store the user chose (here the explicit file store).
    let store = std::fs::read_to_string(&secrets).unwrap();
    assert!(store.contains(info["subscription_key"].as_str().unwrap()));
}

#[test]
fn a_bad_profile_name_is_refused_before_anything_starts() {
    let output = rmm()
        .args(["sim", "--profile", "no/slashes"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("profile"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[tokio::test]
async fn prints_one_json_line_with_the_connection_details_then_serves() {
    let child = rmm()
        .args(["sim", "--devices", "40", "--seed", "7"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let stdout = running.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let info: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON line");
    for key in [
        "login_url",
        "dashboard_url",
        "api_base_url",
        "jwks_url",
        "username",
        "password",
        "subscription_key",
        "group_id",
    ] {
        let value = info[key].as_str().unwrap_or_default();
        assert!(!value.is_empty(), "{key} missing from {line}");
    }
    assert_eq!(info["devices"], 40);
    for key in ["login_url", "dashboard_url", "api_base_url", "jwks_url"] {
        assert!(
            info[key].as_str().unwrap().starts_with("http://127.0.0.1:"),
            "{key} must be on loopback: {}",
            info[key]
        );
    }

    // It serves: the JWKS has a key, and the API refuses a call without credentials.
    let http = reqwest::Client::new();
    let jwks: serde_json::Value = http
        .get(info["jwks_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    let refused = http
        .get(format!(
            "{}/api/v1/tenants",
            info["api_base_url"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
}

#[test]
fn bad_flags_are_refused_with_the_flag_named_and_exit_code_2() {
    for (args, named) in [
        (vec!["sim", "--devices", "0"], "--devices"),
        (vec!["sim", "--devices", "100001"], "--devices"),
        (vec!["sim", "--failure-share", "1.5"], "--failure-share"),
        (vec!["sim", "--port", "65534"], "--port"),
        (vec!["sim", "--token-ttl", "0"], "--token-ttl"),
        (vec!["sim", "--mode", "strict,bogus"], "--mode"),
    ] {
        let output = rmm().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(named), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?} printed on stdout");
    }
}

#[tokio::test]
async fn modes_from_the_flag_and_the_environment_add_up_and_can_be_read_back() {
    let home = tempfile::tempdir().unwrap();
    let (_running, info) = start_sim(
        &["sim", "--devices", "5", "--mode", "refusals-200"],
        &[
            ("RMM_CONFIG_DIR", home.path()),
            ("RMM_SIM_MODE", std::path::Path::new("odd-device-ids")),
        ],
    )
    .await;
    let modes: serde_json::Value =
        reqwest::get(format!("{}/modes", info["control_url"].as_str().unwrap()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(modes["refusalsAs200"], true, "{modes}");
    assert_eq!(modes["oddDeviceIds"], true, "{modes}");
    assert_eq!(modes["shuffledOrder"], false, "{modes}");
}
