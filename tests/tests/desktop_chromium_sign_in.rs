//! End-to-end: "Sign in with Chromium" in `mcp-rmm --demo`, the fallback for sign-in pages that
//! refuse embedded webviews. rmm-auth opens a visible Chromium on the test's X display, walks the
//! simulator's login pages, and captures the token; the header shows the demo user and the token
//! is in the keyring, with no login window of the app opened.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use rmm_e2e::demo_app::testid;
use rmm_e2e::desktop::Desktop;
use rmm_e2e::webdriver::Session;
use rmm_e2e::{artifacts_dir, binaries, demo_sign_in};

const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_signs_in_through_a_visible_chromium() {
    if chromium_on_path().is_none() {
        panic!("no Chromium on this machine (chromium or chromium-browser on PATH)");
    }
    let app = binaries::desktop_app().unwrap_or_else(|e| panic!("{e}"));
    let desktop = Desktop::start().unwrap_or_else(|e| panic!("{e}"));
    let (username, _) = demo_sign_in::demo_credentials().await.unwrap();
    let session = Session::start_tauri_app(desktop.webdriver(), &app, &["--demo"])
        .await
        .unwrap_or_else(|e| panic!("the app did not start: {e}"));
    let main = session.window_handle().await.unwrap();

    let button = session
        .wait_for(&testid("session-sign-in-chromium"), LIMIT)
        .await
        .unwrap();
    session.click(&button).await.unwrap();
    let shown = session
        .wait_for_text(&testid("session-user"), LIMIT, |t| t == username)
        .await;
    let _ = session
        .screenshot(&artifacts_dir().join("desktop-chromium-signed-in.png"))
        .await;
    if let Err(e) = shown {
        let error = session
            .wait_for_text(&testid("session-error"), Duration::from_secs(1), |_| true)
            .await
            .unwrap_or_default();
        panic!("not signed in through Chromium: {e}; the header said: {error}");
    }
    assert_eq!(
        session.window_handles().await.unwrap(),
        vec![main],
        "the app's own login window was opened"
    );

    let found = desktop.keyring_items("mcp-rmm:demo").unwrap();
    assert!(
        found.contains("token"),
        "no token in the keyring: {found:?}"
    );
    session.close().await.unwrap();
}

fn chromium_on_path() -> Option<std::path::PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|p| p.is_file())
            })
        })
}
