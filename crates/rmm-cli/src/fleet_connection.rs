//! Connecting a fleet command or `rmm mcp` to the profile: the profile resolved from flags,
//! environment and settings file, its audit log, and rmm-core's `connect_profile` (tokens from
//! rmm-auth's manager, never a window). Also turns an `OperationError` into a `Failure`, whose
//! exit code tells bad input, sign-in and the cloud's refusal apart.

use std::sync::Arc;

use rmm_core::settings::{EnvVars, ProfileFlags, ResolvedProfile, SettingsFile, resolve_profile};
use rmm_core::{
    AuditLog, Caller, FailureKind, OperationError, OperationSettings, ProfileConnection,
    connect_profile, default_audit_path,
};

use crate::auth_commands::StoreArgs;
use crate::{Failure, GlobalArgs};

/// The profile of `global`, with `--token-file` laid over it.
pub fn resolve(global: &GlobalArgs, store: &StoreArgs) -> Result<ResolvedProfile, Failure> {
    let path = SettingsFile::default_path().map_err(|e| Failure::Local(e.to_string()))?;
    let file = SettingsFile::load(&path).map_err(|e| Failure::BadInput(e.to_string()))?;
    let env = env_vars(global, &file)?;
    let flags = ProfileFlags {
        profile: global.profile.clone(),
        token_file: store.token_file.clone(),
        ..ProfileFlags::default()
    };
    resolve_profile(&flags, &env, &file).map_err(|e| Failure::BadInput(e.to_string()))
}

/// The old tool's variables: the process's, and those of the `.env` file named by
/// `--env-file` or the settings file's `env_file` (none otherwise).
pub fn env_vars(global: &GlobalArgs, file: &SettingsFile) -> Result<EnvVars, Failure> {
    let env_file = global.env_file.as_deref().or(file.env_file.as_deref());
    EnvVars::from_process_and_env_file(env_file).map_err(|e| Failure::BadInput(e.to_string()))
}

/// The operations of the profile, with the audit log in the data folder.
pub async fn connect(global: &GlobalArgs, store: &StoreArgs) -> Result<ProfileConnection, Failure> {
    let resolved = resolve(global, store)?;
    tokio::task::spawn_blocking(move || {
        let audit = AuditLog::open(&default_audit_path()?)?;
        connect_profile(&resolved, Arc::new(audit), OperationSettings::default())
    })
    .await
    .map_err(|_| Failure::Local("the start-up task failed".to_owned()))?
    .map_err(failure)
}

/// Who is at the terminal, for the audit log.
pub fn cli_user() -> Caller {
    let user = Caller::os_user_name().unwrap_or_else(|| "unknown".to_owned());
    Caller::CliUser { user }
}

/// The failure for an operation's error, with every problem listed.
pub fn failure(e: OperationError) -> Failure {
    let mut text = e.to_string();
    if let (Some(problems), OperationError::CloudRefused { .. }) = (e.problems(), &e) {
        text.push('\n');
        text.push_str(&problems.to_string());
    }
    match e.kind() {
        FailureKind::BadInput => Failure::BadInput(text),
        FailureKind::Auth => Failure::Auth(text),
        FailureKind::CloudRefused => Failure::CloudRefused(text),
        FailureKind::Cloud => Failure::Cloud(text),
        FailureKind::PreviewChanged => Failure::NotDone(text),
        FailureKind::Local => Failure::Local(text),
    }
}
