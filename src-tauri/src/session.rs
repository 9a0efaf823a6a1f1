//! Who is signed in: the `session_status`, `sign_in` and `sign_out` commands. They translate
//! to rmm-auth only: the login window's captured token is checked by `TokenValidator` and kept
//! in the profile's `TokenStore` (the OS keyring); the UI gets the user, tenant and expiry,
//! never the token.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rmm_auth::{AccessToken, KeyringStore, TokenManager, TokenOrigin, TokenStore, TokenValidator};
use serde::Serialize;
use tauri::{AppHandle, State};
use url::Url;

use crate::active_profile::ActiveProfile;
use crate::command_error::{CommandError, ErrorCode};
use crate::login_window;

/// The profile the app signs in with: where its login page is, which origin is its API, and
/// how its tokens are checked and kept.
pub struct SignInProfile {
    pub name: String,
    pub login_url: Url,
    pub api_origin: String,
    /// The origins of the pages that may hand a token over in the login window (the login
    /// page's, the dashboard's); never empty (`login_window::expected_origins`).
    pub handover_origins: Vec<String>,
    /// The user the profile is for; a token of another user is refused.
    pub username: Option<String>,
    pub validator: Arc<TokenValidator>,
    pub store: Arc<dyn TokenStore>,
    /// The settings file that holds the profile, where a profile without an audience learns
    /// it at its first sign-in (`rmm_core::settings::learn_audience`); none for the demo.
    pub settings_path: Option<std::path::PathBuf>,
}

/// What the header shows about the sign-in (no secret).
#[derive(Debug, Clone, Default, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// The profile's name, when one is set up.
    pub profile: Option<String>,
    /// Whether a valid token is held.
    pub signed_in: bool,
    /// The user's email.
    pub user: Option<String>,
    /// The tenant (group) id.
    pub tenant: Option<String>,
    /// When the token expires, in Unix seconds.
    pub expires_at: Option<f64>,
    /// Whether the login window is open and waiting.
    pub signing_in: bool,
    /// Why the last sign-in failed, if it did.
    pub last_error: Option<CommandError>,
}

/// The sign-in state shared with the commands.
pub struct SessionState {
    profile: Option<Arc<SignInProfile>>,
    info: Mutex<SessionInfo>,
    /// The fleet operations' token manager: told of each sign-in and sign-out, so that the
    /// next call uses the new token at once.
    tokens: Option<TokenManager>,
    /// Counts the opened sign-ins, so that a silent refresh's time limit only ends its own
    /// attempt, not a later one the person started.
    attempts: AtomicU64,
}

/// How long a silent refresh may take before the person is asked to sign in again.
const SILENT_REFRESH_LIMIT: Duration = Duration::from_secs(30);

impl SessionState {
    pub fn new(profile: Option<SignInProfile>, tokens: Option<TokenManager>) -> Self {
        let info = SessionInfo {
            profile: profile.as_ref().map(|p| p.name.clone()),
            ..SessionInfo::default()
        };
        Self {
            profile: profile.map(Arc::new),
            info: Mutex::new(info),
            tokens,
            attempts: AtomicU64::new(0),
        }
    }

    /// Who the person at the app is, for the audit log: the signed-in user, else the OS user.
    pub fn person_name(&self) -> String {
        self.snapshot()
            .user
            .or_else(rmm_core::Caller::os_user_name)
            .unwrap_or_else(|| "the app's user".to_owned())
    }

    /// The profile signed in with, if any.
    #[cfg(test)]
    pub fn profile_name(&self) -> Option<String> {
        self.profile.as_ref().map(|p| p.name.clone())
    }

    pub fn snapshot(&self) -> SessionInfo {
        self.info
            .lock()
            .map(|info| info.clone())
            .unwrap_or_default()
    }

    fn update(&self, change: impl FnOnce(&mut SessionInfo)) -> SessionInfo {
        match self.info.lock() {
            Ok(mut info) => {
                change(&mut info);
                info.clone()
            }
            Err(_) => SessionInfo::default(),
        }
    }

    fn profile(&self) -> Result<Arc<SignInProfile>, CommandError> {
        self.profile.clone().ok_or_else(|| {
            CommandError::new(
                ErrorCode::NoProfile,
                "no profile to sign in with: start the demo or set up a profile",
            )
        })
    }

    /// Takes a still valid token the keyring holds from an earlier run.
    pub async fn load_saved(&self) {
        let Ok(profile) = self.profile() else { return };
        let store = profile.store.clone();
        let loaded = tokio::task::spawn_blocking(move || store.load_token()).await;
        match loaded {
            Ok(Ok(Some(token))) if token.is_valid_for(Duration::ZERO, SystemTime::now()) => {
                self.update(|info| show_token(info, &token));
            }
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "cannot read the saved token"),
            Err(error) => tracing::warn!(%error, "reading the saved token stopped"),
        }
    }

    /// Checks and keeps a token the login window captured.
    async fn accept(&self, jwt: String) -> Result<SessionInfo, CommandError> {
        let profile = self.profile()?;
        let token = profile
            .validator
            .validate(&jwt, TokenOrigin::EmbeddedWebview)
            .await
            .map_err(|e| CommandError::new(ErrorCode::TokenRejected, e.to_string()))?;
        check_identity(&token, profile.username.as_deref())?;
        self.keep(token, "the login window").await
    }

    /// Keeps a checked token in the keyring and shows who signed in; `how` is for the log.
    pub async fn keep(&self, token: AccessToken, how: &str) -> Result<SessionInfo, CommandError> {
        let profile = self.profile()?;
        if let Some(path) = profile.settings_path.clone() {
            let (name, audiences) = (profile.name.clone(), token.claims().audiences());
            let check = tokio::task::spawn_blocking(move || {
                rmm_core::settings::learn_audience(&path, &name, &audiences)
            })
            .await
            .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))??;
            if let Some(refusal) = check.refusal() {
                return Err(CommandError::new(ErrorCode::TokenRejected, refusal));
            }
            // An issuer learned from the token's discovery document is pinned from now on.
            if let (Some(learned), Some(path)) = (
                profile.validator.learned_issuer().await,
                profile.settings_path.clone(),
            ) {
                let name = profile.name.clone();
                tokio::task::spawn_blocking(move || {
                    rmm_core::settings::pin_issuer(&path, &name, &learned)
                })
                .await
                .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))??;
            }
        }
        let store = profile.store.clone();
        let kept = token.clone();
        tokio::task::spawn_blocking(move || store.save_token(&kept))
            .await
            .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))??;
        if let Some(tokens) = &self.tokens {
            tokens.set_current(token.clone());
        }
        tracing::info!(profile = %profile.name, through = how, "signed in");
        Ok(self.update(|info| show_token(info, &token)))
    }
}

impl SessionState {
    /// A sign-in outside the login window has started (`sign_in_with_chromium`).
    pub fn started_signing_in(&self) -> SessionInfo {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        self.update(|info| {
            info.signing_in = true;
            info.last_error = None;
        })
    }

    /// A sign-in in the login window has started; returns the attempt's number.
    fn started_login_window(&self) -> (u64, SessionInfo) {
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        let info = self.update(|info| {
            info.signing_in = true;
            info.last_error = None;
        });
        (attempt, info)
    }

    /// A silent refresh ran out of time: if `attempt` is still the latest and still waiting,
    /// it ends, and the header asks the person to sign in again (the token held so far stays).
    /// Returns whether it ended.
    fn silent_refresh_timed_out(&self, attempt: u64) -> bool {
        if self.attempts.load(Ordering::SeqCst) != attempt || !self.snapshot().signing_in {
            return false;
        }
        self.sign_in_failed(CommandError::new(
            ErrorCode::SignInNeeded,
            "the session could not be refreshed silently: sign in again",
        ));
        true
    }

    /// A sign-in failed: the header says why.
    pub fn sign_in_failed(&self, error: CommandError) {
        self.update(|info| {
            info.signing_in = false;
            info.last_error = Some(error);
        });
    }
}

/// What the header says of a hand-over from a page the profile does not name.
fn unexpected_origin(origin: &str) -> CommandError {
    CommandError::new(
        ErrorCode::TokenRejected,
        format!(
            "a page of {origin} handed a token over, but that is neither this profile's login \
             page nor its dashboard: it was refused, and the sign-in is still waiting. If \
             {origin} is your dashboard, enter it as the profile's Dashboard URL in Settings"
        ),
    )
}

/// Refuses a token of another user than the profile's (a page could hand over a valid token
/// of an account of its choosing, signing the app and its agents in to that tenant).
fn check_identity(token: &AccessToken, username: Option<&str>) -> Result<(), CommandError> {
    let Some(expected) = username.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(());
    };
    let claims = token.claims();
    let user = claims.email.as_deref().or(claims.sub.as_deref());
    if user.is_some_and(|u| u.trim().eq_ignore_ascii_case(expected)) {
        return Ok(());
    }
    Err(CommandError::new(
        ErrorCode::TokenRejected,
        format!(
            "the sign-in handed over a token of {}, not of the profile's user {expected}: it was \
             refused; sign in as {expected}, or change the profile's user in Settings",
            user.unwrap_or("an unnamed user")
        ),
    ))
}

fn show_token(info: &mut SessionInfo, token: &AccessToken) {
    let claims = token.claims();
    info.signed_in = true;
    info.user = claims.email.clone().or_else(|| claims.sub.clone());
    info.tenant = claims.tenant_id.clone();
    info.expires_at = token
        .expires_at()
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs_f64());
    info.signing_in = false;
    info.last_error = None;
}

/// Who is signed in, for the header.
#[tauri::command]
#[specta::specta]
pub fn session_status(active: State<'_, ActiveProfile>) -> SessionInfo {
    active.session().snapshot()
}

/// Opens the login window (`silent`: hidden, for Refresh while the IdP session lasts). The
/// token arrives later; `session_status` tells when.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn sign_in(
    app: AppHandle,
    active: State<'_, ActiveProfile>,
    silent: bool,
) -> Result<SessionInfo, CommandError> {
    let state = active.session();
    let profile = state.profile()?;
    let shared = Arc::clone(&state);
    let handle = app.clone();
    login_window::open(
        &app,
        &profile.name,
        &profile.login_url,
        &profile.api_origin,
        profile.handover_origins.clone(),
        !silent,
        move |handed| {
            let shared = Arc::clone(&shared);
            let handle = handle.clone();
            let jwt = match handed {
                login_window::Handed::Token(jwt) => jwt,
                login_window::Handed::FromUnexpectedOrigin(origin) => {
                    shared.update(|info| info.last_error = Some(unexpected_origin(&origin)));
                    return;
                }
            };
            tauri::async_runtime::spawn(async move {
                match shared.accept(jwt).await {
                    Ok(_) => login_window::close(&handle),
                    // A refused hand-over does not end the sign-in: the window stays and
                    // waits for the real token; the header says what was refused.
                    Err(error) => {
                        tracing::warn!(code = ?error.code, message = %error.message, "a captured token was refused; still waiting");
                        shared.update(|info| info.last_error = Some(error));
                    }
                }
            });
        },
    )?;
    let (attempt, info) = state.started_login_window();
    if silent {
        // A silent refresh that does not come back in time needs the person.
        let shared = Arc::clone(&state);
        let handle = app.clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(SILENT_REFRESH_LIMIT).await;
            if shared.silent_refresh_timed_out(attempt) {
                login_window::close(&handle);
            }
        });
    }
    Ok(info)
}

/// Forgets the token: removes it from the keyring and closes any login window.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn sign_out(
    app: AppHandle,
    active: State<'_, ActiveProfile>,
) -> Result<SessionInfo, CommandError> {
    let state = active.session();
    let profile = state.profile()?;
    login_window::close(&app);
    let store = profile.store.clone();
    tokio::task::spawn_blocking(move || store.delete_token())
        .await
        .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))??;
    if let Some(tokens) = &state.tokens {
        tokens.forget();
    }
    tracing::info!(profile = %profile.name, "signed out");
    Ok(state.update(|info| {
        *info = SessionInfo {
            profile: info.profile.clone(),
            ..SessionInfo::default()
        };
    }))
}

/// The fleet operations' login when no valid token is stored: the app never signs in behind
/// the user's back, so it tells them to use Sign in (the header shows the button).
pub struct SignInWithTheApp;

impl rmm_auth::Login for SignInWithTheApp {
    fn login(&self) -> futures::future::BoxFuture<'_, Result<AccessToken, rmm_auth::LoginError>> {
        Box::pin(async {
            Err(rmm_auth::LoginError::Step {
                step: "sign-in",
                detail: "no valid token is stored: use Sign in at the top of the window".to_owned(),
                screenshot: None,
            })
        })
    }
}

/// The sign-in profile of the demo simulator: the keyring entry of profile `demo`.
pub fn keyring_store(profile: &str) -> Arc<dyn TokenStore> {
    Arc::new(KeyringStore::new(profile))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_profile_sign_in_answers_no_profile() {
        let state = SessionState::new(None, None);
        let error = state.profile().err().unwrap();
        assert_eq!(error.code, ErrorCode::NoProfile);
        assert!(!state.snapshot().signed_in);
    }

    #[test]
    fn a_silent_refresh_out_of_time_asks_to_sign_in_again_only_for_its_own_attempt() {
        let state = SessionState::new(None, None);
        let (silent, _) = state.started_login_window();
        assert!(state.silent_refresh_timed_out(silent));
        let info = state.snapshot();
        assert!(!info.signing_in);
        assert_eq!(info.last_error.unwrap().code, ErrorCode::SignInNeeded);

        // The person signed in again before the silent attempt's time was up: the old limit
        // must not end the new sign-in.
        let (silent, _) = state.started_login_window();
        let (visible, _) = state.started_login_window();
        assert!(!state.silent_refresh_timed_out(silent));
        let info = state.snapshot();
        assert!(info.signing_in);
        assert_eq!(info.last_error, None);
        // A sign-in that already finished is not ended either.
        state.update(|info| info.signing_in = false);
        assert!(!state.silent_refresh_timed_out(visible));
        assert_eq!(state.snapshot().last_error, None);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_forged_token_is_refused_and_nothing_is_shown() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn TokenStore> = Arc::new(rmm_auth::FileStore::new(dir.path().join("t")));
        let state = SessionState::new(
            Some(SignInProfile {
                name: "test".into(),
                login_url: Url::parse("http://127.0.0.1:1/login").unwrap(),
                api_origin: "http://127.0.0.1:2".into(),
                handover_origins: Vec::new(),
                username: None,
                validator: Arc::new(TokenValidator::new(rmm_auth::ValidationRules::default())),
                store: store.clone(),
                settings_path: None,
            }),
            None,
        );
        let error = state.accept("not.a.jwt".into()).await.unwrap_err();
        assert_eq!(error.code, ErrorCode::TokenRejected);
        assert!(!state.snapshot().signed_in);
        assert!(store.load_token().unwrap().is_none());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_valid_token_of_another_user_is_refused_and_the_right_one_then_accepted() {
        // Issue 13, finding 4: a page handing over a valid token of an account of its choosing
        // signed the app in to that tenant.
        let sim = rmm_sim::start(rmm_sim::SimConfig {
            devices: 1,
            ..rmm_sim::SimConfig::default()
        })
        .await
        .unwrap();
        let i = sim.info().clone();
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn TokenStore> = Arc::new(rmm_auth::FileStore::new(dir.path().join("t")));
        let state = SessionState::new(
            Some(SignInProfile {
                name: "test".into(),
                login_url: Url::parse(&i.login_url).unwrap(),
                api_origin: "http://127.0.0.1:2".into(),
                handover_origins: Vec::new(),
                username: Some(i.username.to_uppercase()),
                validator: Arc::new(TokenValidator::new(rmm_auth::ValidationRules {
                    issuer: Some(i.issuer.clone()),
                    audience: Some(i.audience.clone()),
                    jwks_url: Some(Url::parse(&i.jwks_url).unwrap()),
                    ..rmm_auth::ValidationRules::default()
                })),
                store: store.clone(),
                settings_path: None,
            }),
            None,
        );
        let other = sim.mint_token(&rmm_sim::TokenSpec {
            email: Some("someone.else@example.com".into()),
            ..rmm_sim::TokenSpec::default()
        });
        let error = state.accept(other).await.unwrap_err();
        assert_eq!(error.code, ErrorCode::TokenRejected);
        assert!(
            error.message.contains("someone.else@example.com")
                && error.message.contains(&i.username.to_uppercase()),
            "{}",
            error.message
        );
        assert!(!state.snapshot().signed_in);
        assert!(store.load_token().unwrap().is_none());

        // The profile's own user (whatever the case of the address) signs in.
        let info = state.accept(sim.valid_token()).await.unwrap();
        assert!(info.signed_in);
        assert!(store.load_token().unwrap().is_some());
        sim.shutdown().await;
    }

    /// Issue 13: a profile made in Settings had no audience, so any valid token of the issuer
    /// was taken. Its first sign-in now teaches it the audience; a token for another is refused.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_profile_without_an_audience_learns_it_at_the_first_sign_in() {
        let sim = rmm_sim::start(rmm_sim::SimConfig {
            devices: 1,
            ..rmm_sim::SimConfig::default()
        })
        .await
        .unwrap();
        let i = sim.info().clone();
        let dir = tempfile::tempdir().unwrap();
        let settings = dir.path().join("settings.toml");
        let mut file = rmm_core::settings::SettingsFile::default();
        file.profiles.insert(
            "office".into(),
            rmm_core::settings::Profile {
                name: "office".into(),
                ..Default::default()
            },
        );
        file.save(&settings).unwrap();
        let store: Arc<dyn TokenStore> = Arc::new(rmm_auth::FileStore::new(dir.path().join("t")));
        let state = SessionState::new(
            Some(SignInProfile {
                name: "office".into(),
                login_url: Url::parse(&i.login_url).unwrap(),
                api_origin: "http://127.0.0.1:2".into(),
                handover_origins: Vec::new(),
                username: None,
                // As Settings makes it: the issuer's keys, no audience.
                validator: Arc::new(TokenValidator::new(rmm_auth::ValidationRules {
                    issuer: Some(i.issuer.clone()),
                    jwks_url: Some(Url::parse(&i.jwks_url).unwrap()),
                    ..rmm_auth::ValidationRules::default()
                })),
                store: store.clone(),
                settings_path: Some(settings.clone()),
            }),
            None,
        );
        assert!(state.accept(sim.valid_token()).await.unwrap().signed_in);
        let learned = rmm_core::settings::SettingsFile::load(&settings).unwrap();
        assert_eq!(
            learned.profile("office").unwrap().audience.as_deref(),
            Some(i.audience.as_str())
        );

        let foreign = sim.mint_token(&rmm_sim::TokenSpec {
            audience: Some("https://another-api.example".into()),
            ..rmm_sim::TokenSpec::default()
        });
        let error = state.accept(foreign).await.unwrap_err();
        assert_eq!(error.code, ErrorCode::TokenRejected);
        assert!(
            error.message.contains("https://another-api.example")
                && error.message.contains(&i.audience),
            "{}",
            error.message
        );
        sim.shutdown().await;
    }
}
