//! `OperationError`: why an operation did not happen, sorted by what the caller can do about
//! it (fix the input, sign in, read the cloud's refusal, try again). Every face turns it into
//! its own shape: an MCP error result, a CLI exit code, a Tauri error.

use rmm_api::ApiError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::change_preview::ChangePreview;
use crate::problems::Problems;

/// What the sign-in instruction says, everywhere.
pub const SIGN_IN_INSTRUCTION: &str = "No valid sign-in to the Sharp cloud. Sign in with the MCP-RMM app, or run `rmm login` in a terminal, then try again.";

/// The kind of failure, for exit codes and agents.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The request breaks rules: fix the listed fields.
    BadInput,
    /// No usable sign-in, or the cloud refused the credentials.
    Auth,
    /// The cloud understood and refused the request.
    CloudRefused,
    /// The cloud could not be reached or failed; the change may need checking.
    Cloud,
    /// The devices changed since the preview: look at the new preview and confirm again.
    PreviewChanged,
    /// Something on this machine (the audit log, ...).
    Local,
}

#[derive(Debug, thiserror::Error)]
pub enum OperationError {
    #[error("{0}")]
    Invalid(Problems),
    #[error("{SIGN_IN_INSTRUCTION} ({0})")]
    SignInNeeded(String),
    #[error("the Sharp cloud refused the credentials: {0}")]
    AuthRefused(String),
    #[error("the Sharp cloud refused the request: {message}")]
    CloudRefused { message: String, problems: Problems },
    #[error("the Sharp cloud failed: {0}")]
    Cloud(String),
    #[error(
        "the devices changed since the confirmed preview; nothing was sent. Review the new preview and confirm it"
    )]
    PreviewChanged(Box<ChangePreview>),
    #[error("{0}")]
    Local(String),
}

impl OperationError {
    pub fn kind(&self) -> FailureKind {
        match self {
            Self::Invalid(_) => FailureKind::BadInput,
            Self::SignInNeeded(_) | Self::AuthRefused(_) => FailureKind::Auth,
            Self::CloudRefused { .. } => FailureKind::CloudRefused,
            Self::Cloud(_) => FailureKind::Cloud,
            Self::PreviewChanged(_) => FailureKind::PreviewChanged,
            Self::Local(_) => FailureKind::Local,
        }
    }

    /// The field-by-field problems, for input errors and the cloud's field-level refusals.
    pub fn problems(&self) -> Option<&Problems> {
        match self {
            Self::Invalid(p) => Some(p),
            Self::CloudRefused { problems, .. } if !problems.is_empty() => Some(problems),
            _ => None,
        }
    }

    pub fn invalid(field: impl Into<String>, rule: impl Into<String>) -> Self {
        let mut problems = Problems::new();
        problems.push(field, rule);
        Self::Invalid(problems)
    }
}

impl From<Problems> for OperationError {
    fn from(p: Problems) -> Self {
        Self::Invalid(p)
    }
}

impl From<crate::audit::AuditError> for OperationError {
    fn from(e: crate::audit::AuditError) -> Self {
        Self::Local(e.to_string())
    }
}

impl From<ApiError> for OperationError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::InvalidRequest(r) => Self::invalid(r.field, r.rule),
            ApiError::PathRefused(p) => Self::invalid("endpoint", p.to_string()),
            ApiError::Token(t) => Self::SignInNeeded(t.message().to_owned()),
            ApiError::Unauthorized { .. } => {
                Self::AuthRefused(format!("{e}. {SIGN_IN_INSTRUCTION}"))
            }
            // The credentials were accepted; the user may not act on this group. Signing in
            // again does not help: it is a refusal of the request, not of the sign-in.
            ApiError::Forbidden { .. } => Self::CloudRefused {
                message: e.to_string(),
                problems: Problems::new(),
            },
            ApiError::Rejected { .. } => {
                let mut problems = Problems::new();
                for f in e.field_errors() {
                    let field = if f.field.is_empty() {
                        "request".to_owned()
                    } else {
                        f.field.clone()
                    };
                    let rule = if f.code.is_empty() {
                        f.message.clone()
                    } else {
                        format!("{} ({})", f.message, f.code)
                    };
                    problems.push(field, rule);
                }
                Self::CloudRefused {
                    message: e.to_string(),
                    problems,
                }
            }
            other => Self::Cloud(other.to_string()),
        }
    }
}
