//! The old tool's environment variables, read from the process and from a `.env` file (the
//! process wins, as with dotenv). Only the known names are kept.

use std::collections::HashMap;
use std::path::Path;

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
    /// The known variables of this process, completed by `dotenv` (default `./.env`) for
    /// those the process does not set.
    pub fn from_process_and_dotenv(dotenv: Option<&Path>) -> Self {
        let mut vars = HashMap::new();
        let path = dotenv.unwrap_or_else(|| Path::new(".env"));
        if let Ok(iter) = dotenvy::from_path_iter(path) {
            for (k, v) in iter.flatten() {
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
