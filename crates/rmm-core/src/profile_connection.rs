//! `connect_profile`: the fleet operations of a profile, for faces that must never open a
//! window (the `rmm` fleet commands, `rmm mcp`). The token comes from rmm-auth's
//! `TokenManager`: the cached token, else the profile's store (a later `rmm login` or the
//! desktop app's sign-in is picked up), else a headless login with the saved password. With
//! no saved password every call answers at once with the sign-in instruction.

use std::sync::Arc;

use futures::future::BoxFuture;
use rmm_api::{ApiClient, ApiConfig, BearerToken, SecretString, TokenSource, TokenSourceError};
use rmm_auth::{
    AccessToken, BrowserMode, HeadlessLogin, Login, LoginError, TokenManager, TokenStore,
    TokenValidator,
};

use crate::audit::AuditLog;
use crate::fleet_operations::{FleetOperations, OperationSettings};
use crate::operation_error::OperationError;
use crate::settings::{ResolvedProfile, SettingsError};

/// A profile's time zone when it names none: the old tool's, which it always sent as
/// `x-time-zone` and scheduled in by default, so that the cloud reads our requests as it read
/// the old tool's, and existing agent prompts and scripts mean the same times. It is the
/// `x-time-zone` sent and the zone of a schedule that names none (one setting, not two).
pub const DEFAULT_TIME_ZONE: &str = "+05:30";

/// A profile connected to the cloud: the operations and the token manager behind them.
#[derive(Clone)]
pub struct ProfileConnection {
    pub operations: FleetOperations,
    /// The manager the operations take their tokens from (its login count, for status).
    pub tokens: TokenManager,
    /// The profile's secret store (token, saved credentials, MCP endpoint secret).
    pub store: Arc<dyn TokenStore>,
}

impl std::fmt::Debug for ProfileConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileConnection")
            .field("operations", &self.operations)
            .field("store", &self.store.describe())
            .finish_non_exhaustive()
    }
}

fn settings_error(e: SettingsError) -> OperationError {
    match e {
        SettingsError::Store(s) => OperationError::Local(s.to_string()),
        other => OperationError::invalid("profile", other.to_string()),
    }
}

/// Connects `resolved` to the fleet. Reads the store, so it blocks: call it from
/// `spawn_blocking` in async code. Fails only on settings that make any call impossible
/// (no API base URL, an unreachable store); a missing sign-in is reported per call instead.
pub fn connect_profile(
    resolved: &ResolvedProfile,
    audit: Arc<AuditLog>,
    settings: OperationSettings,
) -> Result<ProfileConnection, OperationError> {
    let store = resolved.token_store().map_err(settings_error)?;
    // Nothing of the store leaves the process before its origins are checked.
    resolved
        .check_secret_origins(store.as_ref())
        .map_err(settings_error)?;
    let password = resolved.password(store.as_ref()).map_err(settings_error)?;
    let subscription_key = resolved
        .subscription_key(store.as_ref())
        .map_err(settings_error)?;
    let login = headless_login(resolved, password, subscription_key.clone())?;
    connect(resolved, store, subscription_key, login, audit, settings)
}

/// Connects `resolved` for a face that signs the user in itself (the desktop app's login
/// window): when no valid token is stored, `login` is asked, and no browser is started here.
pub fn connect_profile_with_login(
    resolved: &ResolvedProfile,
    login: Arc<dyn Login>,
    audit: Arc<AuditLog>,
    settings: OperationSettings,
) -> Result<ProfileConnection, OperationError> {
    let store = resolved.token_store().map_err(settings_error)?;
    resolved
        .check_secret_origins(store.as_ref())
        .map_err(settings_error)?;
    let subscription_key = resolved
        .subscription_key(store.as_ref())
        .map_err(settings_error)?;
    connect(resolved, store, subscription_key, login, audit, settings)
}

/// The login of the faces without a window: headless Chromium with the saved password.
fn headless_login(
    resolved: &ResolvedProfile,
    password: Option<SecretString>,
    subscription_key: Option<SecretString>,
) -> Result<Arc<dyn Login>, OperationError> {
    Ok(match password {
        None => Arc::new(NoSilentLogin(
            "no saved password for a sign-in without a window",
        )),
        Some(password) => match resolved.login_config(Some(password), subscription_key) {
            Ok(mut config) => {
                // These faces never open a window, whatever the profile says.
                config.mode = BrowserMode::Headless;
                let rules = resolved.validation_rules().map_err(settings_error)?;
                Arc::new(HeadlessLogin::new(
                    config,
                    Arc::new(TokenValidator::new(rules)),
                ))
            }
            Err(e) => {
                tracing::debug!(error = %e, "no headless login for this profile");
                Arc::new(NoSilentLogin(
                    "the profile lacks the login settings for a sign-in without a window",
                ))
            }
        },
    })
}

fn connect(
    resolved: &ResolvedProfile,
    store: Arc<dyn TokenStore>,
    subscription_key: Option<SecretString>,
    login: Arc<dyn Login>,
    audit: Arc<AuditLog>,
    settings: OperationSettings,
) -> Result<ProfileConnection, OperationError> {
    let api_base = resolved.api_base_url().map_err(settings_error)?;
    let tokens = TokenManager::new(login, Some(store.clone()), TokenManager::DEFAULT_MARGIN);
    let time_zone = resolved.time_zone().to_owned();
    let (key, source): (SecretString, Arc<dyn TokenSource>) = match subscription_key {
        Some(key) => (key, Arc::new(tokens.clone())),
        // No call can succeed without the key: every one answers with the instruction, and
        // the placeholder below is never sent (the token source fails first).
        None => (
            SecretString::from("not-configured".to_owned()),
            Arc::new(NoSubscriptionKey),
        ),
    };
    let mut config = ApiConfig::new(api_base.as_str().trim_end_matches('/'), key, &time_zone)
        .map_err(|e| OperationError::invalid("profile", e.to_string()))?;
    // As the dashboard's own calls do: an API gateway may answer only its origin. Only the
    // origin the profile names (no guessed default is ever sent).
    if let Some(dashboard) = resolved.dashboard_url().map_err(settings_error)? {
        config = config.with_origin(dashboard.origin().ascii_serialization());
    }
    let client =
        ApiClient::new(config, source.clone()).map_err(|e| OperationError::Local(e.to_string()))?;
    Ok(ProfileConnection {
        operations: FleetOperations::new(client, source, audit, settings),
        tokens,
        store,
    })
}

/// The login used when no headless login is possible: fails at once, telling why. It is not
/// a refusal, so the manager reads the store again on the next call and picks up a later
/// `rmm login`.
struct NoSilentLogin(&'static str);

impl Login for NoSilentLogin {
    fn login(&self) -> BoxFuture<'_, Result<AccessToken, LoginError>> {
        let why = self.0;
        Box::pin(async move {
            Err(LoginError::Step {
                step: "sign-in",
                detail: format!(
                    "no valid token is stored and {why}; run `rmm login --save-credentials` to allow it"
                ),
                screenshot: None,
            })
        })
    }
}

/// The token source when the subscription key is missing: no call can be made.
struct NoSubscriptionKey;

impl TokenSource for NoSubscriptionKey {
    fn token(&self) -> BoxFuture<'_, Result<BearerToken, TokenSourceError>> {
        Box::pin(async {
            Err(TokenSourceError::new(
                "no subscription key is saved for this profile (run `rmm login --save-credentials` or set OCP_APIM_SUBSCRIPTION_KEY)",
            ))
        })
    }

    fn token_refused<'a>(
        &'a self,
        _refused: &'a BearerToken,
    ) -> BoxFuture<'a, Result<BearerToken, TokenSourceError>> {
        self.token()
    }
}

/// `<data folder>/audit.sqlite`; `RMM_CONFIG_DIR` moves it with the settings (tests, portable
/// installs).
pub fn default_audit_path() -> Result<std::path::PathBuf, OperationError> {
    Ok(crate::settings::data_dir()
        .map_err(|e| OperationError::Local(e.to_string()))?
        .join("audit.sqlite"))
}
