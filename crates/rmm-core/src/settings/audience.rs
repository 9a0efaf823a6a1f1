//! A profile's token audience (`aud`), learned at its first sign-in when nobody set one: a
//! profile made in the app's Settings names its addresses but not the audience, and without
//! one any valid token of the issuer would be taken. The first token's audience is saved into
//! the profile, and from then on a token for another audience is refused.

use std::path::Path;

use super::{SettingsError, SettingsFile};

/// What the profile's audience says of a token's audiences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudienceCheck {
    /// The token names the profile's audience (or neither has one).
    Kept,
    /// The profile had none; the token's first audience is now the profile's.
    Learned(String),
    /// The token is for other audiences than the profile's.
    Wrong {
        expected: String,
        found: Vec<String>,
    },
}

impl AudienceCheck {
    /// The refusal, in words for a person; none when the token may be kept.
    pub fn refusal(&self) -> Option<String> {
        match self {
            Self::Wrong { expected, found } => Some(format!(
                "the token is for the audience {}, not this profile's {expected}: it was refused \
                 (a profile's audience is learned at its first sign-in; set `audience` in its \
                 settings to change it)",
                if found.is_empty() {
                    "(none)".to_owned()
                } else {
                    found.join(", ")
                }
            )),
            Self::Kept | Self::Learned(_) => None,
        }
    }
}

/// Checks `audiences` (a token's `aud`) against profile `name` in the settings file at
/// `path`; a profile without an audience learns the first one, saved at once. A profile
/// that is not in the file (environment-only, or the demo) is left as it is.
pub fn learn_audience(
    path: &Path,
    name: &str,
    audiences: &[String],
) -> Result<AudienceCheck, SettingsError> {
    let mut file = SettingsFile::load(path)?;
    let Some(profile) = file.profiles.get_mut(name) else {
        return Ok(AudienceCheck::Kept);
    };
    match (&profile.audience, audiences.first()) {
        (Some(expected), _) if audiences.contains(expected) => Ok(AudienceCheck::Kept),
        (Some(expected), _) => Ok(AudienceCheck::Wrong {
            expected: expected.clone(),
            found: audiences.to_vec(),
        }),
        (None, None) => Ok(AudienceCheck::Kept),
        (None, Some(first)) => {
            let learned = first.clone();
            profile.audience = Some(learned.clone());
            file.save(path)?;
            tracing::info!(profile = name, audience = %learned, "token audience learned at the first sign-in");
            Ok(AudienceCheck::Learned(learned))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::settings::Profile;

    fn file_with(dir: &Path, audience: Option<&str>) -> std::path::PathBuf {
        let path = dir.join("settings.toml");
        let mut file = SettingsFile::default();
        file.profiles.insert(
            "office".into(),
            Profile {
                name: "office".into(),
                audience: audience.map(str::to_owned),
                ..Profile::default()
            },
        );
        file.save(&path).unwrap();
        path
    }

    #[test]
    fn the_first_token_teaches_the_audience_and_another_is_refused_after() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_with(dir.path(), None);
        let rmm = vec!["https://rmm.example/api".to_owned()];
        assert_eq!(
            learn_audience(&path, "office", &rmm).unwrap(),
            AudienceCheck::Learned("https://rmm.example/api".into())
        );
        let saved = SettingsFile::load(&path).unwrap();
        assert_eq!(
            saved.profile("office").unwrap().audience.as_deref(),
            Some("https://rmm.example/api")
        );
        assert_eq!(
            learn_audience(&path, "office", &rmm).unwrap(),
            AudienceCheck::Kept
        );
        let other = learn_audience(&path, "office", &["https://evil.example".to_owned()]).unwrap();
        let refusal = other.refusal().unwrap();
        assert!(
            refusal.contains("https://evil.example") && refusal.contains("https://rmm.example/api"),
            "{refusal}"
        );
        let still = SettingsFile::load(&path).unwrap();
        assert_eq!(
            still.profile("office").unwrap().audience.as_deref(),
            Some("https://rmm.example/api"),
            "a refused token teaches nothing"
        );
    }

    #[test]
    fn a_set_audience_is_checked_and_an_unknown_profile_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_with(dir.path(), Some("A"));
        assert_eq!(
            learn_audience(&path, "office", &["B".into(), "A".into()]).unwrap(),
            AudienceCheck::Kept
        );
        assert!(matches!(
            learn_audience(&path, "office", &[]).unwrap(),
            AudienceCheck::Wrong { .. }
        ));
        assert_eq!(
            learn_audience(&path, "elsewhere", &["B".into()]).unwrap(),
            AudienceCheck::Kept
        );
    }
}
