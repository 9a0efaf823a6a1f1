//! The [`Login`] trait (how the token manager gets a new token) and [`LoginError`], which
//! tells a refused login (do not try again by itself) from one that merely failed.

use futures::future::BoxFuture;

use crate::store::StoreError;
use crate::token::AccessToken;
use crate::validate::TokenRejected;

/// Gets a fresh, validated token (the headless browser, a visible one, the desktop webview).
pub trait Login: Send + Sync + 'static {
    /// Signs in and returns the captured token, already validated.
    fn login(&self) -> BoxFuture<'_, Result<AccessToken, LoginError>>;
}

/// Why a login gave no token. No variant carries a password or token.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The identity provider refused the credentials (wrong password, locked account).
    /// Trying again by itself would only lock the account: a person must act.
    #[error("login refused at step \"{step}\": {message}")]
    Refused {
        /// The step that was refused.
        step: &'static str,
        /// What the page said, e.g. the IdP's own error text.
        message: String,
    },
    /// A step did not complete: what was awaited, and what the page showed instead.
    #[error("login failed at step \"{step}\": {detail}{}", screenshot.as_ref().map(|p| format!(" (screenshot: {})", p.display())).unwrap_or_default())]
    Step {
        /// The step that failed.
        step: &'static str,
        /// What was awaited and what the page showed.
        detail: String,
        /// Where a screenshot of the page was saved, when asked.
        screenshot: Option<std::path::PathBuf>,
    },
    /// A needed setting is missing.
    #[error("cannot log in: {0}")]
    NotConfigured(String),
    /// Chromium could not be found or started.
    #[error("cannot start Chromium: {0}")]
    Browser(String),
    /// The captured token failed validation; it was not stored.
    #[error("the captured token was refused: {0}")]
    Rejected(#[from] TokenRejected),
    /// The API did not accept the captured token.
    #[error("the captured token does not work with the API: {0}")]
    ApiCheck(String),
    /// The token could not be stored.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A task of this process failed.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl LoginError {
    /// Whether a person must act before another try (no automatic retry).
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Refused { .. } | Self::NotConfigured(_))
    }
}
