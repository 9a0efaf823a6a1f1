//! Finding and starting Chromium for a login: the configured path first, then the usual
//! names and install folders of each OS; a profile folder of its own per profile, so the
//! identity provider's session makes the next login silent.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::network::{Cookie, CookieParam};
use chromiumoxide::{Browser, BrowserConfig, Handler};
use futures::StreamExt;

use crate::login::LoginError;

/// Headless (no window) or visible (a person can act, e.g. for MFA).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BrowserMode {
    /// No window.
    #[default]
    Headless,
    /// A window on the screen.
    Visible,
}

/// The Chromium executable: `configured` if given (it must exist), else the first of the
/// usual names on `PATH` and the usual install folders.
pub fn find_chromium(configured: Option<&Path>) -> Result<PathBuf, LoginError> {
    if let Some(p) = configured {
        if p.is_file() {
            return Ok(p.to_path_buf());
        }
        return Err(LoginError::Browser(format!(
            "the configured chromium_path {} is not a file",
            p.display()
        )));
    }
    let names: &[&str] = if cfg!(windows) {
        &["chrome.exe", "chromium.exe", "msedge.exe"]
    } else {
        &[
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
            "chrome",
        ]
    };
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            for name in names {
                let candidate = dir.join(name);
                if candidate.is_file() {
                    return Ok(candidate);
                }
            }
        }
    }
    for candidate in install_folders() {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(LoginError::Browser(
        "no Chromium or Chrome found on PATH or in the usual install folders; install it or set \
         `chromium_path` in the profile"
            .to_owned(),
    ))
}

fn install_folders() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if cfg!(target_os = "macos") {
        out.push(PathBuf::from(
            "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
        ));
        out.push(PathBuf::from(
            "/Applications/Chromium.app/Contents/MacOS/Chromium",
        ));
    }
    if cfg!(windows) {
        for var in ["ProgramFiles", "ProgramFiles(x86)", "LOCALAPPDATA"] {
            if let Some(base) = std::env::var_os(var) {
                let base = PathBuf::from(base);
                out.push(base.join("Google/Chrome/Application/chrome.exe"));
                out.push(base.join("Chromium/Application/chrome.exe"));
                out.push(base.join("Microsoft/Edge/Application/msedge.exe"));
            }
        }
    }
    if cfg!(target_os = "linux") {
        out.push(PathBuf::from("/usr/bin/chromium"));
        out.push(PathBuf::from("/snap/bin/chromium"));
    }
    out
}

/// A running Chromium and the task that pumps its DevTools connection.
pub(crate) struct RunningBrowser {
    pub(crate) browser: Browser,
    pump: tokio::task::JoinHandle<()>,
}

impl RunningBrowser {
    /// Starts Chromium with `user_data_dir` as its profile.
    pub(crate) async fn launch(
        executable: &Path,
        user_data_dir: &Path,
        mode: BrowserMode,
        viewport: (u32, u32),
    ) -> Result<Self, LoginError> {
        // Owner-only: the profile holds the IdP session's cookies and, while Chromium runs,
        // DevTools state no other local user may read.
        crate::private_fs::create_private_dir(user_data_dir).map_err(|e| {
            LoginError::Browser(format!(
                "cannot create the browser profile folder {}: {e}",
                user_data_dir.display()
            ))
        })?;
        let mut builder = BrowserConfig::builder()
            .chrome_executable(executable)
            .user_data_dir(user_data_dir)
            .window_size(viewport.0, viewport.1)
            .viewport(None)
            .launch_timeout(Duration::from_secs(30))
            .request_timeout(Duration::from_secs(30))
            // Without the leading "--": chromiumoxide adds it, and "----disable-gpu" is a
            // flag Chromium ignores.
            .args([
                "disable-gpu",
                "disable-background-networking",
                "disable-component-update",
                "no-first-run",
                "disable-sync",
                "password-store=basic",
            ]);
        // DevTools over two pipes only this process holds, never a TCP port: any local user
        // can connect to a port on 127.0.0.1 and read the password field. (Windows has no
        // pipe transport yet; there chromiumoxide's port stays, see the README.)
        #[cfg(unix)]
        {
            builder = builder.remote_debugging_pipe();
        }
        if mode == BrowserMode::Visible {
            builder = builder.with_head();
        }
        // Chromium refuses to start its sandbox as root (containers, CI).
        if running_as_root() {
            builder = builder.no_sandbox();
        }
        let config = builder.build().map_err(LoginError::Browser)?;
        let (browser, mut handler): (Browser, Handler) =
            Browser::launch(config).await.map_err(|e| {
                LoginError::Browser(format!("{} did not start: {e}", executable.display()))
            })?;
        let pump = tokio::spawn(async move {
            while let Some(event) = handler.next().await {
                if event.is_err() {
                    // Messages Chromium sends that this version cannot parse are harmless.
                    continue;
                }
            }
        });
        Ok(Self { browser, pump })
    }

    /// Carries the session cookies of the identity provider and Auth0 (cookies without an
    /// expiry, which Chromium drops when it exits) into this run, so a login inside the IdP
    /// session stays silent as it would in a browser left open.
    pub(crate) async fn restore_session_cookies(&self, user_data_dir: &Path) {
        let Ok(text) = std::fs::read_to_string(user_data_dir.join(SESSION_COOKIES)) else {
            return;
        };
        let Ok(saved) = serde_json::from_str::<Vec<Cookie>>(&text) else {
            return;
        };
        let params: Vec<CookieParam> = saved
            .into_iter()
            .map(|c| {
                let mut p = CookieParam::new(c.name, c.value);
                p.domain = Some(c.domain);
                p.path = Some(c.path);
                p.secure = Some(c.secure);
                p.http_only = Some(c.http_only);
                p.same_site = c.same_site;
                p
            })
            .collect();
        if let Err(e) = self.browser.set_cookies(params).await {
            tracing::debug!(error = %e, "cannot restore the login session cookies");
        }
    }

    /// Keeps the session cookies for the next run (owner-only file in the profile folder,
    /// beside Chromium's own cookie database).
    pub(crate) async fn save_session_cookies(&self, user_data_dir: &Path) {
        let Ok(all) = self.browser.get_cookies().await else {
            return;
        };
        let session: Vec<&Cookie> = all.iter().filter(|c| c.session).collect();
        let Ok(text) = serde_json::to_vec(&session) else {
            return;
        };
        if let Err(e) = write_private(&user_data_dir.join(SESSION_COOKIES), &text) {
            tracing::debug!(error = %e, "cannot keep the login session cookies");
        }
    }

    /// Closes Chromium and waits for it to exit, so its profile folder is free for the next
    /// login.
    pub(crate) async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        self.pump.abort();
    }
}

/// The file (in the Chromium profile folder) holding the session cookies between runs.
const SESSION_COOKIES: &str = "mcp-rmm-session-cookies.json";

/// Forgets the login session (`rmm logout --all`): the next login needs the password.
pub fn forget_browser_session(user_data_dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(user_data_dir.join(SESSION_COOKIES)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(target_os = "linux")]
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

#[cfg(all(unix, not(target_os = "linux")))]
fn running_as_root() -> bool {
    std::env::var("USER").is_ok_and(|u| u == "root")
}

#[cfg(not(unix))]
fn running_as_root() -> bool {
    false
}
