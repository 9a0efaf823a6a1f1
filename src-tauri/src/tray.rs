//! The tray icon, and what closing the main window does.
//!
//! While the MCP endpoint is on, agents depend on the app: closing the main window then only
//! hides it, and the tray icon's menu ("Show MCP-RMM", "Quit") brings it back or ends the app.
//! With the endpoint off, closing the window quits as before. A hidden window with no tray
//! would be unreachable, so where no tray can be shown (no StatusNotifier host on the session
//! bus, as under Xvfb), closing quits too.

use std::sync::Arc;
use std::time::Duration;

use tauri::menu::{Menu, MenuEvent, MenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, CloseRequestApi, Manager, Runtime, Window};

use crate::mcp_endpoint::McpEndpoint;
use crate::single_instance::show_main_window;

const MENU_SHOW: &str = "tray-show";
const MENU_QUIT: &str = "tray-quit";

/// What closing the main window does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseAction {
    /// Hide the window; the app keeps serving agents and lives on in the tray.
    Hide,
    /// Close the window, which ends the app.
    Quit,
}

/// The rule: closing hides the window only while the endpoint is running and a tray icon can
/// bring the window back.
pub fn close_action(endpoint_running: bool, tray_usable: bool) -> CloseAction {
    if endpoint_running && tray_usable {
        CloseAction::Hide
    } else {
        CloseAction::Quit
    }
}

/// A tray is usable when its icon was made and something on the desktop shows it.
pub fn tray_usable(icon_built: bool, host_present: bool) -> bool {
    icon_built && host_present
}

/// Whether the tray icon is usable; managed by the app.
struct TrayState {
    usable: bool,
    // Kept alive for the app's lifetime (dropping it removes the icon).
    _icon: Option<TrayIcon>,
}

/// Makes the tray icon; on failure logs a warning and closing the window will quit.
pub fn install(app: &AppHandle) {
    let host = status_notifier_host_present();
    let icon = if host {
        match build(app) {
            Ok(icon) => Some(icon),
            Err(error) => {
                tracing::warn!(%error, "no tray icon: closing the window will quit the app");
                None
            }
        }
    } else {
        tracing::warn!(
            "no tray on this desktop (no StatusNotifier host): closing the window will quit the app"
        );
        None
    };
    let usable = tray_usable(icon.is_some(), host);
    if usable {
        tracing::info!("tray icon installed");
    }
    app.manage(TrayState {
        usable,
        _icon: icon,
    });
}

fn build(app: &AppHandle) -> tauri::Result<TrayIcon> {
    let show = MenuItem::with_id(app, MENU_SHOW, "Show MCP-RMM", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, MENU_QUIT, "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&show, &quit])?;
    let mut builder = TrayIconBuilder::with_id("main")
        .menu(&menu)
        .tooltip("MCP-RMM")
        .show_menu_on_left_click(false)
        .on_menu_event(on_menu_event)
        .on_tray_icon_event(|tray, event| {
            // Not emitted on Linux, where a click opens the menu.
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                show_main_window(tray.app_handle());
            }
        });
    match app.default_window_icon() {
        Some(icon) => builder = builder.icon(icon.clone()),
        None => {
            return Err(tauri::Error::InvalidIcon(std::io::Error::other(
                "the app has no default window icon",
            )));
        }
    }
    builder.build(app)
}

fn on_menu_event<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
    match event.id().as_ref() {
        MENU_SHOW => show_main_window(app),
        MENU_QUIT => {
            tracing::info!("quit from the tray menu");
            app.exit(0);
        }
        _ => {}
    }
}

/// Closing the main window: hides it while the endpoint serves agents and the tray can bring
/// it back; otherwise lets it close (which ends the app).
pub fn on_main_close_requested(window: &Window, api: &CloseRequestApi) {
    let app = window.app_handle();
    let tray_usable = app
        .try_state::<TrayState>()
        .is_some_and(|state| state.usable);
    let endpoint_running = tray_usable
        && app.try_state::<Arc<McpEndpoint>>().is_some_and(|endpoint| {
            let endpoint = endpoint.inner().clone();
            // The status lock is held only briefly; never hang the window on it.
            tauri::async_runtime::block_on(async move {
                tokio::time::timeout(Duration::from_secs(2), endpoint.status())
                    .await
                    .map(|status| status.running)
                    .unwrap_or(false)
            })
        });
    match close_action(endpoint_running, tray_usable) {
        CloseAction::Hide => {
            api.prevent_close();
            if let Err(error) = window.hide() {
                tracing::warn!(%error, "cannot hide the main window");
            } else {
                tracing::info!("main window hidden: the MCP endpoint keeps serving agents");
            }
        }
        CloseAction::Quit => {}
    }
}

/// Whether a StatusNotifier host shows tray icons on this desktop: on Linux, whether
/// `org.kde.StatusNotifierWatcher` has an owner on the session bus (the indicator library
/// would otherwise accept the icon and show it nowhere). Other systems always have a tray.
#[cfg(target_os = "linux")]
fn status_notifier_host_present() -> bool {
    let asked = zbus::blocking::Connection::session().and_then(|connection| {
        let dbus = zbus::blocking::fdo::DBusProxy::new(&connection)?;
        let name = zbus::names::BusName::try_from("org.kde.StatusNotifierWatcher")
            .map_err(zbus::Error::from)?;
        Ok(dbus.name_has_owner(name)?)
    });
    match asked {
        Ok(present) => present,
        Err(error) => {
            tracing::debug!(%error, "cannot ask the session bus for a StatusNotifier host");
            false
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn status_notifier_host_present() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_hides_only_while_the_endpoint_runs_and_the_tray_is_usable() {
        assert_eq!(close_action(true, true), CloseAction::Hide);
        assert_eq!(close_action(false, true), CloseAction::Quit);
        // No tray: a hidden window could never come back, so quit even for agents.
        assert_eq!(close_action(true, false), CloseAction::Quit);
        assert_eq!(close_action(false, false), CloseAction::Quit);
    }

    #[test]
    fn a_tray_without_a_host_or_without_an_icon_is_not_usable() {
        assert!(tray_usable(true, true));
        assert!(!tray_usable(true, false));
        assert!(!tray_usable(false, true));
        assert!(!tray_usable(false, false));
        // So with the endpoint on and no StatusNotifier host (Xvfb), closing quits.
        assert_eq!(
            close_action(true, tray_usable(false, false)),
            CloseAction::Quit
        );
    }
}
