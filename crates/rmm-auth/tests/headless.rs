//! Headless capture with real Chromium against the simulator: success, a refused password
//! (no second attempt), a silent second login, and one login for 20 concurrent callers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common {
    pub mod sim;
}

use std::sync::Arc;

use common::sim::{headless, start_sim};
use rmm_auth::{FileStore, LoginError, TokenManager, TokenOrigin, TokenStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_capture_gets_a_working_token() {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let login = headless(&sim, dir.path(), Some(&sim.info().password.clone()));
    let token = login.run().await.unwrap();
    assert_eq!(
        token.claims().email.as_deref(),
        Some(sim.info().username.as_str())
    );
    assert_eq!(
        token.claims().tenant_id.as_deref(),
        Some(sim.info().group_id.as_str())
    );
    assert_eq!(token.origin(), TokenOrigin::HeadlessBrowser);
    let stats = sim.stats();
    assert_eq!(stats.password_logins, 1);
    assert_eq!(stats.logins, 1);
    let figures = login.last_figures();
    assert!(figures.used_password);
    assert!(figures.page_loads >= 3, "{figures:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_fails_with_the_idps_message_and_is_not_retried() {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let login = Arc::new(headless(&sim, dir.path(), Some("Wrong-password-1")));
    let manager = TokenManager::new(login, None, TokenManager::DEFAULT_MARGIN);
    let err = manager.token().await.unwrap_err();
    match &*err {
        LoginError::Refused { step, message } => {
            assert!(step.contains("DNN"), "{step}");
            assert!(message.contains("Login Failed"), "{message}");
        }
        other => panic!("expected a refusal, got {other}"),
    }
    assert!(!err.to_string().contains("Wrong-password-1"));
    // Asking again gives the same refusal without another try at the IdP.
    let again = manager.token().await.unwrap_err();
    assert!(again.is_refusal());
    assert_eq!(manager.logins_started(), 1);
    assert_eq!(sim.stats().failed_logins, 1);
    assert_eq!(sim.stats().logins, 0);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_login_inside_the_idp_session_needs_no_password() {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let first = headless(&sim, dir.path(), Some(&sim.info().password.clone()));
    first.run().await.unwrap();
    // Same Chromium profile folder, no password at all: only the session can sign in.
    let second = headless(&sim, dir.path(), None);
    let token = second.run().await.unwrap();
    assert_eq!(
        token.claims().email.as_deref(),
        Some(sim.info().username.as_str())
    );
    let stats = sim.stats();
    assert_eq!(stats.password_logins, 1);
    assert_eq!(stats.silent_logins, 1);
    assert!(!second.last_figures().used_password);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_callers_with_an_expired_token_cause_one_login() {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    // The stored token expired a minute ago.
    let expired = sim.mint_token(&rmm_sim::TokenSpec {
        ttl_secs: -60,
        ..Default::default()
    });
    let token_file = dir.path().join("token.json");
    std::fs::write(
        &token_file,
        serde_json::json!({"token": {"jwt": expired, "origin": "headless-browser"}}).to_string(),
    )
    .unwrap();
    let store: Arc<dyn TokenStore> = Arc::new(FileStore::new(&token_file));
    let login = Arc::new(headless(
        &sim,
        dir.path(),
        Some(&sim.info().password.clone()),
    ));
    let manager = TokenManager::new(login, Some(store.clone()), TokenManager::DEFAULT_MARGIN);

    let callers: Vec<_> = (0..20)
        .map(|_| {
            let m = manager.clone();
            tokio::spawn(async move { m.token().await.map(|t| t.expose_jwt().to_owned()) })
        })
        .collect();
    let mut jwts = Vec::new();
    for c in callers {
        jwts.push(c.await.unwrap().unwrap());
    }
    assert!(
        jwts.iter().all(|j| j == &jwts[0]),
        "all callers get the same token"
    );
    assert_ne!(jwts[0], expired);
    assert_eq!(sim.stats().logins, 1, "exactly one login for 20 callers");
    assert_eq!(manager.logins_started(), 1);
    // The new token replaced the expired one in the store.
    let stored = store.load_token().unwrap().unwrap();
    assert_eq!(stored.expose_jwt(), jwts[0]);
    sim.shutdown().await;
}

/// `rmm login --browser`: the same capture in a visible Chromium window, for sign-ins that need
/// a person. Here nobody is needed (the simulator asks no MFA), so the steps run as headless.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visible_browser_captures_the_same_way() {
    let display = std::env::var("DISPLAY").unwrap_or_default();
    assert!(
        !display.is_empty(),
        "this test opens a real window: run it with a display (scripts/test-all starts Xvfb)"
    );
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config =
        common::sim::login_config(&sim, dir.path(), Some(&sim.info().password.clone()));
    config.mode = rmm_auth::BrowserMode::Visible;
    let login = rmm_auth::HeadlessLogin::new(config, common::sim::validator(&sim));
    let token = login.run().await.unwrap();
    assert_eq!(token.origin(), TokenOrigin::VisibleBrowser);
    assert_eq!(
        token.claims().email.as_deref(),
        Some(sim.info().username.as_str())
    );
    assert_eq!(sim.stats().password_logins, 1);
    sim.shutdown().await;
}
