//! The login window: a webview with its own data folder per profile that opens the profile's
//! login URL with `token_capture.js` injected into every frame. The script hands the token over
//! by navigating to a reserved URL, which the navigation handler here takes and cancels: the
//! remote pages need no Tauri command for it (the window has no capability at all).

use std::path::PathBuf;

use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};
use url::Url;

use crate::command_error::{CommandError, ErrorCode};

/// The label of the login window.
pub const LOGIN_WINDOW: &str = "login";

/// The reserved URL the capture script navigates to (`.invalid` never resolves).
pub const CAPTURE_URL: &str = "https://mcp-rmm-capture.invalid/";
const CAPTURE_HOST: &str = "mcp-rmm-capture.invalid";

const SCRIPT_TEMPLATE: &str = include_str!("token_capture.js");

/// The capture script for an API origin (e.g. `http://127.0.0.1:4004`).
pub fn capture_script(api_origin: &str) -> String {
    let quote = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    SCRIPT_TEMPLATE
        .replace("__RMM_API_ORIGIN__", &quote(api_origin))
        .replace("__RMM_CAPTURE_URL__", &quote(CAPTURE_URL))
}

/// What a navigation of the login window means.
#[derive(Debug, PartialEq, Eq)]
pub enum Navigation {
    /// An ordinary page of the login: let it load.
    Page,
    /// The capture script's hand-over, with the token (cancel the navigation).
    Captured(String),
    /// The reserved URL without a token (cancel, ignore).
    Empty,
}

/// Reads a navigation of the login window. Never log `url`: it may hold the token.
pub fn read_navigation(url: &Url) -> Navigation {
    if url.host_str() != Some(CAPTURE_HOST) {
        return Navigation::Page;
    }
    let token = url.fragment().and_then(|fragment| {
        url::form_urlencoded::parse(fragment.as_bytes())
            .find(|(name, _)| name == "token")
            .map(|(_, value)| value.into_owned())
    });
    match token {
        Some(token) if !token.is_empty() => Navigation::Captured(token),
        _ => Navigation::Empty,
    }
}

/// Where a profile's login webview keeps its cookies (the IdP session used by Refresh).
fn data_folder(app: &AppHandle, profile: &str) -> Result<PathBuf, CommandError> {
    app.path()
        .app_data_dir()
        .map(|dir| dir.join("login-webview").join(profile))
        .map_err(|e| CommandError::new(ErrorCode::Window, format!("no app data folder: {e}")))
}

/// Opens (or focuses) the login window; `on_token` gets the captured token once.
pub fn open(
    app: &AppHandle,
    profile: &str,
    login_url: &Url,
    api_origin: &str,
    visible: bool,
    on_token: impl Fn(String) + Send + 'static,
) -> Result<(), CommandError> {
    if let Some(window) = app.get_webview_window(LOGIN_WINDOW) {
        if visible {
            let _ = window.show();
            let _ = window.set_focus();
        }
        return Ok(());
    }
    let captured = std::sync::atomic::AtomicBool::new(false);
    let builder =
        WebviewWindowBuilder::new(app, LOGIN_WINDOW, WebviewUrl::External(login_url.clone()))
            .title("Sign in — MCP-RMM")
            .inner_size(520.0, 720.0)
            .visible(visible);
    // Under WebDriver (tauri-driver sets TAURI_WEBVIEW_AUTOMATION), WebKit lets the driver
    // reach only the web context of the first window, so the end-to-end tests' login window
    // shares it; everywhere else each profile gets its own cookies and storage.
    let builder = if std::env::var("TAURI_WEBVIEW_AUTOMATION").as_deref() == Ok("true") {
        builder
    } else {
        builder.data_directory(data_folder(app, profile)?)
    };
    builder
        .initialization_script_for_all_frames(capture_script(api_origin))
        .on_navigation(move |url| match read_navigation(url) {
            Navigation::Page => true,
            Navigation::Captured(token) => {
                if !captured.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    on_token(token);
                }
                false
            }
            Navigation::Empty => false,
        })
        .build()
        .map(drop)
        .map_err(|e| {
            CommandError::new(
                ErrorCode::Window,
                format!("cannot open the login window: {e}"),
            )
        })
}

/// Closes the login window if it is open.
pub fn close(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(LOGIN_WINDOW)
        && let Err(error) = window.close()
    {
        tracing::warn!(%error, "cannot close the login window");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserved_url_carries_the_token_in_its_fragment() {
        let url = Url::parse("https://mcp-rmm-capture.invalid/#token=a.b%2Bc.d").unwrap();
        assert_eq!(
            read_navigation(&url),
            Navigation::Captured("a.b+c.d".into())
        );
        let empty = Url::parse("https://mcp-rmm-capture.invalid/#token=").unwrap();
        assert_eq!(read_navigation(&empty), Navigation::Empty);
    }

    #[test]
    fn other_pages_load_even_with_a_token_in_their_fragment() {
        let url = Url::parse("http://127.0.0.1:4000/callback#token=x").unwrap();
        assert_eq!(read_navigation(&url), Navigation::Page);
    }

    #[test]
    fn the_script_names_the_api_origin_and_the_reserved_url_quoted() {
        let script = capture_script("http://127.0.0.1:4004");
        assert!(script.contains("var API_ORIGIN = \"http://127.0.0.1:4004\";"));
        assert!(script.contains("\"https://mcp-rmm-capture.invalid/\""));
        assert!(!script.contains("__RMM_"));
    }
}
