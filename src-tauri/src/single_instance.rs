//! One app at a time: a second launch of `mcp-rmm` hands its arguments to the running app over
//! the platform's channel (D-Bus on Linux, a named pipe/mutex on Windows, a socket on macOS),
//! which brings its main window forward, and the second process exits with status 0 before it
//! opens a window or starts anything (the plugin is registered first on the Builder).

use tauri::{AppHandle, Manager, Runtime, plugin::TauriPlugin};

/// The single-instance plugin; register it before any other.
pub fn plugin<R: Runtime>() -> TauriPlugin<R> {
    tauri_plugin_single_instance::init(|app, _args, _cwd| {
        tracing::info!("mcp-rmm was launched again: showing the running app's window");
        show_main_window(app);
    })
}

/// Brings the main window forward: shown (it may be hidden while the app lives in the tray),
/// not minimized, focused.
pub fn show_main_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        for (what, result) in [
            ("show", window.show()),
            ("unminimize", window.unminimize()),
            ("focus", window.set_focus()),
        ] {
            if let Err(error) = result {
                tracing::warn!(%error, "cannot {what} the main window");
            }
        }
    } else {
        tracing::warn!("there is no main window to show");
    }
}
