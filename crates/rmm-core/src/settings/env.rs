//! The old tool's environment variables, read from the process and from a `.env` file that
//! the user names (`--env-file`, or `env_file` in the settings file); the process wins, as
//! with dotenv. A `.env` in the current folder is never read on its own: a folder the tool
//! happens to run in (a project an agent host starts `rmm mcp` in) must not configure where
//! secrets go. Only the known names are kept.

use std::collections::HashMap;
use std::path::Path;

use super::{SettingsError, invalid};

/// The variables the old tool read; they keep working.
pub const KNOWN_VARS: &[&str] = &[
    "AUTH0_LOGIN_URL",
    "USERNAME_1",
    "PASSWORD_1",
    "API_BASE_URL",
    "TENANT_LIST_ENDPOINT",
    "OCP_APIM_SUBSCRIPTION_KEY",
    "HEADLESS",
    "SLOW_MO",
    "VIEWPORT_WIDTH",
    "VIEWPORT_HEIGHT",
    "DASHBOARD_TIMEOUT",
    "ELEMENT_TIMEOUT",
    "API_TRIGGER_TIMEOUT",
    "TOKEN_FILE",
];

/// A snapshot of the known variables.
#[derive(Clone, Default)]
pub struct EnvVars {
    vars: HashMap<String, String>,
}

impl std::fmt::Debug for EnvVars {
    // Values may be secrets (PASSWORD_1, OCP_APIM_SUBSCRIPTION_KEY): only names are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("EnvVars").field("set", &names).finish()
    }
}

impl EnvVars {
    /// The known variables of this process, completed by the `.env` file `env_file` (when
    /// one is named) for those the process does not set. A named file that cannot be read
    /// or parsed is an error naming it; no file is read when none is named.
    pub fn from_process_and_env_file(env_file: Option<&Path>) -> Result<Self, SettingsError> {
        let mut vars = HashMap::new();
        if let Some(path) = env_file {
            let iter = dotenvy::from_path_iter(path).map_err(|e| {
                invalid(
                    "env_file",
                    format!("{} cannot be read: {}", path.display(), describe(&e)),
                )
            })?;
            for item in iter {
                // A bad line is never shown: it may hold a secret.
                let (k, v) = item.map_err(|e| {
                    invalid(
                        "env_file",
                        format!("{} cannot be parsed: {}", path.display(), describe(&e)),
                    )
                })?;
                if KNOWN_VARS.contains(&k.as_str()) {
                    vars.insert(k, v);
                }
            }
        }
        for name in KNOWN_VARS {
            if let Ok(v) = std::env::var(name) {
                vars.insert((*name).to_owned(), v);
            }
        }
        Ok(Self { vars })
    }

    /// The known variables of this process only (no file).
    pub fn from_process() -> Self {
        let mut vars = HashMap::new();
        for name in KNOWN_VARS {
            if let Ok(v) = std::env::var(name) {
                vars.insert((*name).to_owned(), v);
            }
        }
        Self { vars }
    }

    /// Given pairs (tests, embedding).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    /// A variable's value, when set and not blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
}

/// A dotenv error without the text of the line (it may hold a secret).
fn describe(e: &dotenvy::Error) -> String {
    match e {
        dotenvy::Error::LineParse(_, index) => {
            format!("a line is not NAME=value (at character {index})")
        }
        dotenvy::Error::Io(io) => io.to_string(),
        dotenvy::Error::EnvVar(_) => "a value is not valid text".to_owned(),
        _ => "unreadable".to_owned(),
    }
}
