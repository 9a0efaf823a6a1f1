//! End-to-end: one app at a time. With `mcp-rmm --demo` running under WebDriver, launching the
//! same binary again on the same desktop (display, session bus, XDG folders) hands over to the
//! running app, which logs that it brings its window forward, and the second process exits
//! with status 0 within a few seconds, while the first keeps answering WebDriver.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rmm_e2e::binaries;
use rmm_e2e::desktop::Desktop;
use rmm_e2e::webdriver::Session;

const UI_LIMIT: Duration = Duration::from_secs(60);
/// The second launch only asks the first over D-Bus; a few seconds is generous.
const SECOND_LAUNCH_LIMIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread")]
async fn a_second_launch_hands_over_to_the_running_app_and_exits() {
    let app = binaries::desktop_app().unwrap_or_else(|e| panic!("{e}"));
    let mut desktop = Desktop::start().unwrap_or_else(|e| panic!("{e}"));

    let session = Session::start_tauri_app(desktop.webdriver(), &app, &["--demo"])
        .await
        .unwrap_or_else(|e| panic!("the app did not start under {}: {e}", desktop.display()));
    session
        .wait_for_text("[data-testid=\"app-title\"]", UI_LIMIT, |t| t == "MCP-RMM")
        .await
        .unwrap_or_else(|e| panic!("the first app did not show its UI: {e}"));

    // The same desktop as the first app: Desktop keeps its XDG folders next to the data one.
    let data_home = desktop.data_home();
    let home = data_home.parent().unwrap().to_path_buf();
    let mut second = Command::new(&app);
    second
        .arg("--demo")
        .env("DISPLAY", desktop.display())
        .env("DBUS_SESSION_BUS_ADDRESS", desktop.bus_address().unwrap())
        .env("XDG_DATA_HOME", &data_home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_RUNTIME_DIR", home.join("runtime"))
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let mut second = second.spawn().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > SECOND_LAUNCH_LIMIT {
            let _ = second.kill();
            let _ = second.wait();
            panic!("the second launch was still running after {SECOND_LAUNCH_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "the second launch should exit with status 0: {status}"
    );
    eprintln!("the second launch exited after {:?}", started.elapsed());

    // The first app got the hand-over and is still alive and answering.
    wait_for_log(&data_home, "launched again", UI_LIMIT).await;
    desktop.ensure_running().unwrap();
    assert_eq!(session.title().await.unwrap(), "MCP-RMM");
    let title = session
        .wait_for_text("[data-testid=\"app-title\"]", UI_LIMIT, |t| !t.is_empty())
        .await
        .unwrap();
    assert_eq!(title, "MCP-RMM");
    session.close().await.unwrap();
}

/// Waits until the app's log (`$XDG_DATA_HOME/<identifier>/logs`) holds `needle`.
async fn wait_for_log(data_home: &Path, needle: &str, limit: Duration) {
    let log_dir = data_home.join("com.mcp-rmm.app").join("logs");
    let deadline = Instant::now() + limit;
    loop {
        let mut log = String::new();
        if let Ok(entries) = std::fs::read_dir(&log_dir) {
            for entry in entries.flatten() {
                log.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
        if log.contains(needle) {
            return;
        }
        if Instant::now() > deadline {
            panic!("the running app's log never said {needle:?}: {log}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
