//! A profile as a person enters it in the desktop app's Settings: name, login URL, API base,
//! subscription key, time zone, Chromium path, and for the sign-in through a visible Chromium
//! the user name and password. Every field is checked at once, so the form can show all its
//! problems together; the subscription key and the password go to the profile's token store
//! (the OS keyring), never to the settings file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rmm_auth::{SecretKind, TokenStore};
use secrecy::{ExposeSecret, SecretString};

use super::{Profile, SettingsError, SettingsFile, check_profile_name, resolve};
use crate::Problems;

/// The fields of the Settings form. Empty time zone and Chromium path mean "none" (the cloud's
/// default, and the Chromium found on the system).
#[derive(Clone, Default)]
pub struct ProfileEdit {
    /// The profile's name (it names keyring items): 1-64 letters, digits, `-` or `_`.
    pub name: String,
    /// The Auth0 login page.
    pub login_url: String,
    /// The RMM API base.
    pub api_base_url: String,
    /// The dashboard the sign-in returns to (its pages hand the token over), or empty.
    pub dashboard_url: String,
    /// The identity provider's sign-in page (Sharp-Start: the saved password is typed only on
    /// its origin), or empty.
    pub idp_url: String,
    /// `UTC±hh:mm` (or `±hh:mm`), or empty.
    pub time_zone: String,
    /// An absolute path to the Chromium to drive, or empty.
    pub chromium_path: String,
    /// A new subscription key; `None` keeps the stored one.
    pub subscription_key: Option<SecretString>,
    /// The Sharp-Start user name the Chromium sign-in types, or empty.
    pub username: String,
    /// A new Sharp-Start password for the Chromium sign-in; `None` keeps the stored one.
    pub password: Option<SecretString>,
}

impl std::fmt::Debug for ProfileEdit {
    // The subscription key is never shown, only whether one was given.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileEdit")
            .field("name", &self.name)
            .field("login_url", &self.login_url)
            .field("api_base_url", &self.api_base_url)
            .field("dashboard_url", &self.dashboard_url)
            .field("idp_url", &self.idp_url)
            .field("time_zone", &self.time_zone)
            .field("chromium_path", &self.chromium_path)
            .field("subscription_key_given", &self.subscription_key.is_some())
            .field("username", &self.username)
            .field("password_given", &self.password.is_some())
            .finish()
    }
}

/// Why an edit was not saved.
#[derive(Debug, thiserror::Error)]
pub enum ProfileEditError {
    /// Fields break rules: all of them, field by field.
    #[error("{0}")]
    Invalid(Problems),
    /// The settings file or the token store failed.
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

/// The checked values of an edit, as the settings file keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Checked {
    login_url: String,
    api_base_url: String,
    dashboard_url: Option<String>,
    idp_url: Option<String>,
    time_zone: Option<String>,
    chromium_path: Option<PathBuf>,
    username: Option<String>,
}

/// A time zone as the form takes it (`UTC+05:30`, `utc-08:00`, `+05:30`) as the profile keeps
/// it (`+05:30`); empty is none. The rule is `crate::time_zone`'s, the same that connecting
/// and scheduling use.
pub fn normalize_time_zone(text: &str) -> Result<Option<String>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    crate::time_zone::parse_time_zone(text)
        .map(|zone| Some(crate::time_zone::stored_time_zone(zone)))
        .ok_or_else(|| format!("{text:?} {}", crate::time_zone::TIME_ZONE_RULE))
}

/// Checks every field of `edit`; all problems at once.
fn check(edit: &ProfileEdit) -> Result<Checked, Problems> {
    let mut problems = Problems::new();
    if let Err(SettingsError::Invalid { rule, .. }) = check_profile_name(&edit.name) {
        problems.push("name", rule);
    }
    let mut url = |field: &str, value: &str| -> String {
        let value = value.trim();
        if value.is_empty() {
            problems.push(field, "is required: an http(s) URL");
        } else if let Err(SettingsError::Invalid { rule, .. }) = resolve::check_url(field, value) {
            problems.push(field, rule);
        }
        value.to_owned()
    };
    let login_url = url("login_url", &edit.login_url);
    let api_base_url = url("api_base_url", &edit.api_base_url);
    let mut optional_url = |field: &str, value: &str| -> Option<String> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        if let Err(SettingsError::Invalid { rule, .. }) = resolve::check_url(field, value) {
            problems.push(field, rule);
        }
        Some(value.to_owned())
    };
    let dashboard_url = optional_url("dashboard_url", &edit.dashboard_url);
    let idp_url = optional_url("idp_url", &edit.idp_url);
    let time_zone = normalize_time_zone(&edit.time_zone).unwrap_or_else(|rule| {
        problems.push("time_zone", rule);
        None
    });
    let chromium_path = match edit.chromium_path.trim() {
        "" => None,
        text => {
            let path = PathBuf::from(text);
            if !path.is_absolute() {
                problems.push(
                    "chromium_path",
                    format!("{text:?} must be an absolute path"),
                );
            } else if !path.is_file() {
                problems.push(
                    "chromium_path",
                    format!("{text:?} is not a file on this machine"),
                );
            }
            Some(path)
        }
    };
    if let Some(key) = &edit.subscription_key {
        let key = key.expose_secret();
        // The rule names no part of the key.
        if key.trim().is_empty() || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            problems.push(
                "subscription_key",
                "must be the key without spaces (leave it empty to keep the stored one)",
            );
        }
    }
    let username = match edit.username.trim() {
        "" => None,
        name if name.chars().any(char::is_control) => {
            problems.push("username", "must be a name without control characters");
            None
        }
        name => Some(name.to_owned()),
    };
    if let Some(password) = &edit.password {
        let password = password.expose_secret();
        // The rule names no part of the password.
        if password.is_empty() || password.chars().any(char::is_control) {
            problems.push(
                "password",
                "must not be empty or hold control characters (leave it empty to keep the stored one)",
            );
        }
    }
    problems.into_result().map(|()| Checked {
        login_url,
        api_base_url,
        dashboard_url,
        idp_url,
        time_zone,
        chromium_path,
        username,
    })
}

/// Checks `edit` without saving anything.
pub fn check_profile_edit(edit: &ProfileEdit) -> Result<(), Problems> {
    check(edit).map(|_| ())
}

/// The token store of a profile of the settings file: its `token_file` when it names one, else
/// the OS keyring entry of its name (which must be reachable).
pub fn profile_token_store(profile: &Profile) -> Result<Arc<dyn TokenStore>, SettingsError> {
    resolve::token_store_for(&profile.name, profile.token_file.as_deref(), None, None)
}

/// Checks `edit` and records it in the settings file at `path` (a profile of the same name
/// keeps its other settings), the subscription key in the profile's token store
/// ([`profile_token_store`]). Nothing is written when a field breaks a rule.
pub fn save_profile_edit_to(path: &Path, edit: &ProfileEdit) -> Result<Profile, ProfileEditError> {
    let checked = check(edit).map_err(ProfileEditError::Invalid)?;
    let mut file = SettingsFile::load(path)?;
    let before = file.profiles.get(&edit.name).cloned();
    let mut profile = before.clone().unwrap_or_default();
    profile.name = edit.name.clone();
    profile.login_url = Some(checked.login_url);
    profile.api_base_url = Some(checked.api_base_url);
    profile.dashboard_url = checked.dashboard_url;
    profile.idp_url = checked.idp_url;
    profile.time_zone = checked.time_zone;
    profile.chromium_path = checked.chromium_path;
    profile.username = checked.username;
    // The secrets first: a profile on disk whose secrets are missing would fail later and less
    // clearly.
    let secrets_given = edit.subscription_key.is_some() || edit.password.is_some();
    // Every address a secret is bound to or a token is handed over from.
    let moved = before.as_ref().is_some_and(|b| {
        b.login_url != profile.login_url
            || b.api_base_url != profile.api_base_url
            || b.dashboard_url != profile.dashboard_url
            || b.idp_url != profile.idp_url
    });
    if secrets_given || moved {
        let store = profile_token_store(&profile)?;
        for (kind, secret) in [
            (SecretKind::SubscriptionKey, &edit.subscription_key),
            (SecretKind::Password, &edit.password),
        ] {
            if let Some(secret) = secret {
                store
                    .save_secret(kind, secret)
                    .map_err(SettingsError::from)?;
            }
        }
        // Saving the form is the explicit act that moves a profile: its secrets belong to
        // the new addresses, and a token of the old ones is forgotten.
        if moved {
            store.delete_token().map_err(SettingsError::from)?;
        }
        if let Some(origins) = resolve::origins_of(&profile)? {
            rmm_auth::rebind_origins(store.as_ref(), &origins).map_err(SettingsError::from)?;
        }
    }
    file.profiles.insert(edit.name.clone(), profile.clone());
    file.save(path)?;
    Ok(profile)
}

/// Whether the profile's token store holds a subscription key (never the key itself).
pub fn has_subscription_key(profile: &Profile) -> Result<bool, SettingsError> {
    let store = profile_token_store(profile)?;
    Ok(store.load_secret(SecretKind::SubscriptionKey)?.is_some())
}

/// Whether the profile's token store holds a password (never the password itself).
pub fn has_password(profile: &Profile) -> Result<bool, SettingsError> {
    let store = profile_token_store(profile)?;
    Ok(store.load_secret(SecretKind::Password)?.is_some())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn edit(dir: &Path) -> ProfileEdit {
        ProfileEdit {
            name: "office".into(),
            login_url: "https://login.example.com/authorize".into(),
            api_base_url: "https://api.example.com/rmm/".into(),
            dashboard_url: "https://dashboard.example.com/".into(),
            idp_url: "https://idp.example.com/login".into(),
            time_zone: "UTC+05:30".into(),
            chromium_path: String::new(),
            subscription_key: Some(SecretString::from("k-123456".to_owned())),
            username: "admin@example.com".into(),
            password: Some(SecretString::from("pw-98765".to_owned())),
        }
        .with_token_file(dir)
    }

    impl ProfileEdit {
        fn with_token_file(self, dir: &Path) -> Self {
            // Tests keep secrets in a file store: the settings file names it.
            let path = dir.join("settings.toml");
            let mut file = SettingsFile::default();
            file.profiles.insert(
                self.name.clone(),
                Profile {
                    name: self.name.clone(),
                    token_file: Some(dir.join("tokens.json")),
                    username: Some("kept@example.com".into()),
                    ..Profile::default()
                },
            );
            file.save(&path).unwrap();
            self
        }
    }

    #[test]
    fn every_bad_field_is_reported_at_once_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        let bad = ProfileEdit {
            name: "my office".into(),
            login_url: String::new(),
            api_base_url: "ftp://api.example.com".into(),
            dashboard_url: "dashboard.example.com".into(),
            idp_url: "ftp://idp.example.com".into(),
            time_zone: "UTC+5".into(),
            chromium_path: "chromium".into(),
            subscription_key: Some(SecretString::from("has space".to_owned())),
            username: "a\u{7}b".into(),
            password: Some(SecretString::from(String::new())),
        };
        let Err(ProfileEditError::Invalid(problems)) = save_profile_edit_to(&path, &bad) else {
            panic!("bad input was accepted");
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "login_url",
                "api_base_url",
                "dashboard_url",
                "idp_url",
                "time_zone",
                "chromium_path",
                "subscription_key",
                "username",
                "password"
            ]
        );
        assert!(problems.iter().all(|p| !p.rule.contains("has space")));
        assert!(!path.exists());
    }

    #[test]
    fn time_zones_are_utc_offsets() {
        assert_eq!(
            normalize_time_zone("UTC+05:30").unwrap().as_deref(),
            Some("+05:30")
        );
        assert_eq!(
            normalize_time_zone(" utc-08:00 ").unwrap().as_deref(),
            Some("-08:00")
        );
        assert_eq!(
            normalize_time_zone("+01:00").unwrap().as_deref(),
            Some("+01:00")
        );
        assert_eq!(normalize_time_zone("").unwrap(), None);
        for bad in [
            "UTC+15:00",
            "UTC-13:00",
            "UTC+05:60",
            "CET",
            "UTC 05:00",
            "UTC+5:30",
        ] {
            let rule = normalize_time_zone(bad).unwrap_err();
            assert!(rule.contains("UTC±hh:mm"), "{bad}: {rule}");
        }
    }

    /// A zone the settings accept is a zone the API client connects with (UTC-13:00 used to
    /// save and then fail when connecting).
    #[test]
    fn every_zone_that_saves_connects() {
        let mut accepted = 0;
        for minutes in (-15 * 60..=15 * 60).step_by(15) {
            let sign = if minutes < 0 { '-' } else { '+' };
            let m: i32 = minutes;
            let text = format!("UTC{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60);
            let Ok(Some(stored)) = normalize_time_zone(&text) else {
                continue;
            };
            accepted += 1;
            assert!(resolve::check_time_zone(&stored).is_ok(), "{text}");
            let config = rmm_api::ApiConfig::new(
                "https://api.example.com",
                rmm_api::SecretString::from("key".to_owned()),
                &stored,
            );
            assert!(config.is_ok(), "{text} saves but does not connect");
        }
        // -12:00..=+14:00 in quarter hours.
        assert_eq!(accepted, 26 * 4 + 1);
    }

    #[test]
    fn a_saved_edit_keeps_the_key_in_the_store_and_out_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        let saved = save_profile_edit_to(&path, &edit(dir.path())).unwrap();
        assert_eq!(saved.time_zone.as_deref(), Some("+05:30"));
        assert_eq!(saved.username.as_deref(), Some("admin@example.com"));
        assert_eq!(
            saved.dashboard_url.as_deref(),
            Some("https://dashboard.example.com/")
        );
        assert_eq!(
            saved.idp_url.as_deref(),
            Some("https://idp.example.com/login")
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("k-123456") && !text.contains("pw-98765"),
            "{text}"
        );
        assert!(has_password(&saved).unwrap());
        assert!(text.contains("https://api.example.com/rmm/"), "{text}");
        let file = SettingsFile::load(&path).unwrap();
        let profile = file.profile("office").unwrap();
        assert!(has_subscription_key(profile).unwrap());
        let store = profile_token_store(profile).unwrap();
        let key = store
            .load_secret(SecretKind::SubscriptionKey)
            .unwrap()
            .unwrap();
        assert_eq!(key.expose_secret(), "k-123456");

        // No key given: the stored one stays; an empty time zone is none.
        let again = ProfileEdit {
            subscription_key: None,
            password: None,
            time_zone: String::new(),
            dashboard_url: " ".into(),
            ..edit(dir.path())
        };
        // `edit()` rewrote the file with the bare profile; save over it.
        let saved = save_profile_edit_to(&path, &again).unwrap();
        assert_eq!(saved.time_zone, None);
        assert_eq!(saved.dashboard_url, None, "empty is none");
        assert!(has_subscription_key(&saved).unwrap());
        assert!(has_password(&saved).unwrap());
    }

    #[test]
    fn the_debug_text_hides_the_key() {
        let text = format!(
            "{:?}",
            ProfileEdit {
                subscription_key: Some(SecretString::from("k-secret".to_owned())),
                password: Some(SecretString::from("pw-secret".to_owned())),
                ..ProfileEdit::default()
            }
        );
        assert!(
            !text.contains("k-secret") && !text.contains("pw-secret"),
            "{text}"
        );
    }
}
