//! End-to-end: `mcp-rmm --demo` signs in through its embedded login window. The test types
//! into the simulator's pages in that window; the captured token lands in the OS keyring and
//! the main window's header shows the demo user. The account is the one the demo's pages show:
//! nothing but the screen tells the test (or a newcomer) what to type. The remote pages of the login window cannot
//! call any app command. Screenshots of both windows go to tests/artifacts/.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use rmm_e2e::desktop::Desktop;
use rmm_e2e::webdriver::Session;
use rmm_e2e::{artifacts_dir, binaries, demo_sign_in};

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_signs_in_through_the_embedded_login_window() {
    let app = binaries::desktop_app().unwrap_or_else(|e| panic!("{e}"));
    let desktop = Desktop::start().unwrap_or_else(|e| panic!("{e}"));
    let session = Session::start_tauri_app(desktop.webdriver(), &app, &["--demo"])
        .await
        .unwrap_or_else(|e| panic!("the app did not start: {e}"));
    let (main, login) = demo_sign_in::open_login_window(&session).await.unwrap();
    let (username, password) = demo_sign_in::account_shown(&session).await.unwrap();

    // The Lock page, then Sharp-Start's form.
    demo_sign_in::enter_email(&session, &username)
        .await
        .unwrap();

    // A remote page gets no app command: no IPC at all, or an invoke that is refused.
    let ipc = session
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const t = window.__TAURI_INTERNALS__;
             if (!t || typeof t.invoke !== 'function') { done('absent'); return; }
             Promise.resolve().then(() => t.invoke('app_info'))
               .then(() => done('allowed'), (e) => done('refused: ' + String(e)));",
        )
        .await
        .unwrap();
    let ipc = ipc.as_str().unwrap_or_default().to_string();
    assert!(
        ipc == "absent" || ipc.starts_with("refused"),
        "a remote page could call app_info: {ipc}"
    );

    demo_sign_in::sharp_start_login(
        &session,
        &username,
        &password,
        Some(&artifacts_dir().join("desktop-login-window.png")),
    )
    .await
    .unwrap();

    // The window closes itself once the token is captured; the main window shows the user.
    session.switch_to_window(&main).await.unwrap();
    let shown = session
        .wait_for_text("[data-testid=\"session-user\"]", LIMIT, |t| t == username)
        .await;
    let shot = session
        .screenshot(&artifacts_dir().join("desktop-signed-in.png"))
        .await;
    shown.unwrap_or_else(|e| panic!("{e}"));
    shot.unwrap();
    let time_left = session
        .wait_for_text("[data-testid=\"session-time-left\"]", LIMIT, |t| {
            t.contains("left")
        })
        .await
        .unwrap();
    assert!(time_left.contains("min"), "{time_left}");
    let handles = session.window_handles().await.unwrap();
    assert!(!handles.contains(&login), "the login window is still open");
    // The whole fleet is in the grid.
    session
        .wait_for_text("[data-testid=\"fleet-count\"]", LIMIT, |t| {
            t.contains("250 devices")
        })
        .await
        .unwrap();
    // The header names the tenant as its admins know it (the id is in the tooltip).
    session
        .wait_for_text("[data-testid=\"session-tenant\"]", LIMIT, |t| {
            t == "Tenant Sharp Demo Fleet"
        })
        .await
        .unwrap();
    // At the default window size the columns an admin decides on are all in view, whole,
    // without scrolling sideways.
    let in_view = session
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const ids = [...document.querySelectorAll('.ag-header-row-column .ag-header-cell[col-id]')]
               .filter((h) => { const r = h.getBoundingClientRect(); return r.width > 0 && r.right <= window.innerWidth; })
               .map((h) => h.getAttribute('col-id'));
             done({ ids, width: window.innerWidth, height: window.innerHeight });",
        )
        .await
        .unwrap();
    let ids: Vec<&str> = in_view["ids"]
        .as_array()
        .map(|ids| ids.iter().filter_map(|id| id.as_str()).collect())
        .unwrap_or_default();
    for column in [
        "name",
        "model",
        "firmware",
        "latest",
        "update_status",
        "ota_mode",
        "ota_window",
        "connection",
    ] {
        assert!(
            ids.contains(&column),
            "column {column} is not in view at the default size: {in_view}"
        );
    }

    // The token is in the keyring under the demo profile.
    let found = desktop.keyring_items("mcp-rmm:demo").unwrap();
    assert!(
        found.contains("mcp-rmm:demo"),
        "no keyring item for the demo: {found:?}"
    );
    assert!(
        found.contains("token"),
        "no token item in the keyring: {found:?}"
    );

    session.close().await.unwrap();
}
