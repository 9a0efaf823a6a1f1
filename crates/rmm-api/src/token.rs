//! Where the client gets its bearer token: the `TokenSource` trait (implemented by `rmm-auth`),
//! the `BearerToken` secret wrapper, and `StaticToken` for a token given by hand.

use std::fmt;

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

/// An access token. Its text never appears in `Debug`, `Display` or errors.
#[derive(Clone)]
pub struct BearerToken(SecretString);

/// Why a text cannot be a bearer token (the text itself is not repeated).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidToken {
    #[error("the bearer token is empty")]
    Empty,
    #[error(
        "the bearer token contains whitespace or control characters; paste only the token, without `Bearer `"
    )]
    BadCharacters,
}

impl BearerToken {
    /// Wraps a token, refusing text that cannot go into an `authorization` header.
    pub fn new(token: impl Into<String>) -> Result<Self, InvalidToken> {
        let token: String = token.into();
        if token.is_empty() {
            return Err(InvalidToken::Empty);
        }
        if token
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
        {
            return Err(InvalidToken::BadCharacters);
        }
        Ok(Self(SecretString::from(token)))
    }

    /// The token text, for the `authorization` header or the keyring. Handle with care.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl PartialEq for BearerToken {
    fn eq(&self, other: &Self) -> bool {
        self.expose_secret() == other.expose_secret()
    }
}

impl Eq for BearerToken {}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken([REDACTED])")
    }
}

/// A token source could not give a token. The message must not contain the token.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct TokenSourceError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl TokenSourceError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// Keeps the underlying error as the `source()`.
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Gives the client bearer tokens. Implemented by `rmm-auth` (cache, expiry, single-flight
/// login) and by [`StaticToken`].
///
/// The client calls [`token`](Self::token) before each request. When the API answers 401 it
/// calls [`token_refused`](Self::token_refused) once with the token that was refused, sends
/// the request once more with the token it gets, and gives up with
/// [`ApiError::Unauthorized`](crate::ApiError::Unauthorized) if that is refused too.
/// Implementations must be safe to call from many tasks at once.
pub trait TokenSource: Send + Sync + 'static {
    /// A token valid for at least a short margin.
    fn token(&self) -> BoxFuture<'_, Result<BearerToken, TokenSourceError>>;
    /// The API refused `refused` with 401: give a fresh one (refresh once), or fail.
    fn token_refused<'a>(
        &'a self,
        refused: &'a BearerToken,
    ) -> BoxFuture<'a, Result<BearerToken, TokenSourceError>>;
}

/// A fixed token (tests, `rmm token`-style use). It cannot be refreshed: a 401 is final.
#[derive(Debug, Clone)]
pub struct StaticToken(BearerToken);

impl StaticToken {
    pub fn new(token: BearerToken) -> Self {
        Self(token)
    }
}

impl TokenSource for StaticToken {
    fn token(&self) -> BoxFuture<'_, Result<BearerToken, TokenSourceError>> {
        let token = self.0.clone();
        Box::pin(async move { Ok(token) })
    }

    fn token_refused<'a>(
        &'a self,
        _refused: &'a BearerToken,
    ) -> BoxFuture<'a, Result<BearerToken, TokenSourceError>> {
        Box::pin(async {
            Err(TokenSourceError::new(
                "the API refused the given token and a fixed token cannot be refreshed; log in again",
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let token = BearerToken::new("eyJhbGciOi.secret-part.sig").unwrap();
        let shown = format!("{token:?} {:?}", StaticToken::new(token.clone()));
        assert!(!shown.contains("secret-part"), "{shown}");
        assert!(shown.contains("REDACTED"));
    }

    #[test]
    fn bad_token_text_is_refused_without_echoing_it() {
        assert_eq!(BearerToken::new(""), Err(InvalidToken::Empty));
        let err = BearerToken::new("Bearer abc.def").unwrap_err();
        assert_eq!(err, InvalidToken::BadCharacters);
        assert!(!err.to_string().contains("abc.def"));
        assert!(BearerToken::new("abc\n").is_err());
    }

    #[tokio::test]
    async fn static_token_gives_its_token_and_refuses_refresh() {
        let token = BearerToken::new("t1").unwrap();
        let source = StaticToken::new(token.clone());
        assert_eq!(source.token().await.unwrap(), token);
        let err = source.token_refused(&token).await.unwrap_err();
        assert!(err.message().contains("cannot be refreshed"));
    }
}
