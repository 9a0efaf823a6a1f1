//! Merging flags, environment and settings file into the profile a command uses (flags win
//! over the environment, the environment over the file), with every value checked, and
//! turning it into what `rmm-auth` needs: login settings, token rules and the token store.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rmm_auth::{
    BrowserMode, FileStore, KeyringStore, LoginConfig, SecretKind, SecretOrigins, Selectors,
    Timeouts, TokenStore, ValidationRules,
};
use secrecy::SecretString;
use url::Url;

use super::{
    DEFAULT_PROFILE, EnvVars, Profile, SettingsError, SettingsFile, check_profile_name, data_dir,
    invalid,
};

/// Settings given as command-line flags (they win over everything).
#[derive(Clone, Debug, Default)]
pub struct ProfileFlags {
    /// `--profile`.
    pub profile: Option<String>,
    /// `--login-url`.
    pub login_url: Option<String>,
    /// `--api-base-url`.
    pub api_base_url: Option<String>,
    /// `--username`.
    pub username: Option<String>,
    /// `--token-file`: the plain-file store, chosen explicitly.
    pub token_file: Option<PathBuf>,
    /// `--headless` (true) or `--browser` (false).
    pub headless: Option<bool>,
    /// `--debug-dir`: screenshots of failed login steps.
    pub debug_dir: Option<PathBuf>,
}

/// The profile a command uses, with the secrets given through the environment.
#[derive(Clone, Debug)]
pub struct ResolvedProfile {
    /// The merged profile.
    pub profile: Profile,
    /// `PASSWORD_1`, when set (else the store's saved password is used).
    pub env_password: Option<SecretString>,
    /// `OCP_APIM_SUBSCRIPTION_KEY`, when set (else the store's).
    pub env_subscription_key: Option<SecretString>,
}

/// Picks the profile (`--profile`, the file's default, or `default`) and lays flags and
/// environment over it.
pub fn resolve_profile(
    flags: &ProfileFlags,
    env: &EnvVars,
    file: &SettingsFile,
) -> Result<ResolvedProfile, SettingsError> {
    let name = flags
        .profile
        .clone()
        .or_else(|| file.default_profile.clone())
        .unwrap_or_else(|| DEFAULT_PROFILE.to_owned());
    check_profile_name(&name)?;
    let mut p = match file.profile(&name) {
        Some(p) => p.clone(),
        // A named profile must exist; the default one may come wholly from the environment.
        None if flags.profile.is_some() && name != DEFAULT_PROFILE => {
            let mut known: Vec<&str> = file.profiles.keys().map(String::as_str).collect();
            known.sort_unstable();
            return Err(SettingsError::UnknownProfile {
                name,
                path: SettingsFile::default_path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                known: if known.is_empty() {
                    "none (`rmm sim --profile NAME` records one)".to_owned()
                } else {
                    known.join(", ")
                },
            });
        }
        None => Profile::default(),
    };
    p.name = name;
    if file.profile(&p.name).is_some() {
        refuse_env_overrides(&p, env)?;
    }

    // The environment over the file (for a saved profile, only what changes no address).
    let set = |slot: &mut Option<String>, var: &str| {
        if let Some(v) = env.get(var) {
            *slot = Some(v.to_owned());
        }
    };
    set(&mut p.login_url, "AUTH0_LOGIN_URL");
    set(&mut p.api_base_url, "API_BASE_URL");
    set(&mut p.username, "USERNAME_1");
    set(&mut p.tenants_path, "TENANT_LIST_ENDPOINT");
    if let Some(v) = env.get("TOKEN_FILE") {
        p.token_file = Some(PathBuf::from(v));
    }
    if let Some(v) = env.get("HEADLESS") {
        p.headless = Some(parse_bool("HEADLESS", v)?);
    }
    let num = |var: &str| env.get(var).map(|v| parse_u64(var, v)).transpose();
    if let Some(v) = num("SLOW_MO")? {
        p.slow_mo_ms = Some(v);
    }
    if let Some(v) = num("DASHBOARD_TIMEOUT")? {
        p.dashboard_timeout_ms = Some(v);
    }
    if let Some(v) = num("ELEMENT_TIMEOUT")? {
        p.element_timeout_ms = Some(v);
    }
    if let Some(v) = num("API_TRIGGER_TIMEOUT")? {
        p.api_trigger_timeout_ms = Some(v);
    }
    for (var, slot) in [
        ("VIEWPORT_WIDTH", &mut p.viewport_width),
        ("VIEWPORT_HEIGHT", &mut p.viewport_height),
    ] {
        if let Some(v) = env.get(var) {
            let n = parse_u64(var, v)?;
            *slot = Some(u32::try_from(n).map_err(|_| invalid(var, "must be at most 4294967295"))?);
        }
    }

    // Flags over everything.
    if flags.login_url.is_some() {
        p.login_url = flags.login_url.clone();
    }
    if flags.api_base_url.is_some() {
        p.api_base_url = flags.api_base_url.clone();
    }
    if flags.username.is_some() {
        p.username = flags.username.clone();
    }
    if flags.token_file.is_some() {
        p.token_file = flags.token_file.clone();
    }
    if flags.headless.is_some() {
        p.headless = flags.headless;
    }
    if flags.debug_dir.is_some() {
        p.debug_dir = flags.debug_dir.clone();
    }

    check_profile(&p)?;
    Ok(ResolvedProfile {
        profile: p,
        env_password: env
            .get("PASSWORD_1")
            .map(|v| SecretString::from(v.to_owned())),
        env_subscription_key: env
            .get("OCP_APIM_SUBSCRIPTION_KEY")
            .map(|v| SecretString::from(v.to_owned())),
    })
}

/// The variables that say where a profile's secrets go, or whose they are: for a saved
/// profile the environment may repeat them but not change them.
const ADDRESS_VARS: &[(&str, &str, &str)] = &[
    ("AUTH0_LOGIN_URL", "login_url", "--login-url"),
    ("API_BASE_URL", "api_base_url", "--api-base-url"),
    ("TENANT_LIST_ENDPOINT", "tenants_path", ""),
    ("USERNAME_1", "username", "--username"),
    ("TOKEN_FILE", "token_file", "--token-file"),
];

/// Refuses environment variables that would change a saved profile's addresses: the
/// environment (an exported variable, a project's `.env`) is no way to send a profile's saved
/// token, key or password somewhere else. Every such variable is named at once.
fn refuse_env_overrides(p: &Profile, env: &EnvVars) -> Result<(), SettingsError> {
    let mut refused = Vec::new();
    for &(var, field, flag) in ADDRESS_VARS {
        let Some(value) = env.get(var) else { continue };
        let saved = match field {
            "login_url" => p.login_url.clone(),
            "api_base_url" => p.api_base_url.clone(),
            "tenants_path" => p.tenants_path.clone(),
            "username" => p.username.clone(),
            _ => p.token_file.as_ref().map(|f| f.display().to_string()),
        };
        if saved.as_deref().is_some_and(|s| same_value(s, value)) {
            continue;
        }
        let how = if flag.is_empty() {
            format!("set `{field}` in the settings file")
        } else {
            format!("pass {flag} to the command")
        };
        refused.push(format!(
            "{var} (the profile's {field} is {}; to change it on purpose, {how})",
            saved.map_or_else(|| "not set".to_owned(), |s| format!("{s:?}"))
        ));
    }
    if refused.is_empty() {
        return Ok(());
    }
    Err(SettingsError::EnvOverride {
        profile: p.name.clone(),
        variables: refused.join("; "),
    })
}

/// The same setting written two ways (spaces around it, a URL's trailing slash).
fn same_value(saved: &str, given: &str) -> bool {
    let (saved, given) = (saved.trim(), given.trim());
    if saved == given {
        return true;
    }
    match (Url::parse(saved), Url::parse(given)) {
        (Ok(a), Ok(b)) => a == b,
        _ => saved.trim_matches('/') == given.trim_matches('/'),
    }
}

/// The tenants endpoint as a path under the API base, checked like every API path (no host,
/// scheme, `..` or other trick can take the token elsewhere).
pub fn tenants_api_path(tenants_path: &str) -> Result<rmm_api::ApiPath, SettingsError> {
    let trimmed = tenants_path.trim();
    let path = if trimmed.starts_with('/') {
        trimmed.to_owned()
    } else {
        format!("/{trimmed}")
    };
    // A URL (`http://...`) becomes `/http://...` above and is refused for its `:`.
    rmm_api::ApiPath::new(&path).map_err(|e| {
        invalid(
            "tenants_path",
            format!(
                "{tenants_path:?} must be a path under the API base such as api/v1/tenants: {}",
                e.rule
            ),
        )
    })
}

/// The origins a profile's secrets go to, when it names an API base.
pub(super) fn origins_of(p: &Profile) -> Result<Option<SecretOrigins>, SettingsError> {
    let Some(api) = p.api_base_url.as_deref() else {
        return Ok(None);
    };
    let api = check_url("api_base_url", api)?;
    let login = p
        .login_url
        .as_deref()
        .map(|u| check_url("login_url", u))
        .transpose()?;
    let idp = p
        .idp_url
        .as_deref()
        .map(|u| check_url("idp_url", u))
        .transpose()?;
    // Only an issuer the profile names: a guessed one follows from the login page (bound
    // already), and an issuer learned at sign-in and pinned is then not a change of address.
    Ok(Some(SecretOrigins::new(
        &api,
        login.as_ref(),
        idp.as_ref(),
        p.issuer.as_deref(),
    )))
}

/// The issuer a token must name: the profile's, else the login page's origin (Auth0 issues
/// tokens from there).
fn issuer_of(p: &Profile) -> Result<Option<String>, SettingsError> {
    Ok(match &p.issuer {
        Some(i) => Some(i.clone()),
        None => p
            .login_url
            .as_deref()
            .map(|u| check_url("login_url", u))
            .transpose()?
            .map(|u| format!("{}/", u.origin().ascii_serialization())),
    })
}

/// Checks every set value of a profile.
fn check_profile(p: &Profile) -> Result<(), SettingsError> {
    if let Some(t) = &p.tenants_path {
        tenants_api_path(t)?;
    }
    for (field, value) in [
        ("login_url", &p.login_url),
        ("api_base_url", &p.api_base_url),
        ("dashboard_url", &p.dashboard_url),
        ("jwks_url", &p.jwks_url),
        ("idp_url", &p.idp_url),
        ("issuer", &p.issuer),
    ] {
        if let Some(v) = value {
            check_url(field, v)?;
        }
    }
    if let Some(tz) = &p.time_zone {
        check_time_zone(tz)?;
    }
    if let Some(u) = &p.username
        && (u.trim().is_empty() || u.chars().any(char::is_control))
    {
        return Err(invalid(
            "username",
            "must be a non-empty name without control characters",
        ));
    }
    for (field, v) in [
        ("viewport_width", p.viewport_width),
        ("viewport_height", p.viewport_height),
    ] {
        if let Some(v) = v
            && !(200..=10_000).contains(&v)
        {
            return Err(invalid(field, "must be between 200 and 10000 pixels"));
        }
    }
    for (field, v) in [
        ("element_timeout_ms", p.element_timeout_ms),
        ("dashboard_timeout_ms", p.dashboard_timeout_ms),
        ("api_trigger_timeout_ms", p.api_trigger_timeout_ms),
    ] {
        if let Some(v) = v
            && !(100..=600_000).contains(&v)
        {
            return Err(invalid(
                field,
                "must be between 100 and 600000 milliseconds",
            ));
        }
    }
    let known = [
        "email",
        "email_submit",
        "sharp_start",
        "dnn_username",
        "dnn_password",
        "dnn_submit",
        "dnn_error",
    ];
    for (k, v) in &p.selectors {
        if !known.contains(&k.as_str()) {
            return Err(invalid(
                format!("selectors.{k}"),
                format!("unknown selector; known: {}", known.join(", ")),
            ));
        }
        if v.trim().is_empty() {
            return Err(invalid(
                format!("selectors.{k}"),
                "must be a non-empty CSS selector",
            ));
        }
    }
    Ok(())
}

/// An absolute http(s) URL.
pub(super) fn check_url(field: &str, value: &str) -> Result<Url, SettingsError> {
    let url = Url::parse(value.trim())
        .map_err(|e| invalid(field, format!("{value:?} is not an absolute URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(
            field,
            format!("{value:?} must be an http(s) URL with a host"),
        ));
    }
    Ok(url)
}

pub(super) fn check_time_zone(tz: &str) -> Result<(), SettingsError> {
    // The one rule (crate::time_zone), in the form a profile keeps: `+05:30`.
    match crate::time_zone::parse_time_zone(tz) {
        Some(zone) if crate::time_zone::stored_time_zone(zone) == tz => Ok(()),
        _ => Err(invalid(
            "time_zone",
            format!("{tz:?} must be a UTC offset like +05:30 or -08:00, between -12:00 and +14:00"),
        )),
    }
}

fn parse_bool(field: &str, v: &str) -> Result<bool, SettingsError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(invalid(field, format!("{v:?} must be true or false"))),
    }
}

fn parse_u64(field: &str, v: &str) -> Result<u64, SettingsError> {
    v.trim().parse().map_err(|_| {
        invalid(
            field,
            format!("{v:?} must be a whole number of milliseconds or pixels"),
        )
    })
}

/// The token store of a profile: the plain file when one is named (flag, `TOKEN_FILE`, or
/// the profile's `token_file`, in that order), else the OS keyring (which must be
/// reachable: nothing falls back silently).
pub(super) fn token_store_for(
    profile: &str,
    flag: Option<&Path>,
    env: Option<&Path>,
    file: Option<&Path>,
) -> Result<Arc<dyn TokenStore>, SettingsError> {
    if let Some(path) = flag.or(env).or(file) {
        return Ok(Arc::new(FileStore::new(path)));
    }
    KeyringStore::check_available()?;
    Ok(Arc::new(KeyringStore::new(profile)))
}

impl ResolvedProfile {
    /// The profile's token store.
    pub fn token_store(&self) -> Result<Arc<dyn TokenStore>, SettingsError> {
        token_store_for(
            &self.profile.name,
            self.profile.token_file.as_deref(),
            None,
            None,
        )
    }

    /// The origins this profile sends its secrets to (API, login page, identity provider,
    /// issuer), to be checked against those the secrets were saved for.
    pub fn secret_origins(&self) -> Result<SecretOrigins, SettingsError> {
        self.api_base_url()?;
        origins_of(&self.profile)?.ok_or(SettingsError::Missing {
            field: "api_base_url",
            hint: "set it in the profile, with API_BASE_URL or --api-base-url",
        })
    }

    /// Checks that the secrets in `store` were saved for this profile's addresses (secrets
    /// saved before origins were kept are bound to them now). Nothing of the store may be
    /// sent anywhere before this passed.
    pub fn check_secret_origins(&self, store: &dyn TokenStore) -> Result<(), SettingsError> {
        let origins = self.secret_origins()?;
        rmm_auth::check_origins(store, &origins).map_err(|e| match e {
            rmm_auth::OriginError::Store(s) => SettingsError::Store(s),
            mismatch => SettingsError::Invalid {
                field: "profile".to_owned(),
                rule: mismatch.to_string(),
            },
        })
    }

    /// The API base URL, required.
    pub fn api_base_url(&self) -> Result<Url, SettingsError> {
        let v = self
            .profile
            .api_base_url
            .as_deref()
            .ok_or(SettingsError::Missing {
                field: "api_base_url",
                hint: "set it in the profile, with API_BASE_URL or --api-base-url",
            })?;
        check_url("api_base_url", v)
    }

    /// The profile's time zone as it is kept (`+05:30`): the `x-time-zone` the API is sent,
    /// and the zone of a schedule that names none. `DEFAULT_TIME_ZONE` unless the profile
    /// sets one.
    pub fn time_zone(&self) -> &str {
        self.profile
            .time_zone
            .as_deref()
            .unwrap_or(crate::profile_connection::DEFAULT_TIME_ZONE)
    }

    /// The login page, checked (every face's one rule for it).
    pub fn login_url(&self) -> Result<Url, SettingsError> {
        let v = self
            .profile
            .login_url
            .as_deref()
            .ok_or(SettingsError::Missing {
                field: "login_url",
                hint: "set it in the profile (the app's Settings), with AUTH0_LOGIN_URL or --login-url",
            })?;
        check_url("login_url", v)
    }

    /// The dashboard, checked, when the profile names one.
    pub fn dashboard_url(&self) -> Result<Option<Url>, SettingsError> {
        self.profile
            .dashboard_url
            .as_deref()
            .map(|v| check_url("dashboard_url", v))
            .transpose()
    }

    /// What a token of this profile must satisfy.
    pub fn validation_rules(&self) -> Result<ValidationRules, SettingsError> {
        let p = &self.profile;
        let issuer = issuer_of(p)?;
        Ok(ValidationRules {
            issuer,
            // The login page's origin is a guess: a token of another issuer is checked
            // against its own discovery document, and the profile pins what was learned.
            issuer_guessed: p.issuer.is_none(),
            issuer_hosts: [&p.login_url, &p.dashboard_url]
                .into_iter()
                .flatten()
                .filter_map(|u| Url::parse(u).ok()?.host_str().map(str::to_owned))
                .collect(),
            audience: p.audience.clone(),
            jwks_url: p
                .jwks_url
                .as_deref()
                .map(|u| check_url("jwks_url", u))
                .transpose()?,
            ..Default::default()
        })
    }

    /// The Chromium profile folder of this profile (kept between logins for the IdP session).
    pub fn browser_profile_dir(&self) -> Result<PathBuf, SettingsError> {
        Ok(data_dir()?
            .join("browser-profiles")
            .join(&self.profile.name))
    }

    /// The password to type: `PASSWORD_1`, else the one saved in `store`.
    pub fn password(&self, store: &dyn TokenStore) -> Result<Option<SecretString>, SettingsError> {
        match &self.env_password {
            Some(p) => Ok(Some(p.clone())),
            None => Ok(store.load_secret(SecretKind::Password)?),
        }
    }

    /// The subscription key: `OCP_APIM_SUBSCRIPTION_KEY`, else the one saved in `store`.
    pub fn subscription_key(
        &self,
        store: &dyn TokenStore,
    ) -> Result<Option<SecretString>, SettingsError> {
        match &self.env_subscription_key {
            Some(k) => Ok(Some(k.clone())),
            None => Ok(store.load_secret(SecretKind::SubscriptionKey)?),
        }
    }

    /// Login settings for `rmm-auth`.
    pub fn login_config(
        &self,
        password: Option<SecretString>,
        subscription_key: Option<SecretString>,
    ) -> Result<LoginConfig, SettingsError> {
        let p = &self.profile;
        let login_url = self.login_url()?;
        let username = p.username.clone().ok_or(SettingsError::Missing {
            field: "username",
            hint: "set it in the profile, with USERNAME_1 or --username",
        })?;
        let mut selectors = Selectors::default();
        for (k, v) in &p.selectors {
            let slot = match k.as_str() {
                "email" => &mut selectors.email,
                "email_submit" => &mut selectors.email_submit,
                "sharp_start" => &mut selectors.sharp_start,
                "dnn_username" => &mut selectors.dnn_username,
                "dnn_password" => &mut selectors.dnn_password,
                "dnn_submit" => &mut selectors.dnn_submit,
                "dnn_error" => &mut selectors.dnn_error,
                _ => continue,
            };
            *slot = v.clone();
        }
        let d = Timeouts::default();
        let ms =
            |v: Option<u64>, default: Duration| v.map(Duration::from_millis).unwrap_or(default);
        Ok(LoginConfig {
            login_url,
            api_base_url: self.api_base_url()?,
            tenants_path: p
                .tenants_path
                .clone()
                .unwrap_or_else(|| "api/v1/tenants".to_owned()),
            username,
            password,
            subscription_key,
            mode: if p.headless.unwrap_or(true) {
                BrowserMode::Headless
            } else {
                BrowserMode::Visible
            },
            chromium_path: p.chromium_path.clone(),
            idp_origin: p
                .idp_url
                .as_deref()
                .map(|u| check_url("idp_url", u))
                .transpose()?
                .map(|u| rmm_auth::origin_of(&u)),
            user_data_dir: self.browser_profile_dir()?,
            selectors,
            timeouts: Timeouts {
                element: ms(p.element_timeout_ms, d.element),
                dashboard: ms(p.dashboard_timeout_ms, d.dashboard),
                api_trigger: ms(p.api_trigger_timeout_ms, d.api_trigger),
            },
            viewport: (
                p.viewport_width.unwrap_or(1280),
                p.viewport_height.unwrap_or(800),
            ),
            slow_mo: Duration::from_millis(p.slow_mo_ms.unwrap_or(0)),
            debug_dir: p.debug_dir.clone(),
        })
    }
}
