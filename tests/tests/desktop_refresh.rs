//! End-to-end: Refresh in the header of `mcp-rmm --demo`. While the identity provider's session
//! lasts, the login window opens hidden and a fresh token replaces the old one in the keyring,
//! with no window shown to the person. Once the sessions have ended (the simulator's
//! `/__sim/sessions/end`), the silent attempt cannot finish: the header asks to sign in again,
//! the token held so far stays, and Sign in again opens the login window for the person.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rmm_e2e::demo_app::{control_url, script, testid};
use rmm_e2e::desktop::Desktop;
use rmm_e2e::webdriver::Session;
use rmm_e2e::x11_windows::X11Windows;
use rmm_e2e::{artifacts_dir, binaries, demo_sign_in};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(60);
/// The silent attempt's own limit is 30 s (session.rs); then the header asks.
const SILENT_FAILURE_LIMIT: Duration = Duration::from_secs(90);
const KEYRING_SERVICE: &str = "mcp-rmm:demo";
const LOGIN_WINDOW: &str = "Sign in — MCP-RMM";

#[tokio::test(flavor = "multi_thread")]
async fn refresh_is_silent_while_the_idp_session_lasts_and_asks_to_sign_in_again_after() {
    let app = binaries::desktop_app().unwrap_or_else(|e| panic!("{e}"));
    let desktop = Desktop::start().unwrap_or_else(|e| panic!("{e}"));
    let demo = demo_sign_in::start_signed_in(desktop.webdriver(), &app)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (session, username, password) = (demo.session, demo.username, demo.password);
    let control = control_url(&session).await.unwrap();
    let windows = X11Windows::connect(desktop.display()).unwrap();
    let token = || desktop.keyring_secret(KEYRING_SERVICE, "token").unwrap();
    let first = token();
    assert!(!first.is_empty(), "no token in the keyring after sign-in");
    let silent_before = silent_logins(&control).await;

    // Refresh while the IdP session lasts: a new token, and no window shown meanwhile.
    click(&session, "session-refresh").await;
    let shown = watch_windows(&windows, LIMIT, || {
        let now = token();
        !now.is_empty() && now != first
    })
    .await;
    assert_eq!(
        shown,
        BTreeSet::from(["MCP-RMM".to_owned()]),
        "only the main window is shown during a silent refresh"
    );
    assert_eq!(silent_logins(&control).await, silent_before + 1);
    session
        .wait_for_text(&testid("session-refresh"), LIMIT, |t| t == "Refresh")
        .await
        .unwrap();
    session
        .wait_for_text(&testid("session-user"), LIMIT, |t| t == username)
        .await
        .unwrap();
    let second = token();

    // The sessions end: the silent attempt cannot finish, and the header asks the person.
    let ended = reqwest::Client::new()
        .post(format!("{control}/sessions/end"))
        .send()
        .await
        .unwrap();
    assert!(
        ended.status().is_success(),
        "ending the sessions: {ended:?}"
    );
    click(&session, "session-refresh").await;
    let error = session
        .wait_for_text(&testid("session-error"), SILENT_FAILURE_LIMIT, |t| {
            t.contains("sign in again")
        })
        .await
        .unwrap();
    assert!(error.contains("refreshed silently"), "{error}");
    session
        .screenshot(&artifacts_dir().join("refresh-sign-in-again.png"))
        .await
        .unwrap();
    assert!(
        !windows
            .shown_titles()
            .unwrap()
            .iter()
            .any(|t| t == LOGIN_WINDOW),
        "the failed silent attempt left its window on screen"
    );
    assert!(
        token() == second,
        "the failed refresh changed the kept token"
    );
    // The person stays signed in with the token held so far.
    session
        .wait_for_text(&testid("session-user"), LIMIT, |t| t == username)
        .await
        .unwrap();

    // Sign in again: the login window is the person's to fill in this time.
    let (main, _login) = demo_sign_in::open_login_window_with(&session, "session-sign-in-again")
        .await
        .unwrap();
    assert!(
        windows
            .shown_titles()
            .unwrap()
            .iter()
            .any(|t| t == LOGIN_WINDOW),
        "Sign in again shows the login window"
    );
    demo_sign_in::enter_email(&session, &username)
        .await
        .unwrap();
    demo_sign_in::sharp_start_login(&session, &username, &password, None)
        .await
        .unwrap();
    session.switch_to_window(&main).await.unwrap();
    wait_for(LIMIT, || {
        let now = token();
        !now.is_empty() && now != second
    })
    .await;
    let deadline = Instant::now() + LIMIT;
    while script(
        &session,
        "done(document.querySelector('[data-testid=\"session-sign-in-again\"]') !== null);",
    )
    .await
    .unwrap()
        == Value::Bool(true)
    {
        assert!(Instant::now() < deadline, "Sign in again is still offered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    session.close().await.unwrap();
}

async fn click(session: &Session, id: &str) {
    let button = session.wait_for(&testid(id), LIMIT).await.unwrap();
    session.click(&button).await.unwrap();
}

async fn silent_logins(control: &str) -> u64 {
    let stats: Value = reqwest::get(format!("{control}/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["silentLogins"].as_u64().unwrap()
}

/// Waits until `done`, noting the title of every window shown meanwhile.
async fn watch_windows(
    windows: &X11Windows,
    limit: Duration,
    mut done: impl FnMut() -> bool,
) -> BTreeSet<String> {
    let deadline = Instant::now() + limit;
    let mut shown = BTreeSet::new();
    loop {
        shown.extend(windows.shown_titles().unwrap());
        if done() {
            return shown;
        }
        if Instant::now() > deadline {
            panic!("not done within {limit:?}; windows shown: {shown:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() > deadline {
            panic!("not within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
