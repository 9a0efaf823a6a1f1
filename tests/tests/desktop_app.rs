//! End-to-end: the real `mcp-rmm --demo` binary starts under a virtual display, its window
//! shows the UI built from `ui/`, the UI reports the in-process simulator on loopback, and the
//! app's log file names the simulator without any of its secrets.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use rmm_e2e::desktop::Desktop;
use rmm_e2e::webdriver::Session;
use rmm_e2e::{artifacts_dir, binaries};

/// Generous: a cold debug build of WebKit takes a few seconds to paint on a busy 2-core machine.
const UI_LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_app_window_shows_the_ui_and_the_running_simulator() {
    let app = binaries::desktop_app().unwrap_or_else(|e| panic!("{e}"));
    let mut desktop = Desktop::start().unwrap_or_else(|e| panic!("{e}"));

    let session = Session::start_tauri_app(desktop.webdriver(), &app, &["--demo"])
        .await
        .unwrap_or_else(|e| panic!("the app did not start under {}: {e}", desktop.display()));

    let status = session
        .wait_for_text("[data-testid=\"demo-status\"]", UI_LIMIT, |text| {
            text.contains("Demo simulator running")
        })
        .await;
    // A picture of what a person would see, taken before any assertion can stop the test.
    let shot = artifacts_dir().join("desktop-demo.png");
    let png = session.screenshot(&shot).await;
    let status = status.unwrap_or_else(|e| panic!("{e}"));

    assert!(
        status.contains("http://127.0.0.1:"),
        "the status should name the simulator's loopback address: {status:?}"
    );
    let title = session
        .wait_for_text("[data-testid=\"app-title\"]", UI_LIMIT, |t| !t.is_empty())
        .await
        .unwrap();
    assert_eq!(title, "MCP-RMM");
    assert_eq!(session.title().await.unwrap(), "MCP-RMM");
    let png = png.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
    assert!(
        png.len() > 2_000,
        "the screenshot is suspiciously small: {} bytes",
        png.len()
    );

    desktop.ensure_running().unwrap();
    session.close().await.unwrap();

    assert_log_names_the_simulator_without_secrets(&desktop.data_home()).await;
}

/// The app logs into Tauri's log folder (`$XDG_DATA_HOME/<identifier>/logs` on Linux). The
/// simulator's secrets derive from its seed, so a simulator with the same default settings
/// here has the same password and subscription key as the app's.
async fn assert_log_names_the_simulator_without_secrets(data_home: &Path) {
    let log_dir = data_home.join("com.mcp-rmm.app").join("logs");
    let mut log = String::new();
    for entry in std::fs::read_dir(&log_dir)
        .unwrap_or_else(|e| panic!("no log folder at {}: {e}", log_dir.display()))
    {
        log.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    assert!(log.contains("demo simulator running"), "log: {log}");

    let twin = rmm_sim::start(rmm_sim::SimConfig::default()).await.unwrap();
    let info = twin.info();
    let password = info.password.clone();
    let subscription_key = info.subscription_key.clone();
    assert!(
        !password.is_empty() && !log.contains(&password),
        "the log holds the password"
    );
    assert!(
        !subscription_key.is_empty() && !log.contains(&subscription_key),
        "the log holds the subscription key"
    );
}
