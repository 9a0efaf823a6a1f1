//! The token manager: keeps the current token in memory, hands every caller one that stays
//! valid for at least a margin, and when there is none runs exactly one refresh (the store
//! first, then a login) however many callers are waiting, giving all of them its result.
//!
//! A refused login (wrong password, locked account) is remembered and not tried again by
//! itself: only [`TokenManager::login_now`], which a person asks for, tries again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;

use crate::login::{Login, LoginError};
use crate::store::TokenStore;
use crate::token::AccessToken;

/// The outcome of one refresh, shared by every caller that waited for it.
type Outcome = Result<Arc<AccessToken>, Arc<LoginError>>;

struct RefreshState {
    last: Option<Outcome>,
    /// A refused login stays refused until a person asks again.
    refused: Option<Arc<LoginError>>,
}

struct Inner {
    current: RwLock<Option<Arc<AccessToken>>>,
    refresh: tokio::sync::Mutex<RefreshState>,
    /// Bumped each time a refresh finishes (under the `refresh` lock); a waiter that saw an
    /// older number takes the result of the refresh that finished while it waited instead of
    /// starting another.
    finished: AtomicU64,
    started: AtomicU64,
    login: Arc<dyn Login>,
    store: Option<Arc<dyn TokenStore>>,
    margin: Duration,
}

/// Hands out valid tokens; cheap to clone (all clones share one cache).
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

impl TokenManager {
    /// A manager that logs in with `login`, keeps tokens in `store` (if any), and treats a
    /// token as usable while it has at least `margin` left.
    pub fn new(
        login: Arc<dyn Login>,
        store: Option<Arc<dyn TokenStore>>,
        margin: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                current: RwLock::new(None),
                refresh: tokio::sync::Mutex::new(RefreshState {
                    last: None,
                    refused: None,
                }),
                finished: AtomicU64::new(0),
                started: AtomicU64::new(0),
                login,
                store,
                margin,
            }),
        }
    }

    /// The default margin: a token with less than a minute left is not handed out.
    pub const DEFAULT_MARGIN: Duration = Duration::from_secs(60);

    /// Puts `token` in the cache (e.g. one just captured or read at start-up).
    pub fn set_current(&self, token: AccessToken) {
        if let Ok(mut cur) = self.inner.current.write() {
            *cur = Some(Arc::new(token));
        }
    }

    /// Drops the cached token (sign-out): the next call reads the store or logs in again.
    pub fn forget(&self) {
        if let Ok(mut cur) = self.inner.current.write() {
            *cur = None;
        }
    }

    /// The cached token, valid or not, without refreshing.
    pub fn current(&self) -> Option<Arc<AccessToken>> {
        self.inner.current.read().ok().and_then(|c| c.clone())
    }

    /// How many logins this manager has started (for tests and status).
    pub fn logins_started(&self) -> u64 {
        self.inner.started.load(Ordering::SeqCst)
    }

    /// A token valid for at least the margin: the cached one, or the result of the one
    /// refresh that all concurrent callers share.
    pub async fn token(&self) -> Result<Arc<AccessToken>, Arc<LoginError>> {
        if let Some(t) = self.cached_valid() {
            return Ok(t);
        }
        self.refresh(None, false).await
    }

    /// The API refused `refused`: drop it and refresh once (callers that report the same
    /// token together share one refresh).
    pub async fn token_refused(
        &self,
        refused_jwt: &str,
    ) -> Result<Arc<AccessToken>, Arc<LoginError>> {
        self.refresh(Some(refused_jwt), false).await
    }

    /// A login a person asked for: clears a remembered refusal and logs in even when the
    /// cached token is still valid.
    pub async fn login_now(&self) -> Result<Arc<AccessToken>, Arc<LoginError>> {
        self.refresh(None, true).await
    }

    /// Refreshes in the background `ahead` of each expiry, so callers rarely wait. Stops when
    /// a login is refused or every clone of the manager is dropped.
    pub fn spawn_background_refresh(&self, ahead: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let ahead = ahead.max(self.inner.margin);
        tokio::spawn(async move {
            let mut backoff = Duration::from_secs(5);
            loop {
                let wait = {
                    let Some(inner) = weak.upgrade() else { return };
                    let cur = inner.current.read().ok().and_then(|c| c.clone());
                    match cur {
                        Some(t) => t
                            .remaining_at(SystemTime::now())
                            .map(|left| left.saturating_sub(ahead))
                            .unwrap_or_default(),
                        None => Duration::ZERO,
                    }
                };
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                let Some(inner) = weak.upgrade() else { return };
                let manager = TokenManager { inner };
                // Refresh now even though the token has `ahead` left: ask for a new one.
                let before = manager.current();
                let result = manager
                    .refresh(before.as_deref().map(AccessToken::expose_jwt), false)
                    .await;
                match result {
                    Ok(_) => backoff = Duration::from_secs(5),
                    Err(e) if e.is_refusal() => {
                        tracing::warn!(error = %e, "background refresh stopped: the login was refused");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, retry_in_secs = backoff.as_secs(), "background refresh failed");
                        drop(manager);
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(300));
                    }
                }
            }
        })
    }

    fn cached_valid(&self) -> Option<Arc<AccessToken>> {
        let cur = self.inner.current.read().ok()?;
        cur.as_ref()
            .filter(|t| t.is_valid_for(self.inner.margin, SystemTime::now()))
            .cloned()
    }

    async fn refresh(&self, refused_jwt: Option<&str>, asked_by_person: bool) -> Outcome {
        // How many refreshes had finished when this caller found no usable token: one that
        // finishes while it waits for the lock is its refresh too.
        let arrived = self.inner.finished.load(Ordering::SeqCst);
        let mut state = self.inner.refresh.lock().await;
        if !asked_by_person {
            if let Some(refusal) = &state.refused {
                return Err(refusal.clone());
            }
            if let Some(last) = &state.last
                && self.inner.finished.load(Ordering::SeqCst) > arrived
            {
                return last.clone();
            }
            // A token someone else put in the cache meanwhile, unless it is the refused one.
            if let Some(t) = self.cached_valid()
                && refused_jwt != Some(t.expose_jwt())
            {
                return Ok(t);
            }
        }
        let outcome = self.run_refresh(refused_jwt, asked_by_person).await;
        state.last = Some(outcome.clone());
        self.inner.finished.fetch_add(1, Ordering::SeqCst);
        match &outcome {
            Ok(_) => state.refused = None,
            Err(e) if e.is_refusal() => state.refused = Some(e.clone()),
            Err(_) => {}
        }
        outcome
    }

    async fn run_refresh(&self, refused_jwt: Option<&str>, asked_by_person: bool) -> Outcome {
        // Another process (`rmm login`, the desktop app) may have stored a newer token.
        if !asked_by_person
            && let Some(t) = self.load_stored().await
            && t.is_valid_for(self.inner.margin, SystemTime::now())
            && refused_jwt != Some(t.expose_jwt())
        {
            let t = Arc::new(t);
            self.put(t.clone());
            return Ok(t);
        }
        self.inner.started.fetch_add(1, Ordering::SeqCst);
        tracing::info!("logging in for a new token");
        let token = Arc::new(self.inner.login.login().await.map_err(Arc::new)?);
        if let Some(store) = self.inner.store.clone() {
            let to_save = token.clone();
            let saved = tokio::task::spawn_blocking(move || store.save_token(&to_save)).await;
            match saved {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(Arc::new(LoginError::Store(e))),
                Err(_) => return Err(Arc::new(LoginError::Internal("the store task failed"))),
            }
        }
        self.put(token.clone());
        Ok(token)
    }

    async fn load_stored(&self) -> Option<AccessToken> {
        let store = self.inner.store.clone()?;
        match tokio::task::spawn_blocking(move || store.load_token()).await {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot read the stored token");
                None
            }
            Err(_) => None,
        }
    }

    fn put(&self, token: Arc<AccessToken>) {
        if let Ok(mut cur) = self.inner.current.write() {
            *cur = Some(token);
        }
    }
}

impl rmm_api::TokenSource for TokenManager {
    fn token(&self) -> BoxFuture<'_, Result<rmm_api::BearerToken, rmm_api::TokenSourceError>> {
        Box::pin(async move { bearer(TokenManager::token(self).await) })
    }

    fn token_refused<'a>(
        &'a self,
        refused: &'a rmm_api::BearerToken,
    ) -> BoxFuture<'a, Result<rmm_api::BearerToken, rmm_api::TokenSourceError>> {
        Box::pin(
            async move { bearer(TokenManager::token_refused(self, refused.expose_secret()).await) },
        )
    }
}

fn bearer(outcome: Outcome) -> Result<rmm_api::BearerToken, rmm_api::TokenSourceError> {
    match outcome {
        Ok(t) => rmm_api::BearerToken::new(t.expose_jwt()).map_err(|e| {
            rmm_api::TokenSourceError::with_source(
                "the captured token cannot be sent as a header",
                e,
            )
        }),
        Err(e) => Err(rmm_api::TokenSourceError::new(e.to_string())),
    }
}
