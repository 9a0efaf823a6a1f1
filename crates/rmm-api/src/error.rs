//! `ApiError`, the one error of this crate, and the pieces it carries (`FieldError`,
//! `RequestError`). Messages never contain the bearer token or the subscription key.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::api_path::ApiPathError;
use crate::token::TokenSourceError;

/// A request this client refuses to send: which field breaks which rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("invalid `{field}`: {rule}")]
pub struct RequestError {
    pub field: String,
    pub rule: String,
}

impl RequestError {
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

/// One entry of the cloud's `common.errorList`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// e.g. `deviceIds[2]`; empty when the cloud named none.
    pub field: String,
    /// e.g. `INVALID_DEVICE_ID`; empty when the cloud gave none.
    pub code: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.field.is_empty(), self.code.is_empty()) {
            (false, false) => write!(f, "{}: {} ({})", self.field, self.message, self.code),
            (false, true) => write!(f, "{}: {}", self.field, self.message),
            (true, false) => write!(f, "{} ({})", self.message, self.code),
            (true, true) => f.write_str(&self.message),
        }
    }
}

/// A list of field errors, shown one after another.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong talking to the RMM API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Refused before sending: the request breaks a rule.
    #[error(transparent)]
    InvalidRequest(#[from] RequestError),
    /// Refused before sending: the path could leave the API origin.
    #[error(transparent)]
    PathRefused(#[from] ApiPathError),
    /// The token source could not give a token.
    #[error("no token for the RMM API: {0}")]
    Token(#[source] TokenSourceError),
    /// 401 even with a fresh token (or the subscription key is wrong).
    #[error("the RMM API refused the credentials (401) even after a fresh token: {message}")]
    Unauthorized { message: String },
    /// 403: the user may not act on this group.
    #[error("the RMM API forbids this (403){}: {message}", group.as_deref().map(|g| format!(" for group {g}")).unwrap_or_default())]
    Forbidden {
        group: Option<String>,
        message: String,
    },
    /// The cloud refused the request with field-level reasons (`common.errorList`).
    #[error("the RMM API refused the request (HTTP {status}): {errors}")]
    Rejected { status: u16, errors: FieldErrors },
    /// Still rate-limited (429) after every attempt.
    #[error("the RMM API is rate-limiting us (429) after {attempts} attempts{}", retry_after.map(|d| format!("; it asks to wait {} s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        attempts: u32,
        retry_after: Option<Duration>,
    },
    /// 5xx after every attempt.
    #[error("the RMM API failed (HTTP {status}) after {attempts} attempts: {message}")]
    Server {
        status: u16,
        attempts: u32,
        message: String,
    },
    /// Another unexpected HTTP status.
    #[error("the RMM API answered HTTP {status}: {message}")]
    Http { status: u16, message: String },
    /// The API could not be reached, or the connection broke.
    #[error("could not reach the RMM API after {attempts} attempts: {message}")]
    Transport { attempts: u32, message: String },
    /// A change's answer was lost and it could not be checked; it was not sent again.
    #[error("the request may or may not have taken effect ({message}); it was not sent again")]
    OutcomeUnknown { message: String },
    /// The answer was not the JSON we expect.
    #[error("could not read the answer of {endpoint}: {message}")]
    Decode { endpoint: String, message: String },
}

impl ApiError {
    /// The field-level reasons, when the cloud gave some.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Self::Rejected { errors, .. } => &errors.0,
            _ => &[],
        }
    }
}

/// An error with its causes, `outer: cause: root cause`: reqwest's own text ("error sending
/// request") hides whether the connection was refused, reset or timed out.
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
