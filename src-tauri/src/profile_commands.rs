//! The commands of Settings and the first-run screen: list the profiles, save one, use one,
//! try the demo. They translate to rmm-core's settings (which check every field) and to
//! [`ActiveProfile`] (which switches); the subscription key only ever goes in: the UI learns
//! whether one is stored, never its value.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, State};

use crate::active_profile::{ActiveProfile, Choice};
use crate::command_error::{CommandError, ErrorCode};
use crate::login_window;
use crate::session::SessionInfo;

/// A profile as Settings lists it (no secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ProfileSummary {
    pub name: String,
    pub login_url: Option<String>,
    pub api_base_url: Option<String>,
    pub dashboard_url: Option<String>,
    pub idp_url: Option<String>,
    /// `UTC±hh:mm`, when set.
    pub time_zone: Option<String>,
    pub chromium_path: Option<String>,
    /// Whether the keyring holds a subscription key for it.
    pub has_subscription_key: bool,
    /// The user name the sign-in with Chromium types.
    pub username: Option<String>,
    /// Whether the keyring holds a password for the sign-in with Chromium.
    pub has_password: bool,
}

/// The profiles and which is in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ProfileList {
    pub profiles: Vec<ProfileSummary>,
    /// The profile in use (`demo` for the demo), none before the user chose one.
    pub active: Option<String>,
    /// Whether the demo is in use.
    pub demo_active: bool,
    /// After `save_profile`: whether the app switched to the saved profile.
    pub switched: bool,
}

/// The Settings form as the user filled it in. Empty dashboard URL, identity provider URL,
/// time zone, Chromium path and user name mean none; an empty or absent subscription key or
/// password keeps the stored one. Not `Debug`: it holds secrets.
#[derive(Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ProfileInput {
    pub name: String,
    pub login_url: String,
    pub api_base_url: String,
    pub dashboard_url: String,
    pub idp_url: String,
    pub time_zone: String,
    pub chromium_path: String,
    pub subscription_key: Option<String>,
    pub username: String,
    pub password: Option<String>,
}

impl From<ProfileInput> for rmm_core::settings::ProfileEdit {
    fn from(input: ProfileInput) -> Self {
        Self {
            name: input.name.trim().to_owned(),
            login_url: input.login_url,
            api_base_url: input.api_base_url,
            dashboard_url: input.dashboard_url,
            idp_url: input.idp_url,
            time_zone: input.time_zone,
            chromium_path: input.chromium_path,
            subscription_key: input
                .subscription_key
                .filter(|key| !key.is_empty())
                .map(SecretString::from),
            username: input.username,
            password: input
                .password
                .filter(|password| !password.is_empty())
                .map(SecretString::from),
        }
    }
}

fn summary(profile: &rmm_core::settings::Profile) -> ProfileSummary {
    let stored = |has: fn(
        &rmm_core::settings::Profile,
    ) -> Result<bool, rmm_core::settings::SettingsError>| {
        has(profile).unwrap_or_else(|error| {
            tracing::warn!(%error, profile = %profile.name, "cannot tell whether a secret is stored");
            false
        })
    };
    let has_subscription_key = stored(rmm_core::settings::has_subscription_key);
    let has_password = stored(rmm_core::settings::has_password);
    ProfileSummary {
        name: profile.name.clone(),
        login_url: profile.login_url.clone(),
        api_base_url: profile.api_base_url.clone(),
        dashboard_url: profile.dashboard_url.clone(),
        idp_url: profile.idp_url.clone(),
        time_zone: profile.time_zone.as_ref().map(|tz| format!("UTC{tz}")),
        chromium_path: profile
            .chromium_path
            .as_ref()
            .map(|p| p.display().to_string()),
        has_subscription_key,
        username: profile.username.clone(),
        has_password,
    }
}

async fn list(active: &ActiveProfile, switched: bool) -> Result<ProfileList, CommandError> {
    let file = active.profiles()?;
    let current = active.current();
    let demo_active = current.choice == Some(Choice::Demo);
    let active_name = current.name().map(str::to_owned);
    // The keyring answers over D-Bus: not on the async threads.
    let profiles = tokio::task::spawn_blocking(move || {
        file.profiles.values().map(summary).collect::<Vec<_>>()
    })
    .await
    .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))?;
    Ok(ProfileList {
        profiles,
        active: active_name,
        demo_active,
        switched,
    })
}

/// The profiles of the settings file (shared with the `rmm` command line) and the one in use.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn list_profiles(active: State<'_, ActiveProfile>) -> Result<ProfileList, CommandError> {
    list(&active, false).await
}

/// Saves a profile (bad fields come back as `bad_input` with `problems`, nothing saved). The
/// app switches to it when no profile is in use yet or when it is the one in use.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn save_profile(
    app: AppHandle,
    active: State<'_, ActiveProfile>,
    profile: ProfileInput,
) -> Result<ProfileList, CommandError> {
    let before = active.current().name().map(str::to_owned);
    let switched = active.save_profile(profile.into()).await?;
    if switched && before.is_some() {
        login_window::close(&app);
    }
    list(&active, switched).await
}

/// Switches to the profile called `name`, and remembers it for the next start.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn use_profile(
    app: AppHandle,
    active: State<'_, ActiveProfile>,
    name: String,
) -> Result<SessionInfo, CommandError> {
    let connected = active.switch_to(Choice::Profile { name }, true).await?;
    login_window::close(&app);
    Ok(connected.session.snapshot())
}

/// Starts the built-in simulator (once) and switches to it, as `--demo` does.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn start_demo(
    app: AppHandle,
    active: State<'_, ActiveProfile>,
) -> Result<SessionInfo, CommandError> {
    let connected = active.switch_to(Choice::Demo, true).await?;
    login_window::close(&app);
    Ok(connected.session.snapshot())
}

/// Signs in through a visible Chromium instead of the login window (for IdPs that refuse
/// embedded webviews): rmm-auth types the profile's user name and saved password and captures
/// the token. It runs in the background; `session_status` tells when it is done.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn sign_in_with_chromium(
    app: AppHandle,
    active: State<'_, ActiveProfile>,
) -> Result<SessionInfo, CommandError> {
    let session = active.session();
    let (config, rules) = active.chromium_login().await?;
    login_window::close(&app);
    let started = session.started_signing_in();
    tauri::async_runtime::spawn(async move {
        let login = rmm_auth::HeadlessLogin::new(
            config,
            std::sync::Arc::new(rmm_auth::TokenValidator::new(rules)),
        );
        let kept = match login.run().await {
            Ok(token) => session.keep(token, "a visible Chromium").await.map(|_| ()),
            // rmm-auth's messages name the step and what the page showed, never a secret.
            Err(error) => Err(CommandError::new(
                ErrorCode::SignInNeeded,
                format!("the sign-in with Chromium did not finish: {error}"),
            )),
        };
        if let Err(error) = kept {
            tracing::warn!(code = ?error.code, message = %error.message, "sign-in with Chromium failed");
            session.sign_in_failed(error);
        }
    });
    Ok(started)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_key_keeps_the_stored_one_and_a_given_key_stays_secret() {
        let input = ProfileInput {
            name: " office ".into(),
            login_url: "https://l.example.com".into(),
            api_base_url: "https://a.example.com".into(),
            dashboard_url: String::new(),
            idp_url: String::new(),
            time_zone: String::new(),
            chromium_path: String::new(),
            subscription_key: Some(String::new()),
            username: String::new(),
            password: Some(String::new()),
        };
        let edit = rmm_core::settings::ProfileEdit::from(input.clone());
        assert_eq!(edit.name, "office");
        assert!(edit.subscription_key.is_none() && edit.password.is_none());
        let edit = rmm_core::settings::ProfileEdit::from(ProfileInput {
            subscription_key: Some("k-9".into()),
            password: Some("pw-9".into()),
            ..input
        });
        assert!(edit.subscription_key.is_some() && edit.password.is_some());
        let text = format!("{edit:?}");
        assert!(!text.contains("k-9") && !text.contains("pw-9"), "{text}");
    }

    #[test]
    fn the_summary_says_whether_a_key_is_stored_never_which() {
        let dir = tempfile::tempdir().unwrap();
        let profile = rmm_core::settings::Profile {
            name: "office".into(),
            time_zone: Some("+05:30".into()),
            token_file: Some(dir.path().join("t.json")),
            ..Default::default()
        };
        assert!(!summary(&profile).has_subscription_key);
        let store = rmm_core::settings::profile_token_store(&profile).unwrap();
        store
            .save_secret(
                rmm_auth::SecretKind::SubscriptionKey,
                &SecretString::from("k-secret-1".to_owned()),
            )
            .unwrap();
        let shown = summary(&profile);
        assert!(shown.has_subscription_key);
        assert!(!shown.has_password);
        assert_eq!(shown.time_zone.as_deref(), Some("UTC+05:30"));
        let json = serde_json::to_string(&shown).unwrap();
        assert!(!json.contains("k-secret-1"), "{json}");
    }
}
