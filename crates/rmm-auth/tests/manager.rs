//! The token manager's rules without a browser: one refresh shared by concurrent callers
//! (its failure too), no automatic retry after a refusal, a person's login clears it, and a
//! refused token is replaced.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common {
    pub mod keys;
}

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::keys::{AUDIENCE, ISSUER, JwksServer, TestKey, claims};
use futures::future::BoxFuture;
use rmm_auth::{
    AccessToken, Login, LoginError, TokenManager, TokenOrigin, TokenValidator, ValidationRules,
};

/// Counts logins; answers with the scripted outcome after a short await point so that
/// concurrent callers really overlap.
struct Scripted {
    calls: AtomicUsize,
    outcome: Box<dyn Fn(usize) -> Result<AccessToken, LoginError> + Send + Sync>,
}

impl Login for Scripted {
    fn login(&self) -> BoxFuture<'_, Result<AccessToken, LoginError>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            (self.outcome)(n)
        })
    }
}

async fn tokens(n: usize) -> Vec<AccessToken> {
    let key = TestKey::generate("k");
    let server = JwksServer::start(vec![key.jwk.clone()]).await;
    let v = TokenValidator::new(ValidationRules {
        issuer: Some(ISSUER.into()),
        audience: Some(AUDIENCE.into()),
        jwks_url: Some(server.url.clone()),
        clock_skew: Duration::from_secs(30),
        issuer_guessed: false,
        issuer_hosts: Vec::new(),
    });
    let mut out = Vec::new();
    for i in 0..n {
        let mut c = claims();
        c["sub"] = format!("user-{i}").into();
        out.push(
            v.validate(&key.sign(&c), TokenOrigin::Pasted)
                .await
                .unwrap(),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_refresh_is_shared_by_every_waiter() {
    let login = Arc::new(Scripted {
        calls: AtomicUsize::new(0),
        outcome: Box::new(|_| {
            Err(LoginError::Step {
                step: "open the login page",
                detail: "unreachable".into(),
                screenshot: None,
            })
        }),
    });
    let m = TokenManager::new(login.clone(), None, TokenManager::DEFAULT_MARGIN);
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let m = m.clone();
            tokio::spawn(async move { m.token().await.is_err() })
        })
        .collect();
    for h in handles {
        assert!(h.await.unwrap());
    }
    // Waiters that queued behind a failing refresh take its result instead of another try;
    // callers arriving after it finished may start a new one, but never one each.
    let calls = login.calls.load(Ordering::SeqCst);
    assert!(calls < 20, "{calls} logins for 20 callers");
}

#[tokio::test]
async fn a_refusal_is_not_retried_until_a_person_logs_in() {
    let t = tokens(1).await.remove(0);
    let login = Arc::new(Scripted {
        calls: AtomicUsize::new(0),
        outcome: Box::new(move |n| {
            if n == 0 {
                Err(LoginError::Refused {
                    step: "Sharp-Start sign-in (DNN form)",
                    message: "Login Failed.".into(),
                })
            } else {
                Ok(t.clone())
            }
        }),
    });
    let m = TokenManager::new(login.clone(), None, TokenManager::DEFAULT_MARGIN);
    assert!(m.token().await.unwrap_err().is_refusal());
    assert!(m.token().await.unwrap_err().is_refusal());
    assert_eq!(login.calls.load(Ordering::SeqCst), 1);
    m.login_now().await.unwrap();
    assert_eq!(login.calls.load(Ordering::SeqCst), 2);
    m.token().await.unwrap();
    assert_eq!(
        login.calls.load(Ordering::SeqCst),
        2,
        "the cached token serves"
    );
}

#[tokio::test]
async fn a_refused_token_is_replaced_once() {
    let ts = tokens(2).await;
    let (first, second) = (ts[0].clone(), ts[1].clone());
    let login = Arc::new(Scripted {
        calls: AtomicUsize::new(0),
        outcome: Box::new(move |_| Ok(second.clone())),
    });
    let m = TokenManager::new(login.clone(), None, TokenManager::DEFAULT_MARGIN);
    m.set_current(first.clone());
    assert_eq!(m.token().await.unwrap().expose_jwt(), first.expose_jwt());
    let fresh = m.token_refused(first.expose_jwt()).await.unwrap();
    assert_ne!(fresh.expose_jwt(), first.expose_jwt());
    // A second report of the same old token takes the new one without another login.
    let again = m.token_refused(first.expose_jwt()).await.unwrap();
    assert_eq!(again.expose_jwt(), fresh.expose_jwt());
    assert_eq!(login.calls.load(Ordering::SeqCst), 1);
}

/// How long the tests below wait for the background task at most: an upper bound on an
/// event, not a speed target.
const PATIENCE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn the_background_refresh_replaces_the_token_before_it_expires() {
    let ts = tokens(2).await;
    let (first, second) = (ts[0].clone(), ts[1].clone());
    let login = Arc::new(Scripted {
        calls: AtomicUsize::new(0),
        outcome: Box::new(move |_| Ok(second.clone())),
    });
    let m = TokenManager::new(login.clone(), None, TokenManager::DEFAULT_MARGIN);
    m.set_current(first.clone());
    // Ask for a refresh one second before the token's remaining life runs below `ahead`.
    let left = first.remaining_at(std::time::SystemTime::now()).unwrap();
    let refresher = m.spawn_background_refresh(left.saturating_sub(Duration::from_secs(1)));
    let waited = tokio::time::timeout(PATIENCE, async {
        while login.calls.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    refresher.abort();
    assert!(waited.is_ok(), "no background refresh within {PATIENCE:?}");
    let calls = login.calls.load(Ordering::SeqCst);
    let now = m.token().await.unwrap();
    assert_ne!(
        now.expose_jwt(),
        first.expose_jwt(),
        "the old token is still served"
    );
    assert_eq!(
        login.calls.load(Ordering::SeqCst),
        calls,
        "a caller had to log in itself"
    );
}

#[tokio::test]
async fn the_background_refresh_stops_after_a_refused_login() {
    let first = tokens(1).await.remove(0);
    let login = Arc::new(Scripted {
        calls: AtomicUsize::new(0),
        outcome: Box::new(|_| {
            Err(LoginError::Refused {
                step: "Sharp-Start sign-in (DNN form)",
                message: "Login Failed.".into(),
            })
        }),
    });
    let m = TokenManager::new(login.clone(), None, TokenManager::DEFAULT_MARGIN);
    m.set_current(first.clone());
    let left = first.remaining_at(std::time::SystemTime::now()).unwrap();
    let refresher = m.spawn_background_refresh(left);
    let ended = tokio::time::timeout(PATIENCE, refresher).await;
    assert!(
        ended.is_ok(),
        "the background refresh went on after a refusal"
    );
    assert_eq!(login.calls.load(Ordering::SeqCst), 1, "it tried again");
}
