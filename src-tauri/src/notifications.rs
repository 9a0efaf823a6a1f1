//! `notify_person`: a desktop notification through the OS (the notification plugin), for news
//! the person should see while the window is in the background: a reserved update finished.

use tauri::AppHandle;
use tauri_plugin_notification::NotificationExt as _;

use crate::command_error::{CommandError, ErrorCode};

/// Longest title and body shown (notifications are one glance).
const MAX_TITLE: usize = 120;
const MAX_BODY: usize = 500;

/// Shows a desktop notification; `false` when the OS has no notification service (the UI's
/// in-app message is then all the person gets).
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub fn notify_person(app: AppHandle, title: String, body: String) -> Result<bool, CommandError> {
    if title.trim().is_empty() {
        return Err(CommandError::new(
            ErrorCode::BadInput,
            "title: must not be empty",
        ));
    }
    let title: String = title.chars().take(MAX_TITLE).collect();
    let body: String = body.chars().take(MAX_BODY).collect();
    match app.notification().builder().title(title).body(body).show() {
        Ok(()) => Ok(true),
        Err(error) => {
            tracing::debug!(%error, "no desktop notification shown");
            Ok(false)
        }
    }
}
