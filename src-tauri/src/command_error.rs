//! The one error shape every command answers with: a machine-readable code the UI can act on,
//! a sentence for the user, the problems field by field for bad input, and the new preview when
//! the devices changed under a confirmed one. It never carries a token, password or key.

use rmm_core::settings::{ProfileEditError, SettingsError};
use rmm_core::{ChangePreview, FailureKind, OperationError, Problem};
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
    /// The request breaks rules: `problems` lists them field by field.
    BadInput,
    /// No usable sign-in: sign in (again).
    SignInNeeded,
    /// The Sharp cloud understood and refused the request.
    CloudRefused,
    /// The Sharp cloud could not be reached or failed; try again.
    CloudFailed,
    /// The devices changed since the confirmed preview: `preview` is the new one; nothing was sent.
    PreviewChanged,
    /// Something on this machine (the audit log, the MCP endpoint's port, ...).
    Local,
    /// Something in the app itself went wrong.
    Internal,
}

/// A command's failure, as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
    /// Field-by-field problems of bad input (empty otherwise).
    pub problems: Vec<Problem>,
    /// With `preview_changed`: the new preview to show and confirm instead.
    // Boxed: errors travel through many `Result`s and most carry none.
    pub preview: Option<Box<ChangePreview>>,
}

impl CommandError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            problems: Vec::new(),
            preview: None,
        }
    }
}

impl From<OperationError> for CommandError {
    fn from(error: OperationError) -> Self {
        let code = match error.kind() {
            FailureKind::BadInput => ErrorCode::BadInput,
            FailureKind::Auth => ErrorCode::SignInNeeded,
            FailureKind::CloudRefused => ErrorCode::CloudRefused,
            FailureKind::Cloud => ErrorCode::CloudFailed,
            FailureKind::PreviewChanged => ErrorCode::PreviewChanged,
            FailureKind::Local => ErrorCode::Local,
        };
        let problems = error.problems().map(|p| p.0.clone()).unwrap_or_default();
        let message = error.to_string();
        let preview = match error {
            OperationError::PreviewChanged(preview) => Some(preview),
            _ => None,
        };
        Self {
            code,
            message,
            problems,
            preview,
        }
    }
}

impl From<rmm_auth::StoreError> for CommandError {
    fn from(error: rmm_auth::StoreError) -> Self {
        // StoreError's messages name the store and the action, never the secret.
        Self::new(ErrorCode::NoKeyring, error.to_string())
    }
}

impl From<SettingsError> for CommandError {
    fn from(error: SettingsError) -> Self {
        let message = error.to_string();
        let (code, problem) = match &error {
            SettingsError::Invalid { field, rule } => {
                (ErrorCode::BadInput, Some((field.clone(), rule.clone())))
            }
            SettingsError::Missing { field, hint } => (
                ErrorCode::BadInput,
                Some(((*field).to_owned(), format!("is missing: {hint}"))),
            ),
            SettingsError::UnknownProfile { .. } => (ErrorCode::NoProfile, None),
            SettingsError::EnvOverride { .. } => (ErrorCode::BadInput, None),
            SettingsError::File { .. } => (ErrorCode::Local, None),
            SettingsError::Store(_) => (ErrorCode::NoKeyring, None),
        };
        let mut answer = Self::new(code, message);
        if let Some((field, rule)) = problem {
            answer.problems.push(Problem {
                field,
                rule,
                hint: None,
            });
        }
        answer
    }
}

impl From<ProfileEditError> for CommandError {
    fn from(error: ProfileEditError) -> Self {
        match error {
            ProfileEditError::Invalid(problems) => OperationError::Invalid(problems).into(),
            ProfileEditError::Settings(error) => error.into(),
        }
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
        assert_eq!(json["problems"], serde_json::json!([]));
        assert_eq!(json["preview"], serde_json::Value::Null);
    }

    #[test]
    fn bad_input_keeps_every_problem_field_by_field() {
        let mut problems = rmm_core::Problems::new();
        problems.push("transfer_datetime", "must be in the future");
        problems.push("device_ids[1]", "is not `mn=<base64>:sn=<base64>`");
        let error = CommandError::from(OperationError::Invalid(problems));
        assert_eq!(error.code, ErrorCode::BadInput);
        let fields: Vec<&str> = error.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["transfer_datetime", "device_ids[1]"]);
        assert!(
            error.message.contains("transfer_datetime"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_bad_profile_edit_keeps_every_field_and_rule() {
        let edit = rmm_core::settings::ProfileEdit {
            name: "a b".into(),
            login_url: "https://login.example.com".into(),
            api_base_url: String::new(),
            time_zone: "UTC+25:00".into(),
            ..Default::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let error = rmm_core::settings::save_profile_edit_to(&dir.path().join("s.toml"), &edit)
            .map(|_| ())
            .map_err(CommandError::from)
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::BadInput);
        let fields: Vec<&str> = error.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["name", "api_base_url", "time_zone"]);
        assert!(
            error.problems[2].rule.contains("UTC±hh:mm"),
            "{:?}",
            error.problems
        );
    }

    #[test]
    fn settings_errors_name_the_field_or_the_place() {
        let invalid = CommandError::from(SettingsError::Invalid {
            field: "login_url".into(),
            rule: "must be an http(s) URL".into(),
        });
        assert_eq!(invalid.code, ErrorCode::BadInput);
        assert_eq!(invalid.problems[0].field, "login_url");
        let missing = CommandError::from(SettingsError::Missing {
            field: "api_base_url",
            hint: "set it in Settings",
        });
        assert_eq!(missing.code, ErrorCode::BadInput);
        assert_eq!(missing.problems[0].field, "api_base_url");
        let unknown = CommandError::from(SettingsError::UnknownProfile {
            name: "x".into(),
            path: "/s.toml".into(),
            known: "none".into(),
        });
        assert_eq!(unknown.code, ErrorCode::NoProfile);
        assert!(unknown.problems.is_empty());
    }

    #[test]
    fn each_failure_kind_has_its_own_code() {
        let code = |e: OperationError| CommandError::from(e).code;
        assert_eq!(
            code(OperationError::SignInNeeded("expired".into())),
            ErrorCode::SignInNeeded
        );
        assert_eq!(
            code(OperationError::Cloud("503".into())),
            ErrorCode::CloudFailed
        );
        assert_eq!(
            code(OperationError::CloudRefused {
                message: "no".into(),
                problems: rmm_core::Problems::new()
            }),
            ErrorCode::CloudRefused
        );
        assert_eq!(code(OperationError::Local("disk".into())), ErrorCode::Local);
    }
}
