//! The access token: the raw JWT, what it says about the user, and where it came from.
//!
//! The raw JWT is a secret: it is kept in a [`SecretString`], left out of `Debug`, and only
//! handed out through [`AccessToken::expose_jwt`], so every place that needs the raw text is
//! easy to find.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Where a token was captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenOrigin {
    /// Chromium driven without a window.
    HeadlessBrowser,
    /// Chromium in a window, for logins that need a person (MFA).
    VisibleBrowser,
    /// The desktop app's login webview.
    EmbeddedWebview,
    /// Given by the user (pasted or piped in).
    Pasted,
}

impl fmt::Display for TokenOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::HeadlessBrowser => "headless browser",
            Self::VisibleBrowser => "visible browser",
            Self::EmbeddedWebview => "embedded webview",
            Self::Pasted => "pasted",
        })
    }
}

/// `aud` is either one string or a list of strings.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// The claims of the JWT that this tool reads. None of them is secret.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct TokenClaims {
    /// `sub`: the user's id at the identity provider.
    #[serde(default)]
    pub sub: Option<String>,
    /// `email`: the user's email, when the issuer puts it in the access token.
    #[serde(default)]
    pub email: Option<String>,
    /// `sspTenantId`: the user's default group (tenant) id.
    #[serde(default, rename = "sspTenantId")]
    pub tenant_id: Option<String>,
    /// `iss`: who issued the token.
    #[serde(default)]
    pub iss: Option<String>,
    #[serde(default)]
    aud: Option<OneOrMany>,
    /// `iat`: issued at, Unix seconds.
    #[serde(default)]
    pub iat: Option<u64>,
    /// `nbf`: not valid before, Unix seconds.
    #[serde(default)]
    pub nbf: Option<u64>,
    /// `exp`: expires at, Unix seconds.
    pub exp: u64,
}

impl TokenClaims {
    /// The audiences (`aud`), as a list whatever the token's own form.
    pub fn audiences(&self) -> Vec<String> {
        match &self.aud {
            None => Vec::new(),
            Some(OneOrMany::One(a)) => vec![a.clone()],
            Some(OneOrMany::Many(a)) => a.clone(),
        }
    }
}

/// A checked bearer token for the Sharp RMM API.
///
/// Only [`crate::TokenValidator`] (after checking the signature and claims) and the token
/// stores (reading back what was validated before it was saved) make one.
#[derive(Clone)]
pub struct AccessToken {
    jwt: SecretString,
    claims: TokenClaims,
    origin: TokenOrigin,
}

impl AccessToken {
    pub(crate) fn new(jwt: SecretString, claims: TokenClaims, origin: TokenOrigin) -> Self {
        Self {
            jwt,
            claims,
            origin,
        }
    }

    /// Reads back a token that was validated before it was stored. The signature is not
    /// checked again (that needs the network); the claims must still parse.
    pub(crate) fn from_store(jwt: SecretString, origin: TokenOrigin) -> Option<Self> {
        let claims = crate::validate::read_claims_unverified(jwt.expose_secret()).ok()?;
        Some(Self::new(jwt, claims, origin))
    }

    /// The raw JWT, for the `authorization` header and the token store only.
    pub fn expose_jwt(&self) -> &str {
        self.jwt.expose_secret()
    }

    /// What the token says.
    pub fn claims(&self) -> &TokenClaims {
        &self.claims
    }

    /// Where the token was captured.
    pub fn origin(&self) -> TokenOrigin {
        self.origin
    }

    /// When the token stops being accepted.
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.claims.exp)
    }

    /// How long the token stays valid after `now`; `None` once it has expired.
    pub fn remaining_at(&self, now: SystemTime) -> Option<Duration> {
        self.expires_at()
            .duration_since(now)
            .ok()
            .filter(|d| !d.is_zero())
    }

    /// Whether the token is still valid for at least `margin` after `now`.
    pub fn is_valid_for(&self, margin: Duration, now: SystemTime) -> bool {
        self.remaining_at(now).is_some_and(|left| left >= margin)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("jwt", &"[redacted]")
            .field("claims", &self.claims)
            .field("origin", &self.origin)
            .finish()
    }
}
