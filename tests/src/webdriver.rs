//! A minimal W3C WebDriver client: just what the desktop tests use (a session for a Tauri app,
//! finding elements, their text, clicking and typing, scripts, windows, the title,
//! screenshots), over reqwest.

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The key under which W3C WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// An open WebDriver session. Call [`Session::close`] at the end; if a test fails first,
/// the process guards end the app anyway.
pub struct Session {
    http: reqwest::Client,
    url: String,
    display: Option<String>,
}

/// Where a WebDriver serves, and the X display its app draws on (for screenshots that do not
/// depend on WebKit).
#[derive(Debug, Clone)]
pub struct WebDriverAddress {
    pub url: String,
    pub display: Option<String>,
}

/// How long WebKit gets to answer a screenshot before the screen is read from the X server.
/// Under a loaded CI machine WebKitWebDriver's snapshot has once stopped answering for a minute.
const SCREENSHOT_LIMIT: Duration = Duration::from_secs(20);

impl Session {
    /// Opens a session that starts the Tauri app `application` with `args` (tauri-driver's
    /// `tauri:options`).
    pub async fn start_tauri_app(
        webdriver: &WebDriverAddress,
        application: &Path,
        args: &[&str],
    ) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        let capabilities = json!({
            "capabilities": {"alwaysMatch": {"tauri:options": {
                "application": application.display().to_string(),
                "args": args,
            }}}
        });
        let webdriver_url = &webdriver.url;
        let value = call(
            http.post(format!("{webdriver_url}/session"))
                .json(&capabilities),
        )
        .await?;
        let id = value["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no sessionId in the new-session answer: {value}"))?;
        Ok(Self {
            url: format!("{webdriver_url}/session/{id}"),
            http,
            display: webdriver.display.clone(),
        })
    }

    /// The page's title.
    pub async fn title(&self) -> Result<String, String> {
        let value = call(self.http.get(format!("{}/title", self.url))).await?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// Waits until an element matching `css` exists and its text satisfies `accept`; returns the
    /// text. On timeout the error carries the last text seen.
    pub async fn wait_for_text(
        &self,
        css: &str,
        limit: Duration,
        accept: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        let deadline = Instant::now() + limit;
        let mut last = String::from("(no such element)");
        loop {
            if let Some(element) = self.find(css).await? {
                match self.element_text(&element).await {
                    Ok(text) => {
                        last = text;
                        if accept(&last) {
                            return Ok(last);
                        }
                    }
                    // The page re-rendered the element (a ticking clock) between finding it
                    // and reading it: look it up again.
                    Err(error) if error.contains("stale element reference") => {}
                    Err(error) => return Err(error),
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "`{css}` did not show the expected text within {limit:?}; last seen: {last:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The first element matching `css`, if any.
    async fn find(&self, css: &str) -> Result<Option<String>, String> {
        let response = self
            .http
            .post(format!("{}/element", self.url))
            .json(&json!({"using": "css selector", "value": css}))
            .send()
            .await
            .map_err(|e| format!("WebDriver find-element failed: {e}"))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let value = answer(response).await?;
        Ok(value[ELEMENT_KEY].as_str().map(str::to_string))
    }

    async fn element_text(&self, element: &str) -> Result<String, String> {
        let value = call(
            self.http
                .get(format!("{}/element/{element}/text", self.url)),
        )
        .await?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// Takes a screenshot of the window and writes it as PNG to `path`; returns its bytes.
    /// When WebKit does not answer within [`SCREENSHOT_LIMIT`], the picture is the X screen
    /// instead (what a person would see, window and all), and a line on stderr says so.
    pub async fn screenshot(&self, path: &Path) -> Result<Vec<u8>, String> {
        let png = match self.webkit_screenshot().await {
            Ok(png) => png,
            Err(error) => match &self.display {
                Some(display) => {
                    eprintln!(
                        "WebDriver's screenshot failed ({error}); reading the X screen {display}"
                    );
                    screen_png(display)?
                }
                None => return Err(error),
            },
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
        }
        std::fs::write(path, &png).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(png)
    }

    async fn webkit_screenshot(&self) -> Result<Vec<u8>, String> {
        let value = call(
            self.http
                .get(format!("{}/screenshot", self.url))
                .timeout(SCREENSHOT_LIMIT),
        )
        .await?;
        base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap_or_default())
            .map_err(|e| format!("the screenshot is not base64: {e}"))
    }

    /// Waits for an element matching `css` and returns its reference.
    pub async fn wait_for(&self, css: &str, limit: Duration) -> Result<String, String> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(element) = self.find(css).await? {
                return Ok(element);
            }
            if Instant::now() > deadline {
                return Err(format!("`{css}` did not appear within {limit:?}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks an element.
    pub async fn click(&self, element: &str) -> Result<(), String> {
        call(
            self.http
                .post(format!("{}/element/{element}/click", self.url))
                .json(&json!({})),
        )
        .await
        .map(drop)
    }

    /// Presses `keys` one after the other on whatever has the focus (WebDriver key actions:
    /// `\u{E007}` Enter, `\u{E004}` Tab, `\u{E00C}` Escape, `\u{E015}` ArrowDown, " " Space;
    /// `\u{E008}` Shift is held until the end of `keys`).
    pub async fn press_keys(&self, keys: &str) -> Result<(), String> {
        let mut actions = Vec::new();
        for k in keys.chars() {
            actions.push(json!({"type": "keyDown", "value": k.to_string()}));
            if k != '\u{E008}' {
                actions.push(json!({"type": "keyUp", "value": k.to_string()}));
            }
        }
        if keys.contains('\u{E008}') {
            actions.push(json!({"type": "keyUp", "value": "\u{E008}"}));
        }
        call(
            self.http
                .post(format!("{}/actions", self.url))
                .json(&json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        )
        .await
        .map(drop)
    }

    /// Resizes the window (its outer size, in pixels).
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<(), String> {
        call(
            self.http
                .post(format!("{}/window/rect", self.url))
                .json(&json!({"width": width, "height": height})),
        )
        .await
        .map(drop)
    }

    /// Types `text` into an element.
    pub async fn type_into(&self, element: &str, text: &str) -> Result<(), String> {
        call(
            self.http
                .post(format!("{}/element/{element}/value", self.url))
                .json(&json!({"text": text})),
        )
        .await
        .map(drop)
    }

    /// Runs an async script in the current window (`arguments[arguments.length - 1]` is the
    /// callback) and returns what it passed to the callback.
    pub async fn execute_async(&self, script: &str) -> Result<Value, String> {
        call(
            self.http
                .post(format!("{}/execute/async", self.url))
                .json(&json!({"script": script, "args": []})),
        )
        .await
    }

    /// The handles of the app's windows.
    pub async fn window_handles(&self) -> Result<Vec<String>, String> {
        let value = call(self.http.get(format!("{}/window/handles", self.url))).await?;
        Ok(value
            .as_array()
            .map(|handles| {
                handles
                    .iter()
                    .filter_map(|h| h.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The handle of the current window.
    pub async fn window_handle(&self) -> Result<String, String> {
        let value = call(self.http.get(format!("{}/window", self.url))).await?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// Makes `handle` the window the next commands act on.
    pub async fn switch_to_window(&self, handle: &str) -> Result<(), String> {
        call(
            self.http
                .post(format!("{}/window", self.url))
                .json(&json!({"handle": handle})),
        )
        .await
        .map(drop)
    }

    /// Waits until a window other than `known` exists and returns its handle.
    pub async fn wait_for_new_window(
        &self,
        known: &[String],
        limit: Duration,
    ) -> Result<String, String> {
        let deadline = Instant::now() + limit;
        loop {
            let handles = self.window_handles().await?;
            if let Some(new) = handles.iter().find(|h| !known.contains(h)) {
                return Ok(new.clone());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no new window within {limit:?} (windows: {handles:?})"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the session, which closes the app.
    pub async fn close(self) -> Result<(), String> {
        call(self.http.delete(&self.url)).await.map(drop)
    }
}

#[cfg(target_os = "linux")]
fn screen_png(display: &str) -> Result<Vec<u8>, String> {
    crate::x11_windows::X11Windows::connect(display)?.screen_png()
}

#[cfg(not(target_os = "linux"))]
fn screen_png(display: &str) -> Result<Vec<u8>, String> {
    Err(format!("no X screen to read on this system ({display})"))
}

async fn call(request: reqwest::RequestBuilder) -> Result<Value, String> {
    let response = request
        .send()
        .await
        .map_err(|e| format!("WebDriver request failed: {}", rmm_api::with_causes(&e)))?;
    answer(response).await
}

/// The `value` of a WebDriver answer, or its error as text.
async fn answer(response: reqwest::Response) -> Result<Value, String> {
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| format!("WebDriver answered {status} with a body that is not JSON: {e}"))?;
    if status.is_success() {
        Ok(body["value"].clone())
    } else {
        Err(format!("WebDriver answered {status}: {}", body["value"]))
    }
}
