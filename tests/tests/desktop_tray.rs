//! End-to-end: with the MCP endpoint on, closing the main window keeps the app in the tray.
//! A stand-in tray host (`org.kde.StatusNotifierWatcher` on the desktop's bus) runs before
//! `mcp-rmm --demo` starts, so the app shows its tray icon there. The person signs in, turns
//! the endpoint on and presses the window's close button (`WM_DELETE_WINDOW`, as a window
//! manager sends it): the window is hidden, the app keeps running and agents are still
//! served. "Show MCP-RMM" in the tray menu brings the window back; "Quit" ends the app, which
//! removes its MCP socket. Where no tray host exists (no StatusNotifier watcher, as on a bare
//! X server), a hidden window could never come back, so closing it quits even with the
//! endpoint on.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rmcp::ServiceExt as _;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmm_e2e::desktop::Desktop;
use rmm_e2e::tray_host::TrayHost;
use rmm_e2e::webdriver::Session;
use rmm_e2e::x11_windows::X11Windows;
use rmm_e2e::{binaries, demo_app, demo_sign_in};

const LIMIT: Duration = Duration::from_secs(60);
/// The main window's title (tauri.conf.json).
const MAIN_WINDOW: &str = "MCP-RMM";

#[tokio::test(flavor = "multi_thread")]
async fn with_the_endpoint_on_closing_keeps_the_app_in_the_tray_until_quit() {
    let mut desktop = Desktop::start().unwrap_or_else(|e| panic!("{e}"));
    let tray = TrayHost::start(&desktop.bus_address().unwrap())
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let (session, endpoint, socket) = start_with_endpoint(&desktop).await;
    let item = tray.wait_for_item(LIMIT).await.unwrap();
    let labels: Vec<String> = tray
        .menu(&item)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.label)
        .collect();
    assert_eq!(labels, ["Show MCP-RMM", "Quit"], "the tray menu");

    // The close button: the window goes, the app and its endpoint stay.
    let windows = X11Windows::connect(desktop.display()).unwrap();
    let main = windows.find(MAIN_WINDOW).unwrap();
    assert!(windows.is_shown(main).unwrap(), "the main window is shown");
    windows.request_close(main).unwrap();
    wait_until("the main window is hidden", || async {
        match windows.is_shown(main) {
            Ok(shown) => !shown,
            Err(e) => panic!("the main window went away instead of hiding: {e}"),
        }
    })
    .await;
    desktop.ensure_running().unwrap();
    assert!(tray.is_connected(&item).await.unwrap(), "the app quit");
    let tools = tool_names(&endpoint.url, &endpoint.secret).await;
    assert!(
        tools.iter().any(|name| name == "list_devices"),
        "an agent is still served with the window closed: {tools:?}"
    );
    assert!(socket.exists(), "the MCP socket is still there");

    // Show brings the same window back, still answering.
    tray.press(&item, "Show MCP-RMM").await.unwrap();
    wait_until("the main window is shown again", || async {
        windows.is_shown(main).unwrap()
    })
    .await;
    assert_eq!(session.title().await.unwrap(), MAIN_WINDOW);

    // Quit ends the app, which closes its endpoint and removes its socket.
    tray.press(&item, "Quit").await.unwrap();
    wait_until("the app has quit", || async {
        !tray.is_connected(&item).await.unwrap()
    })
    .await;
    wait_until("the MCP socket is removed", || async { !socket.exists() }).await;
    let _ = session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_tray_closing_quits_even_with_the_endpoint_on() {
    let desktop = Desktop::start().unwrap_or_else(|e| panic!("{e}"));
    let (session, _endpoint, socket) = start_with_endpoint(&desktop).await;

    let windows = X11Windows::connect(desktop.display()).unwrap();
    let main = windows.find(MAIN_WINDOW).unwrap();
    windows.request_close(main).unwrap();
    wait_until("the main window is closed", || async {
        windows.find(MAIN_WINDOW).is_err()
    })
    .await;
    wait_until("the app has quit and removed its MCP socket", || async {
        !socket.exists()
    })
    .await;
    let _ = session.close().await;
}

/// Starts `mcp-rmm --demo` on `desktop`, signs in and turns the MCP endpoint on; returns the
/// WebDriver session, the endpoint and the app's MCP socket.
async fn start_with_endpoint(desktop: &Desktop) -> (Session, demo_app::AgentEndpoint, PathBuf) {
    let app = binaries::desktop_app().unwrap_or_else(|e| panic!("{e}"));
    let session = demo_sign_in::start_signed_in(desktop.webdriver(), &app)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .session;
    let endpoint = demo_app::turn_on_endpoint(&session)
        .await
        .unwrap_or_else(|e| panic!("turning the endpoint on: {e}"));
    let socket = only_socket(desktop.runtime_dir().join("mcp-rmm"));
    (session, endpoint, socket)
}

/// The one socket the app made in `dir`.
fn only_socket(dir: PathBuf) -> PathBuf {
    let sockets: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the app made no {}: {e}", dir.display()))
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sock"))
        .collect();
    assert_eq!(
        sockets.len(),
        1,
        "sockets in {}: {sockets:?}",
        dir.display()
    );
    sockets.into_iter().next().unwrap()
}

/// The tools an agent connecting to the endpoint is offered.
async fn tool_names(url: &str, secret: &str) -> Vec<String> {
    let agent = ()
        .serve(StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(url.to_owned()).auth_header(secret),
        ))
        .await
        .unwrap_or_else(|e| panic!("an agent cannot connect to {url}: {e}"));
    let tools = agent.list_all_tools().await.unwrap();
    let _ = agent.cancel().await;
    tools
        .into_iter()
        .map(|tool| tool.name.into_owned())
        .collect()
}

async fn wait_until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + LIMIT;
    while !condition().await {
        if Instant::now() > deadline {
            panic!("{what}: not within {LIMIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
