//! Profiles and settings: named profiles in a TOML settings file in the OS config folder,
//! the old tool's environment variables and a `.env` file the user names, and command-line
//! flags, merged with flags over the environment over the file (the environment never changes
//! a saved profile's addresses). Secrets (password, subscription key)
//! live in the token store (the OS keyring), never in the settings file.

mod agent_policy;
mod audience;
mod edit;
mod env;
mod issuer;
mod resolve;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rmm_auth::{SecretKind, StoreError, TokenStore};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

pub use agent_policy::{agent_policy, set_agent_policy};
pub use audience::{AudienceCheck, learn_audience};
pub use edit::{
    ProfileEdit, ProfileEditError, check_profile_edit, has_password, has_subscription_key,
    normalize_time_zone, profile_token_store, save_profile_edit_to,
};
pub use env::EnvVars;
pub use issuer::pin_issuer;
pub use resolve::{ProfileFlags, ResolvedProfile, resolve_profile, tenants_api_path};

/// The settings file's name inside the config folder.
pub const SETTINGS_FILE: &str = "settings.toml";
/// Overrides the config folder (tests, portable installs).
pub const CONFIG_DIR_VAR: &str = "RMM_CONFIG_DIR";
/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "default";

/// Bad settings: which field, and the rule it breaks.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value breaks a rule.
    #[error("invalid setting `{field}`: {rule}")]
    Invalid {
        /// The setting (file key, variable or flag).
        field: String,
        /// The rule it breaks.
        rule: String,
    },
    /// A needed setting has no value anywhere.
    #[error("missing setting `{field}`: {hint}")]
    Missing {
        /// The setting.
        field: &'static str,
        /// Where it can be given.
        hint: &'static str,
    },
    /// The named profile is not in the settings file.
    #[error("no profile named {name:?} in {path}; known profiles: {known}")]
    UnknownProfile {
        /// The name asked for.
        name: String,
        /// The settings file.
        path: String,
        /// The profiles it has.
        known: String,
    },
    /// The settings file cannot be read or written.
    #[error("cannot {action} the settings file {path}: {detail}")]
    File {
        /// read or write.
        action: &'static str,
        /// The file.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// The environment tries to change a saved profile's addresses.
    #[error(
        "the environment would change the saved profile {profile:?}, which it may not (a saved \
         profile's token, key and password go only where they were saved for): {variables}. \
         Unset the variable, or change the profile on purpose; the old variables alone \
         configure a profile only when no saved profile is used (no --profile, and no saved \
         `default` profile)"
    )]
    EnvOverride {
        /// The profile.
        profile: String,
        /// Each refused variable, with the saved value and how to change it on purpose.
        variables: String,
    },
    /// The token store refused to keep a secret.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: impl Into<String>, rule: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        field: field.into(),
        rule: rule.into(),
    }
}

/// One Sharp cloud account and how to reach it. Holds no secret.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The profile's name (letters, digits, `-`, `_`).
    #[serde(skip)]
    pub name: String,
    /// The Auth0 login page (`AUTH0_LOGIN_URL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_url: Option<String>,
    /// The RMM API base (`API_BASE_URL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base_url: Option<String>,
    /// The admin dashboard whose API calls carry the token; its origin is sent as `origin`
    /// with every API request, as the dashboard's own are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard_url: Option<String>,
    /// The identity provider (Sharp-Start) page: the only origin the saved password is typed
    /// on, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_url: Option<String>,
    /// The token issuer (`iss`); the login URL's origin when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The token audience (`aud`); not checked when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The issuer's JWKS; `{issuer}.well-known/jwks.json` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    /// The Sharp-Start username (`USERNAME_1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The group (tenant) to manage; the token's `sspTenantId` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// The profile's time zone, e.g. `+05:30`: sent as `x-time-zone`, and the zone of a
    /// schedule that names none; `+05:30` (the old tool's) when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The Chromium to drive; found on the system when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chromium_path: Option<PathBuf>,
    /// The tenants endpoint (`TENANT_LIST_ENDPOINT`), default `api/v1/tenants`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenants_path: Option<String>,
    /// Headless login (`HEADLESS`), default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headless: Option<bool>,
    /// Pause after each browser action in ms (`SLOW_MO`), default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_mo_ms: Option<u64>,
    /// Browser window width (`VIEWPORT_WIDTH`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewport_width: Option<u32>,
    /// Browser window height (`VIEWPORT_HEIGHT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewport_height: Option<u32>,
    /// Whole-login timeout in ms (`DASHBOARD_TIMEOUT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard_timeout_ms: Option<u64>,
    /// Per-element timeout in ms (`ELEMENT_TIMEOUT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element_timeout_ms: Option<u64>,
    /// Timeout for the dashboard's first API call in ms (`API_TRIGGER_TIMEOUT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_trigger_timeout_ms: Option<u64>,
    /// A plain file instead of the OS keyring (`TOKEN_FILE`); only when set explicitly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    /// Where screenshots of failed login steps go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_dir: Option<PathBuf>,
    /// Overrides of the login pages' CSS selectors (keys: email, email_submit,
    /// sharp_start, dnn_username, dnn_password, dnn_submit, dnn_error).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub selectors: BTreeMap<String, String>,
    /// What agents may do alone with this profile's rollouts (the autonomy envelope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_policy: Option<crate::rollout::AgentPolicy>,
}

/// The settings file: the default profile's name and the profiles.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsFile {
    /// The profile used when none is named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_profile: Option<String>,
    /// A `.env` file of the old tool's variables to read (`--env-file` wins); none is read
    /// unless named, and never from the current folder on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_file: Option<PathBuf>,
    /// The profiles by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// Checks a profile name: 1-64 letters, digits, `-` or `_` (it names keyring items and
/// folders).
pub fn check_profile_name(name: &str) -> Result<(), SettingsError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "profile",
            format!("{name:?} must be 1-64 letters, digits, '-' or '_'"),
        ))
    }
}

/// The OS config folder of the tool (`RMM_CONFIG_DIR` overrides it).
pub fn config_dir() -> Result<PathBuf, SettingsError> {
    if let Some(dir) = std::env::var_os(CONFIG_DIR_VAR).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "mcp-rmm")
        .map(|d| d.config_dir().to_path_buf())
        .ok_or(SettingsError::Missing {
            field: "config folder",
            hint: "no home folder is known; set RMM_CONFIG_DIR",
        })
}

/// The folder for the tool's data (browser profiles), beside the config folder when
/// `RMM_CONFIG_DIR` is set.
pub fn data_dir() -> Result<PathBuf, SettingsError> {
    if let Some(dir) = std::env::var_os(CONFIG_DIR_VAR).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("data"));
    }
    directories::ProjectDirs::from("", "", "mcp-rmm")
        .map(|d| d.data_local_dir().to_path_buf())
        .ok_or(SettingsError::Missing {
            field: "data folder",
            hint: "no home folder is known; set RMM_CONFIG_DIR",
        })
}

impl SettingsFile {
    /// The settings file's usual place.
    pub fn default_path() -> Result<PathBuf, SettingsError> {
        Ok(config_dir()?.join(SETTINGS_FILE))
    }

    /// Reads `path`; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(SettingsError::File {
                    action: "read",
                    path: path.display().to_string(),
                    detail: e.to_string(),
                });
            }
        };
        let mut file: Self = toml::from_str(&text).map_err(|e| SettingsError::File {
            action: "read",
            path: path.display().to_string(),
            detail: e.message().to_owned(),
        })?;
        for (name, p) in &mut file.profiles {
            check_profile_name(name)?;
            p.name = name.clone();
        }
        Ok(file)
    }

    /// Writes the file, owner-only (creating its folder, owner-only).
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        let fail = |detail: String| SettingsError::File {
            action: "write",
            path: path.display().to_string(),
            detail,
        };
        let text = toml::to_string_pretty(self).map_err(|e| fail(e.to_string()))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            rmm_auth::private_fs::create_private_parents(dir).map_err(|e| fail(e.to_string()))?;
        }
        // Owner-only: it names the accounts and addresses of every profile.
        let tmp = path.with_extension("toml.tmp");
        rmm_auth::private_fs::write_private(&tmp, text.as_bytes())
            .map_err(|e| fail(e.to_string()))?;
        std::fs::rename(&tmp, path).map_err(|e| fail(e.to_string()))
    }

    /// The profile called `name`.
    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }
}

/// A profile and its secrets as `rmm sim --profile NAME` records them (from the simulator's
/// `SimInfo`), or as a person enters them.
#[derive(Clone)]
pub struct NewProfile {
    /// The profile's name.
    pub name: String,
    /// The Auth0 login page.
    pub login_url: String,
    /// The admin dashboard.
    pub dashboard_url: String,
    /// The RMM API base.
    pub api_base_url: String,
    /// The issuer's JWKS.
    pub jwks_url: String,
    /// The token issuer.
    pub issuer: String,
    /// The token audience.
    pub audience: String,
    /// The identity provider's page (where the password is typed), when known.
    pub idp_url: Option<String>,
    /// The Sharp-Start username.
    pub username: String,
    /// The Sharp-Start password (kept in the token store).
    pub password: Option<SecretString>,
    /// The subscription key (kept in the token store).
    pub subscription_key: Option<SecretString>,
    /// The group to manage.
    pub group_id: Option<String>,
}

impl std::fmt::Debug for NewProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewProfile")
            .field("name", &self.name)
            .field("login_url", &self.login_url)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Records `new` in the settings file at `path` (replacing a profile of the same name,
/// keeping its other settings) and its secrets in `store`. The file never holds a secret.
pub fn save_profile_to(
    path: &Path,
    new: &NewProfile,
    store: &dyn TokenStore,
) -> Result<Profile, SettingsError> {
    save_profile_with_store(path, new, store, None)
}

/// [`save_profile_to`], recording `token_file` as the profile's store when one is named.
fn save_profile_with_store(
    path: &Path,
    new: &NewProfile,
    store: &dyn TokenStore,
    token_file: Option<&Path>,
) -> Result<Profile, SettingsError> {
    check_profile_name(&new.name)?;
    for (field, value) in [
        ("login_url", &new.login_url),
        ("dashboard_url", &new.dashboard_url),
        ("api_base_url", &new.api_base_url),
        ("jwks_url", &new.jwks_url),
    ] {
        resolve::check_url(field, value)?;
    }
    if let Some(idp) = &new.idp_url {
        resolve::check_url("idp_url", idp)?;
    }
    let mut file = SettingsFile::load(path)?;
    let mut profile = file.profiles.get(&new.name).cloned().unwrap_or_default();
    profile.name = new.name.clone();
    profile.login_url = Some(new.login_url.clone());
    profile.dashboard_url = Some(new.dashboard_url.clone());
    profile.api_base_url = Some(new.api_base_url.clone());
    profile.jwks_url = Some(new.jwks_url.clone());
    profile.idp_url = new.idp_url.clone();
    profile.issuer = Some(new.issuer.clone());
    profile.audience = Some(new.audience.clone());
    profile.username = Some(new.username.clone());
    if new.group_id.is_some() {
        profile.group_id = new.group_id.clone();
    }
    if let Some(f) = token_file {
        profile.token_file = Some(f.to_path_buf());
    }
    // Secrets first: a profile on disk whose secrets are missing would fail later and less
    // clearly.
    if let Some(pw) = &new.password {
        store.save_secret(SecretKind::Password, pw)?;
    }
    if let Some(key) = &new.subscription_key {
        store.save_secret(SecretKind::SubscriptionKey, key)?;
    }
    // The secrets belong to these addresses from now on; a token of other ones is forgotten.
    if let Some(origins) = resolve::origins_of(&profile)? {
        rmm_auth::rebind_origins(store, &origins)?;
    }
    file.profiles.insert(new.name.clone(), profile.clone());
    file.save(path)?;
    Ok(profile)
}

/// [`save_profile_to`] the usual settings file, with the profile's usual store (the OS
/// keyring, or the file named by `TOKEN_FILE`, which the profile then names).
pub fn save_profile(new: &NewProfile) -> Result<Profile, SettingsError> {
    let path = SettingsFile::default_path()?;
    let env = EnvVars::from_process();
    let token_file = env.get("TOKEN_FILE").map(Path::new);
    let store = resolve::token_store_for(&new.name, None, token_file, None)?;
    // The profile names its file store, so that later commands find its secrets there.
    save_profile_with_store(&path, new, store.as_ref(), token_file)
}

/// Moves `resolved`'s profile to the addresses it now has, on purpose (`rmm login
/// --login-url/--api-base-url`): a saved profile records them in the settings file at `path`,
/// the token captured for the old ones is forgotten, and the secrets in `store` belong to the
/// new ones from now on.
pub fn move_profile_to(
    path: &Path,
    resolved: &ResolvedProfile,
    store: &dyn TokenStore,
) -> Result<(), SettingsError> {
    let origins = resolved.secret_origins()?;
    let mut file = SettingsFile::load(path)?;
    if let Some(saved) = file.profiles.get_mut(&resolved.profile.name) {
        let p = &resolved.profile;
        if saved.login_url != p.login_url || saved.api_base_url != p.api_base_url {
            saved.login_url.clone_from(&p.login_url);
            saved.api_base_url.clone_from(&p.api_base_url);
            file.save(path)?;
        }
    }
    if rmm_auth::load_origins(store)?.as_ref() != Some(&origins) {
        store.delete_token()?;
    }
    rmm_auth::rebind_origins(store, &origins)?;
    Ok(())
}
