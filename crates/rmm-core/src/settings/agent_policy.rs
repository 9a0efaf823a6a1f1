//! A profile's autonomy envelope in the settings file (`[profiles.<name>.agent_policy]`):
//! read fresh for every agent step, so a change a person makes in Settings, with `rmm policy`
//! or in the file holds at once, even for an MCP server already running.

use std::path::Path;

use super::{SettingsError, SettingsFile, invalid};
use crate::rollout::AgentPolicy;

/// Profile `name`'s policy: the defaults (nothing qualified) when it sets none or is not in
/// the settings file.
pub fn agent_policy(path: &Path, name: &str) -> Result<AgentPolicy, SettingsError> {
    let file = SettingsFile::load(path)?;
    Ok(file
        .profile(name)
        .and_then(|p| p.agent_policy.clone())
        .unwrap_or_default())
}

/// Saves `policy` as profile `name`'s, after checking every rule. The profile must be in the
/// settings file (the limits of an environment-only profile would have nowhere to live).
pub fn set_agent_policy(
    path: &Path,
    name: &str,
    policy: &AgentPolicy,
) -> Result<(), SettingsError> {
    if let Some(p) = policy.validate().iter().next() {
        return Err(invalid(format!("agent_policy.{}", p.field), p.rule.clone()));
    }
    let mut file = SettingsFile::load(path)?;
    let Some(profile) = file.profiles.get_mut(name) else {
        return Err(invalid(
            "profile",
            format!(
                "{name:?} is not in the settings file: save it first (`rmm profile set`, or the app's Settings)"
            ),
        ));
    };
    profile.agent_policy = Some(policy.clone());
    file.save(path)?;
    tracing::info!(
        profile = name,
        qualified = policy.qualified.len(),
        stopped = policy.agents_stopped,
        "agent policy saved"
    );
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::settings::Profile;

    #[test]
    fn a_policy_saves_reads_back_and_leaves_the_rest_of_the_profile() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        let mut file = SettingsFile::default();
        file.profiles.insert(
            "office".into(),
            Profile {
                name: "office".into(),
                api_base_url: Some("https://api.example.com/".into()),
                ..Profile::default()
            },
        );
        file.save(&path).unwrap();
        assert_eq!(
            agent_policy(&path, "office").unwrap(),
            AgentPolicy::default()
        );
        let mut policy = AgentPolicy {
            largest_wave: 7,
            hours: vec!["8-18".into()],
            ..AgentPolicy::default()
        };
        policy.qualify("MX-3071", "file-9");
        set_agent_policy(&path, "office", &policy).unwrap();
        assert_eq!(agent_policy(&path, "office").unwrap(), policy);
        let saved = SettingsFile::load(&path).unwrap();
        assert_eq!(
            saved.profiles["office"].api_base_url.as_deref(),
            Some("https://api.example.com/")
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("[profiles.office.agent_policy]"), "{text}");
    }

    #[test]
    fn a_broken_policy_or_an_unknown_profile_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        let mut file = SettingsFile::default();
        file.profiles.insert("office".into(), Profile::default());
        file.save(&path).unwrap();
        let before = std::fs::read_to_string(&path).unwrap();
        let bad = AgentPolicy {
            hours: vec!["25-3".into()],
            ..AgentPolicy::default()
        };
        let e = set_agent_policy(&path, "office", &bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("agent_policy.hours[0]"), "{e}");
        let e = set_agent_policy(&path, "elsewhere", &AgentPolicy::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("not in the settings file"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    }
}
