//! Where tokens and login secrets are kept: the [`TokenStore`] trait shared by the OS keyring
//! store and the explicit plain-file store, and the error both report.
//!
//! A store belongs to one profile. Its calls block (the keyring talks to a system service),
//! so async code calls them through `tokio::task::spawn_blocking`.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::token::{AccessToken, TokenOrigin};

/// A secret kept beside the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKind {
    /// The headless login's password (kept only when the user asks to save it).
    Password,
    /// The Azure API Management subscription key (`ocp-apim-subscription-key`).
    SubscriptionKey,
    /// The bearer secret of the local MCP HTTP endpoint (`rmm mcp --http`).
    McpEndpointSecret,
    /// The origins the other secrets were saved for (JSON of [`crate::SecretOrigins`]). Not a
    /// secret itself, but kept with them, where the settings and the environment cannot
    /// change it.
    Origins,
}

impl SecretKind {
    /// The name used for the secret in stores and messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::SubscriptionKey => "subscription-key",
            Self::McpEndpointSecret => "mcp-endpoint-secret",
            Self::Origins => "origins",
        }
    }
}

/// What a store could not do. No variant carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No OS keyring could be reached; nothing was stored anywhere else.
    #[error(
        "no OS keyring is available ({detail}). Start and unlock one (on Linux a Secret Service such as \
         gnome-keyring or KWallet, on a D-Bus session bus), or choose the plain-file store explicitly \
         with `--token-file PATH`, the `token_file` setting or the TOKEN_FILE variable"
    )]
    NoKeyring {
        /// What the keyring library reported.
        detail: String,
    },
    /// The keyring answered but refused the operation.
    #[error("the OS keyring could not {action} the {item}: {detail}")]
    Keyring {
        /// read, save or delete.
        action: &'static str,
        /// token, password or subscription-key.
        item: &'static str,
        /// What the keyring reported.
        detail: String,
    },
    /// The token file could not be read or written.
    #[error("cannot {action} the token file {path}: {source}")]
    File {
        /// read or write.
        action: &'static str,
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// What was stored cannot be read back.
    #[error("the stored {item} in {location} is damaged; log in again (`rmm logout` clears it)")]
    Damaged {
        /// token, password or subscription-key.
        item: &'static str,
        /// Where it is stored.
        location: String,
    },
}

/// Keeps one profile's token and login secrets.
pub trait TokenStore: Send + Sync {
    /// Where the secrets live, for `rmm status` and warnings (never a secret).
    fn describe(&self) -> String;
    /// The stored token, if any.
    fn load_token(&self) -> Result<Option<AccessToken>, StoreError>;
    /// Replaces the stored token.
    fn save_token(&self, token: &AccessToken) -> Result<(), StoreError>;
    /// Removes the stored token; removing an absent one is not an error.
    fn delete_token(&self) -> Result<(), StoreError>;
    /// A stored secret, if any.
    fn load_secret(&self, kind: SecretKind) -> Result<Option<SecretString>, StoreError>;
    /// Replaces a stored secret.
    fn save_secret(&self, kind: SecretKind, value: &SecretString) -> Result<(), StoreError>;
    /// Removes a stored secret; removing an absent one is not an error.
    fn delete_secret(&self, kind: SecretKind) -> Result<(), StoreError>;
}

/// How a token is written inside a store: the raw JWT and where it came from. Lives only
/// for the moment of (de)serialising.
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredToken {
    pub(crate) jwt: String,
    pub(crate) origin: TokenOrigin,
}

impl StoredToken {
    pub(crate) fn of(token: &AccessToken) -> Self {
        Self {
            jwt: token.expose_jwt().to_owned(),
            origin: token.origin(),
        }
    }

    pub(crate) fn into_token(self) -> Option<AccessToken> {
        AccessToken::from_store(SecretString::from(self.jwt), self.origin)
    }
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("jwt", &"[redacted]")
            .field("origin", &self.origin)
            .finish()
    }
}
