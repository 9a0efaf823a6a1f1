//! The one error shape every command answers with: a machine-readable code the UI can act on
//! and a sentence for the user. It never carries a token, password or key.

use serde::Serialize;

/// What kind of failure a command met (the UI switches on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No profile to sign in with (the app was not started with `--demo` and none is set up).
    NoProfile,
    /// The OS keyring cannot be reached or refused.
    NoKeyring,
    /// The captured token did not pass the checks of rmm-auth.
    TokenRejected,
    /// The login window could not be opened.
    Window,
    /// Something in the app itself went wrong.
    Internal,
}

/// A command's failure, as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
}

impl CommandError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<rmm_auth::StoreError> for CommandError {
    fn from(error: rmm_auth::StoreError) -> Self {
        // StoreError's messages name the store and the action, never the secret.
        Self::new(ErrorCode::NoKeyring, error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_is_serialized_in_snake_case_next_to_the_message() {
        let error = CommandError::new(ErrorCode::TokenRejected, "bad signature");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["code"], "token_rejected");
        assert_eq!(json["message"], "bad signature");
    }
}
