//! The login window: a webview with its own data folder per profile that opens the profile's
//! login URL with `token_capture.js` injected into its top frame only. The script hands the
//! token over by navigating to a reserved URL, which the navigation handler here takes and
//! cancels: the remote pages need no Tauri command for it (the window has no capability at
//! all). A hand-over counts only with the window's one-time nonce (which only the top frame's
//! script knows, so a frame of another origin cannot forge one) and from a page of an expected
//! origin; any other is cancelled and ignored, and the sign-in goes on waiting.

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

/// The capture script for an API origin (e.g. `http://127.0.0.1:4004`) and a window's nonce.
pub fn capture_script(api_origin: &str, nonce: &str) -> String {
    let quote = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    SCRIPT_TEMPLATE
        .replace("__RMM_API_ORIGIN__", &quote(api_origin))
        .replace("__RMM_CAPTURE_URL__", &quote(CAPTURE_URL))
        .replace("__RMM_NONCE__", &quote(nonce))
}

/// A fresh one-time nonce for a login window (128 random bits, hex).
pub fn new_nonce() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a login window accepts a hand-over from.
#[derive(Debug, Clone)]
pub struct Handover {
    /// The nonce only the window's own script knows.
    pub nonce: String,
    /// The origins of the pages that may hand a token over (the login page, the dashboard it
    /// returns to); never empty.
    pub origins: Vec<String>,
}

/// What a navigation of the login window means.
#[derive(Debug, PartialEq, Eq)]
pub enum Navigation {
    /// An ordinary page of the login: let it load.
    Page,
    /// The capture script's hand-over, with the token (cancel the navigation).
    Captured(String),
    /// The reserved URL without a valid hand-over (cancel, ignore, keep waiting); says why.
    Refused(&'static str),
    /// The window's own script handed a token over from a page of another origin than the
    /// profile's (cancel, keep waiting, and say which origin: it may be a dashboard the
    /// profile does not name yet).
    FromUnexpectedOrigin(String),
}

/// What the login window hands to its caller.
#[derive(Debug, PartialEq, Eq)]
pub enum Handed {
    /// A token from an expected page, to be checked.
    Token(String),
    /// A hand-over from a page of this origin, refused.
    FromUnexpectedOrigin(String),
}

/// Reads a navigation of the login window. Never log `url`: it may hold the token.
pub fn read_navigation(url: &Url, handover: &Handover) -> Navigation {
    if url.host_str() != Some(CAPTURE_HOST) {
        return Navigation::Page;
    }
    let mut token = None;
    let mut nonce = None;
    let mut origin = None;
    for (name, value) in url::form_urlencoded::parse(url.fragment().unwrap_or("").as_bytes()) {
        match name.as_ref() {
            "token" => token = Some(value.into_owned()),
            "nonce" => nonce = Some(value.into_owned()),
            "origin" => origin = Some(value.into_owned()),
            _ => {}
        }
    }
    // Compared whole; the nonce is not secret once the window is gone, and a wrong one here
    // only ever comes from a page that cannot know it.
    if nonce.as_deref() != Some(handover.nonce.as_str()) {
        return Navigation::Refused("not from the login window's own script (a frame, or a page)");
    }
    let origin = origin.unwrap_or_default();
    if !handover.origins.contains(&origin) {
        return Navigation::FromUnexpectedOrigin(origin);
    }
    match token {
        Some(token) if !token.is_empty() => Navigation::Captured(token),
        _ => Navigation::Refused("without a token"),
    }
}

/// The origins a profile's login may hand a token over from: the login page's, the page its
/// `redirect_uri` returns to, and the dashboard's. Never empty: a profile that names neither
/// of the last two takes a token from its login page's origin only (and the refusal of
/// another names that origin, so a person can enter it as the dashboard).
pub fn expected_origins(login_url: &Url, dashboard_url: Option<&Url>) -> Vec<String> {
    let mut origins = vec![login_url.origin().ascii_serialization()];
    let redirect = login_url
        .query_pairs()
        .find(|(name, _)| name == "redirect_uri")
        .and_then(|(_, value)| Url::parse(&value).ok());
    for url in redirect.iter().chain(dashboard_url) {
        let origin = url.origin().ascii_serialization();
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    origins
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
    origins: Vec<String>,
    visible: bool,
    on_handover: impl Fn(Handed) + Send + 'static,
) -> Result<(), CommandError> {
    if let Some(window) = app.get_webview_window(LOGIN_WINDOW) {
        if visible {
            let _ = window.show();
            let _ = window.set_focus();
        }
        return Ok(());
    }
    let handover = Handover {
        nonce: new_nonce(),
        origins,
    };
    let script = capture_script(api_origin, &handover.nonce);
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
        // The top frame only: a frame of the page (another origin's) gets no script.
        .initialization_script(script)
        .on_navigation(move |url| match read_navigation(url, &handover) {
            Navigation::Page => true,
            Navigation::Captured(token) => {
                // Each hand-over is checked; a refused one leaves the window waiting.
                on_handover(Handed::Token(token));
                false
            }
            Navigation::FromUnexpectedOrigin(origin) => {
                tracing::warn!(%origin, "a token hand-over from an unexpected origin was refused");
                on_handover(Handed::FromUnexpectedOrigin(origin));
                false
            }
            Navigation::Refused(why) => {
                tracing::warn!(why, "a token hand-over in the login window was ignored");
                false
            }
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

    fn handover() -> Handover {
        Handover {
            nonce: "n0nce".into(),
            origins: vec!["http://127.0.0.1:4002".into()],
        }
    }

    #[test]
    fn the_reserved_url_carries_the_token_the_nonce_and_the_origin() {
        let url = Url::parse(
            "https://mcp-rmm-capture.invalid/#token=a.b%2Bc.d&nonce=n0nce&origin=http%3A%2F%2F127.0.0.1%3A4002",
        )
        .unwrap();
        assert_eq!(
            read_navigation(&url, &handover()),
            Navigation::Captured("a.b+c.d".into())
        );
        let empty = Url::parse(
            "https://mcp-rmm-capture.invalid/#token=&nonce=n0nce&origin=http%3A%2F%2F127.0.0.1%3A4002",
        )
        .unwrap();
        assert!(matches!(
            read_navigation(&empty, &handover()),
            Navigation::Refused(_)
        ));
    }

    #[test]
    fn a_forged_handover_is_refused() {
        // Issue 13, finding 4: a frame navigating itself to the reserved address.
        for forged in [
            "https://mcp-rmm-capture.invalid/#token=junk",
            "https://mcp-rmm-capture.invalid/#token=junk&nonce=guess&origin=http%3A%2F%2F127.0.0.1%3A4002",
            "https://mcp-rmm-capture.invalid/#token=junk&nonce=n0nce&origin=http%3A%2F%2F127.0.0.1%3A9",
            "https://mcp-rmm-capture.invalid/#token=junk&nonce=n0nce",
        ] {
            let url = Url::parse(forged).unwrap();
            assert!(
                matches!(
                    read_navigation(&url, &handover()),
                    Navigation::Refused(_) | Navigation::FromUnexpectedOrigin(_)
                ),
                "{forged}"
            );
        }
    }

    #[test]
    fn other_pages_load_even_with_a_token_in_their_fragment() {
        let url = Url::parse("http://127.0.0.1:4000/callback#token=x").unwrap();
        assert_eq!(read_navigation(&url, &handover()), Navigation::Page);
    }

    #[test]
    fn expected_origins_are_the_login_page_its_return_and_the_dashboard() {
        let login = Url::parse(
            "https://t.auth0.example/authorize?client_id=x&redirect_uri=https%3A%2F%2Fdash.example%2Fcb",
        )
        .unwrap();
        let dash = Url::parse("https://dash.example/").unwrap();
        assert_eq!(
            expected_origins(&login, Some(&dash)),
            ["https://t.auth0.example", "https://dash.example"]
        );
        assert_eq!(
            expected_origins(&login, None),
            ["https://t.auth0.example", "https://dash.example"]
        );
        let plain = Url::parse("https://t.auth0.example/login").unwrap();
        assert_eq!(expected_origins(&plain, None), ["https://t.auth0.example"]);
    }

    /// A profile of only a login page used to accept a hand-over from any origin.
    #[test]
    fn a_profile_of_only_a_login_page_takes_no_handover_from_another_origin() {
        let plain = Url::parse("https://t.auth0.example/login").unwrap();
        let handover = Handover {
            nonce: "n0nce".into(),
            origins: expected_origins(&plain, None),
        };
        let from = |origin: &str| {
            let url = Url::parse(&format!(
                "{CAPTURE_URL}#token=eyJ.x.y&nonce=n0nce&origin={}",
                url::form_urlencoded::byte_serialize(origin.as_bytes()).collect::<String>()
            ))
            .unwrap();
            read_navigation(&url, &handover)
        };
        assert_eq!(
            from("https://evil.example"),
            Navigation::FromUnexpectedOrigin("https://evil.example".into())
        );
        assert_eq!(
            from("https://t.auth0.example"),
            Navigation::Captured("eyJ.x.y".into())
        );
    }

    #[test]
    fn the_script_names_the_api_origin_the_reserved_url_and_the_nonce_quoted() {
        let script = capture_script("http://127.0.0.1:4004", "abc123");
        assert!(script.contains("var API_ORIGIN = \"http://127.0.0.1:4004\";"));
        assert!(script.contains("\"https://mcp-rmm-capture.invalid/\""));
        assert!(script.contains("var NONCE = \"abc123\";"));
        assert!(script.contains("window.top !== window"));
        assert!(!script.contains("__RMM_"));
        assert_ne!(new_nonce(), new_nonce());
        assert_eq!(new_nonce().len(), 32);
    }
}
