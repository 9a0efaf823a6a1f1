//! A profile's token issuer, pinned at the sign-in that learned it: a profile that names no
//! issuer guesses the login page's origin, which is wrong for a custom Auth0 domain or a
//! dashboard address given as the login page. The validator then checks the token against its
//! own issuer's discovery document (`rmm_auth::ValidationRules::issuer_guessed`), and what it
//! learned is saved into the profile: from then on, only that issuer's tokens are taken.

use std::path::Path;

use rmm_auth::LearnedIssuer;

use super::{SettingsError, SettingsFile};

/// Saves `learned` as profile `name`'s issuer and key source, unless the profile already
/// names an issuer or is not in the settings file (environment-only, or the demo). Whether it
/// was saved.
pub fn pin_issuer(path: &Path, name: &str, learned: &LearnedIssuer) -> Result<bool, SettingsError> {
    let mut file = SettingsFile::load(path)?;
    let Some(profile) = file.profiles.get_mut(name) else {
        return Ok(false);
    };
    if profile.issuer.is_some() {
        return Ok(false);
    }
    profile.issuer = Some(learned.issuer.clone());
    profile.jwks_url = Some(learned.jwks_url.to_string());
    file.save(path)?;
    tracing::info!(profile = name, issuer = %learned.issuer, "token issuer learned at sign-in and pinned");
    Ok(true)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::settings::Profile;

    #[test]
    fn an_unset_issuer_is_pinned_once_and_a_set_one_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        let mut file = SettingsFile::default();
        file.profiles.insert(
            "office".into(),
            Profile {
                name: "office".into(),
                ..Profile::default()
            },
        );
        file.save(&path).unwrap();
        let learned = |iss: &str| LearnedIssuer {
            issuer: iss.to_owned(),
            jwks_url: url::Url::parse(&format!("{iss}.well-known/jwks.json")).unwrap(),
        };
        assert!(pin_issuer(&path, "office", &learned("https://login.example.com/")).unwrap());
        let saved = SettingsFile::load(&path).unwrap();
        let p = &saved.profiles["office"];
        assert_eq!(p.issuer.as_deref(), Some("https://login.example.com/"));
        assert_eq!(
            p.jwks_url.as_deref(),
            Some("https://login.example.com/.well-known/jwks.json")
        );
        // Pinned: another issuer later changes nothing.
        assert!(!pin_issuer(&path, "office", &learned("https://evil.example/")).unwrap());
        assert_eq!(
            SettingsFile::load(&path).unwrap().profiles["office"]
                .issuer
                .as_deref(),
            Some("https://login.example.com/")
        );
        assert!(!pin_issuer(&path, "elsewhere", &learned("https://x.example/")).unwrap());
    }
}
