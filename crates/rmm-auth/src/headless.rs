//! Signing in with Chromium driven over DevTools: open the login URL, walk the Auth0 email
//! page, the "Sign in with Sharp-Start" button and the DNN form by watching the page (never
//! by sleeping a fixed time), take the first `authorization: Bearer` header the dashboard
//! sends to the API origin from `Network.requestWillBeSent`, validate the token and try it on
//! `GET /api/v1/tenants` (a failure there is logged as a warning: the JWKS decides).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::input::InsertTextParams;
use chromiumoxide::cdp::browser_protocol::network::{
    EnableParams, EventRequestWillBeSent, ResourceType,
};
use chromiumoxide::page::ScreenshotParams;
use futures::StreamExt;
use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::chromium::{BrowserMode, RunningBrowser, find_chromium};
use crate::login::{Login, LoginError};
use crate::token::{AccessToken, TokenOrigin};
use crate::validate::TokenValidator;

/// CSS selectors of the login pages; the defaults match the real pages.
#[derive(Clone, Debug)]
pub struct Selectors {
    /// Auth0 Lock's email field.
    pub email: String,
    /// Auth0 Lock's continue button.
    pub email_submit: String,
    /// The "Sign in with Sharp-Start" enterprise button.
    pub sharp_start: String,
    /// The DNN form's username field.
    pub dnn_username: String,
    /// The DNN form's password field.
    pub dnn_password: String,
    /// The DNN form's submit button.
    pub dnn_submit: String,
    /// Where the DNN site shows why a login was refused.
    pub dnn_error: String,
}

impl Default for Selectors {
    fn default() -> Self {
        Self {
            email: r#"input[type="email"][id="1-email"][inputmode="email"][name="email"]"#.into(),
            email_submit: r#".auth0-lock-submit, button[type="submit"]"#.into(),
            sharp_start:
                r#"a.auth0-lock-social-button.auth0-lock-social-big-button[data-provider="oauth2"]"#
                    .into(),
            dnn_username: r#"input[name="dnn$ctr752$CustomLogin_View$txtUsername"]"#.into(),
            dnn_password: r#"input[name="dnn$ctr752$CustomLogin_View$txtPassword"]"#.into(),
            dnn_submit: r#"input[type="submit"][name="dnn$ctr752$CustomLogin_View$cmdLogin"]"#
                .into(),
            dnn_error: ".dnnFormMessage.dnnFormValidationSummary".into(),
        }
    }
}

/// How long each kind of wait may last (the old tool's `ELEMENT_TIMEOUT`, `DASHBOARD_TIMEOUT`,
/// `API_TRIGGER_TIMEOUT`).
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// For the next login element to appear.
    pub element: Duration,
    /// For the whole login, from opening the page to the captured header.
    pub dashboard: Duration,
    /// For the dashboard's first API call after the last form was sent.
    pub api_trigger: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            element: Duration::from_secs(15),
            dashboard: Duration::from_secs(60),
            api_trigger: Duration::from_secs(30),
        }
    }
}

/// Everything a browser login needs.
#[derive(Clone)]
pub struct LoginConfig {
    /// The Auth0 login page (`AUTH0_LOGIN_URL`).
    pub login_url: Url,
    /// The API base; its origin is where the bearer header is taken from (`API_BASE_URL`).
    pub api_base_url: Url,
    /// The tenants endpoint used to try a fresh token (`TENANT_LIST_ENDPOINT`).
    pub tenants_path: String,
    /// The Sharp-Start username (an email).
    pub username: String,
    /// The Sharp-Start password; `None` when only a silent (session) login is possible.
    pub password: Option<SecretString>,
    /// Sent as `ocp-apim-subscription-key` when trying the token.
    pub subscription_key: Option<SecretString>,
    /// Headless or visible.
    pub mode: BrowserMode,
    /// Chromium to use; found on the system when `None`.
    pub chromium_path: Option<PathBuf>,
    /// The identity provider's origin (`scheme://host[:port]`): the password is typed only
    /// into a page of this origin, when set.
    pub idp_origin: Option<String>,
    /// The profile's own Chromium profile folder.
    pub user_data_dir: PathBuf,
    /// The login pages' selectors.
    pub selectors: Selectors,
    /// How long to wait.
    pub timeouts: Timeouts,
    /// Window size.
    pub viewport: (u32, u32),
    /// A pause after each action, only when the user sets one (`SLOW_MO`) to watch a
    /// visible login; zero by default.
    pub slow_mo: Duration,
    /// Where a screenshot of a failed step goes, when asked.
    pub debug_dir: Option<PathBuf>,
}

impl std::fmt::Debug for LoginConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginConfig")
            .field("login_url", &self.login_url.as_str())
            .field("api_base_url", &self.api_base_url.as_str())
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field(
                "subscription_key",
                &self.subscription_key.as_ref().map(|_| "[redacted]"),
            )
            .field("mode", &self.mode)
            .field("user_data_dir", &self.user_data_dir)
            .finish_non_exhaustive()
    }
}

/// Figures of the last login, for the benchmark and `--verbose` output.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoginFigures {
    /// Documents the browser loaded (redirects included).
    pub page_loads: u64,
    /// Whether the DNN password form was filled (false: the IdP session made it silent).
    pub used_password: bool,
}

/// Signs in with Chromium and returns a validated, API-tested token.
pub struct HeadlessLogin {
    config: LoginConfig,
    validator: Arc<TokenValidator>,
    /// `None` when no HTTP client could be built (then no token can be tried).
    http: Option<reqwest::Client>,
    page_loads: AtomicU64,
    used_password: AtomicU64,
}

impl HeadlessLogin {
    /// A login with `config`, checking captured tokens with `validator`.
    pub fn new(config: LoginConfig, validator: Arc<TokenValidator>) -> Self {
        Self {
            config,
            validator,
            // The token and the key go to the API origin only: a redirect is never followed
            // (reqwest would carry the subscription-key header to another origin).
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .ok(),
            page_loads: AtomicU64::new(0),
            used_password: AtomicU64::new(0),
        }
    }

    /// Figures of the last login.
    pub fn last_figures(&self) -> LoginFigures {
        LoginFigures {
            page_loads: self.page_loads.load(Ordering::SeqCst),
            used_password: self.used_password.load(Ordering::SeqCst) != 0,
        }
    }

    /// Runs one login.
    pub async fn run(&self) -> Result<AccessToken, LoginError> {
        let exe = find_chromium(self.config.chromium_path.as_deref())?;
        let started = Instant::now();
        let running = RunningBrowser::launch(
            &exe,
            &self.config.user_data_dir,
            self.config.mode,
            self.config.viewport,
        )
        .await?;
        running
            .restore_session_cookies(&self.config.user_data_dir)
            .await;
        let captured = self.capture(&running).await;
        if captured.is_ok() {
            running
                .save_session_cookies(&self.config.user_data_dir)
                .await;
        }
        running.close().await;
        let jwt = captured?;
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "bearer header captured"
        );
        let origin = match self.config.mode {
            BrowserMode::Headless => TokenOrigin::HeadlessBrowser,
            BrowserMode::Visible => TokenOrigin::VisibleBrowser,
        };
        let token = self.validator.validate(jwt.expose_secret(), origin).await?;
        // The token validated against the JWKS: that decides. The tenants endpoint may belong
        // to another service or want a browser (the old tool got 401 there and went on), so
        // its failure is a warning with the reason, not a refused sign-in.
        if let Err(warning) = self.try_on_api(&token).await {
            tracing::warn!(
                %warning,
                "the tenants check after sign-in failed; the token is kept (it validated against the JWKS)"
            );
        }
        Ok(token)
    }

    async fn capture(&self, running: &RunningBrowser) -> Result<SecretString, LoginError> {
        let c = &self.config;
        let page = running
            .browser
            .new_page("about:blank")
            .await
            .map_err(|e| LoginError::Browser(format!("cannot open a tab: {e}")))?;
        // The Network domain must be on before the first navigation, or the dashboard's
        // first API call could pass unseen.
        let mut requests = page
            .event_listener::<EventRequestWillBeSent>()
            .await
            .map_err(|e| LoginError::Browser(format!("cannot watch the network: {e}")))?;
        page.execute(EnableParams::default())
            .await
            .map_err(|e| LoginError::Browser(format!("cannot watch the network: {e}")))?;

        let api_origin = c.api_base_url.origin().ascii_serialization();
        let (tx, mut rx) = tokio::sync::oneshot::channel::<SecretString>();
        self.page_loads.store(0, Ordering::SeqCst);
        self.used_password.store(0, Ordering::SeqCst);
        let loads = Arc::new(AtomicU64::new(0));
        let loads_seen = loads.clone();
        let watcher = tokio::spawn(async move {
            let mut tx = Some(tx);
            while let Some(ev) = requests.next().await {
                if ev.r#type == Some(ResourceType::Document) {
                    loads_seen.fetch_add(1, Ordering::SeqCst);
                }
                if tx.is_none() {
                    continue;
                }
                let to_api = Url::parse(&ev.request.url)
                    .is_ok_and(|u| u.origin().ascii_serialization() == api_origin);
                if !to_api {
                    continue;
                }
                if let Some(jwt) = bearer_of(ev.request.headers.inner())
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(jwt);
                }
            }
        });

        let result = self.walk(&page, &mut rx).await;
        self.page_loads
            .store(loads.load(Ordering::SeqCst), Ordering::SeqCst);
        watcher.abort();
        match result {
            Ok(jwt) => Ok(jwt),
            Err(LoginError::Step { step, detail, .. }) => {
                let screenshot = self.screenshot(&page, step).await;
                Err(LoginError::Step {
                    step,
                    detail,
                    screenshot,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Walks the login pages until the bearer header arrives.
    async fn walk(
        &self,
        page: &Page,
        rx: &mut tokio::sync::oneshot::Receiver<SecretString>,
    ) -> Result<SecretString, LoginError> {
        let c = &self.config;
        let s = &c.selectors;
        // Start the navigation from a script rather than `Page.navigate`: the driver holds a
        // `Page.navigate` open until the page's load lifecycle ends, and the login's chain of
        // script redirects (dashboard → /authorize → back, when the session makes it silent)
        // can leave that wait hanging. The loop below waits on what the page shows instead.
        let target = serde_json::to_string(c.login_url.as_str()).map_err(|e| LoginError::Step {
            step: "open the login page",
            detail: format!("the login URL cannot be quoted: {e}"),
            screenshot: None,
        })?;
        page.evaluate(format!("window.location.href = {target}; true"))
            .await
            .map_err(|e| LoginError::Step {
                step: "open the login page",
                detail: format!("{} could not be opened: {e}", c.login_url),
                screenshot: None,
            })?;

        let probe = probe_script(s);
        let started = Instant::now();
        let mut progress = Instant::now();
        let (mut email_done, mut sharp_done, mut dnn_done) = (false, false, false);
        let mut step: &'static str = "wait for the login page";
        let mut last = PageState::default();
        loop {
            if let Ok(jwt) = rx.try_recv() {
                return Ok(jwt);
            }
            let limit = if dnn_done {
                c.timeouts.api_trigger
            } else {
                c.timeouts.element
            };
            if progress.elapsed() > limit || started.elapsed() > c.timeouts.dashboard {
                return Err(LoginError::Step {
                    step,
                    detail: format!(
                        "nothing happened for {} s; the page at {} showed: {}",
                        progress.elapsed().as_secs(),
                        last.url,
                        snippet(&last.text)
                    ),
                    screenshot: None,
                });
            }
            // A page in the middle of navigating cannot be probed: that is simply "not yet".
            if let Ok(state) = page.evaluate(probe.as_str()).await.and_then(|r| {
                r.into_value::<PageState>()
                    .map_err(chromiumoxide::error::CdpError::Serde)
            }) {
                last = state;
            } else {
                tokio::select! {
                    jwt = &mut *rx => if let Ok(jwt) = jwt { return Ok(jwt) },
                    _ = tokio::time::sleep(POLL) => {},
                }
                continue;
            }

            if dnn_done && let Some(err) = last.error.as_ref().filter(|e| !e.is_empty()) {
                return Err(LoginError::Refused {
                    step: "Sharp-Start sign-in (DNN form)",
                    message: err.clone(),
                });
            }
            if last.dnn && !dnn_done {
                let Some(password) = &c.password else {
                    return Err(LoginError::NotConfigured(
                        "the Sharp-Start page asks for a password and none is saved; run \
                         `rmm login --save-credentials` or `rmm login --browser`"
                            .to_owned(),
                    ));
                };
                step = "Sharp-Start sign-in (DNN form)";
                if let Some(idp) = &c.idp_origin
                    && &last.origin != idp
                {
                    return Err(LoginError::Refused {
                        step,
                        message: format!(
                            "the password form is shown by {}, not by the profile's identity \
                             provider {idp}: the password was not typed",
                            last.origin
                        ),
                    });
                }
                self.fill(page, &s.dnn_username, &c.username, step).await?;
                self.fill(page, &s.dnn_password, password.expose_secret(), step)
                    .await?;
                self.click(page, &s.dnn_submit, step).await?;
                self.used_password.store(1, Ordering::SeqCst);
                dnn_done = true;
                step = "wait for the dashboard's first API call";
                progress = Instant::now();
            } else if last.sharp && !sharp_done {
                step = "choose \"Sign in with Sharp-Start\"";
                self.click(page, &s.sharp_start, step).await?;
                sharp_done = true;
                step = "wait for the Sharp-Start sign-in page";
                progress = Instant::now();
            } else if last.email && !email_done {
                step = "enter the email";
                self.fill(page, &s.email, &c.username, step).await?;
                self.click(page, &s.email_submit, step).await?;
                email_done = true;
                step = "wait for the \"Sign in with Sharp-Start\" button";
                progress = Instant::now();
            }
            tokio::select! {
                jwt = &mut *rx => if let Ok(jwt) = jwt { return Ok(jwt) },
                _ = tokio::time::sleep(POLL) => {},
            }
        }
    }

    async fn fill(
        &self,
        page: &Page,
        selector: &str,
        text: &str,
        step: &'static str,
    ) -> Result<(), LoginError> {
        let el = page
            .find_element(selector)
            .await
            .map_err(|e| step_error(step, selector, &e))?;
        // Select what is there so the inserted text replaces it.
        el.call_js_fn(
            "function() { this.focus(); this.select && this.select(); }",
            false,
        )
        .await
        .map_err(|e| step_error(step, selector, &e))?;
        page.execute(InsertTextParams::new(text))
            .await
            .map_err(|e| step_error(step, selector, &e))?;
        self.slow_mo().await;
        Ok(())
    }

    async fn click(
        &self,
        page: &Page,
        selector: &str,
        step: &'static str,
    ) -> Result<(), LoginError> {
        let el = page
            .find_element(selector)
            .await
            .map_err(|e| step_error(step, selector, &e))?;
        el.click()
            .await
            .map_err(|e| step_error(step, selector, &e))?;
        self.slow_mo().await;
        Ok(())
    }

    async fn slow_mo(&self) {
        if !self.config.slow_mo.is_zero() {
            tokio::time::sleep(self.config.slow_mo).await;
        }
    }

    async fn screenshot(&self, page: &Page, step: &str) -> Option<PathBuf> {
        let dir = self.config.debug_dir.as_ref()?;
        std::fs::create_dir_all(dir).ok()?;
        let slug: String = step
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let path = dir.join(format!("login-{slug}-{stamp}.png"));
        match page
            .save_screenshot(ScreenshotParams::builder().full_page(true).build(), &path)
            .await
        {
            Ok(_) => Some(path),
            Err(e) => {
                tracing::warn!(error = %e, "cannot save the screenshot of the failed step");
                None
            }
        }
    }

    async fn try_on_api(&self, token: &AccessToken) -> Result<(), LoginError> {
        let c = &self.config;
        let url = tenants_url(&c.api_base_url, &c.tenants_path)?;
        let mut req = self
            .http
            .as_ref()
            .ok_or(LoginError::Internal("no HTTP client could be built"))?
            .get(url.clone())
            .timeout(Duration::from_secs(30))
            .bearer_auth(token.expose_jwt())
            .header("accept", "application/json, text/plain, */*");
        if let Some(key) = &c.subscription_key {
            req = req.header("ocp-apim-subscription-key", key.expose_secret());
        }
        let resp = req
            .send()
            .await
            .map_err(|e| LoginError::ApiCheck(format!("GET {url}: {}", e.without_url())))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let message = resp
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or_default();
        Err(LoginError::ApiCheck(format!(
            "GET {url} answered HTTP {status} {message}"
        )))
    }
}

impl Login for HeadlessLogin {
    fn login(&self) -> BoxFuture<'_, Result<AccessToken, LoginError>> {
        Box::pin(self.run())
    }
}

/// The tenants endpoint under the API base: a path checked like every API path, so that no
/// setting (`TENANT_LIST_ENDPOINT=http://elsewhere/`) can send the fresh token and the key to
/// another origin.
fn tenants_url(api_base_url: &Url, tenants_path: &str) -> Result<Url, LoginError> {
    let trimmed = tenants_path.trim();
    let path = if trimmed.starts_with('/') {
        trimmed.to_owned()
    } else {
        format!("/{trimmed}")
    };
    let path = rmm_api::ApiPath::new(&path)
        .map_err(|e| LoginError::NotConfigured(format!("tenants endpoint: {e}")))?;
    let url = Url::parse(&format!(
        "{}{}",
        api_base_url.as_str().trim_end_matches('/'),
        path.as_str()
    ))
    .map_err(|e| LoginError::NotConfigured(format!("tenants endpoint: {e}")))?;
    if url.origin() != api_base_url.origin() {
        return Err(LoginError::NotConfigured(format!(
            "tenants endpoint {url} is not on the API origin"
        )));
    }
    Ok(url)
}

/// How often the page is looked at while waiting for the next element or the header.
const POLL: Duration = Duration::from_millis(40);

#[derive(Default, Deserialize)]
struct PageState {
    #[serde(default)]
    email: bool,
    #[serde(default)]
    sharp: bool,
    #[serde(default)]
    dnn: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    url: String,
    #[serde(default)]
    origin: String,
    #[serde(default)]
    text: String,
}

/// One round trip tells which login element is on screen, the IdP's error text, and what
/// the page says (for error messages). Input values are never read.
fn probe_script(s: &Selectors) -> String {
    let lit = |v: &str| serde_json::to_string(v).unwrap_or_else(|_| "\"\"".to_owned());
    format!(
        "(() => {{ const shown = s => {{ const e = document.querySelector(s); return !!e && e.getClientRects().length > 0; }}; \
         const err = document.querySelector({err}); \
         return {{ email: shown({email}), sharp: shown({sharp}), dnn: shown({dnn}), \
         error: err ? (err.innerText || '').trim() : null, url: location.origin + location.pathname, origin: location.origin, \
         text: document.body ? document.body.innerText.slice(0, 400) : '' }}; }})()",
        err = lit(&s.dnn_error),
        email = lit(&s.email),
        sharp = lit(&s.sharp_start),
        dnn = lit(&s.dnn_username),
    )
}

fn bearer_of(headers: &serde_json::Value) -> Option<SecretString> {
    let map = headers.as_object()?;
    map.iter().find_map(|(k, v)| {
        if !k.eq_ignore_ascii_case("authorization") {
            return None;
        }
        let v = v.as_str()?;
        let (scheme, rest) = v.split_once(' ')?;
        (scheme.eq_ignore_ascii_case("bearer") && !rest.trim().is_empty())
            .then(|| SecretString::from(rest.trim().to_owned()))
    })
}

fn snippet(text: &str) -> String {
    let t: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() {
        "(an empty page)".to_owned()
    } else if t.chars().count() > 200 {
        format!("\"{}…\"", t.chars().take(200).collect::<String>())
    } else {
        format!("\"{t}\"")
    }
}

fn step_error(
    step: &'static str,
    selector: &str,
    e: &chromiumoxide::error::CdpError,
) -> LoginError {
    LoginError::Step {
        step,
        detail: format!("the element {selector} could not be used: {e}"),
        screenshot: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_header_is_found_whatever_its_case() {
        let h = serde_json::json!({"Accept": "x", "Authorization": "Bearer abc.def.ghi"});
        assert_eq!(
            bearer_of(&h).map(|s| s.expose_secret().to_owned()),
            Some("abc.def.ghi".into())
        );
        let h = serde_json::json!({"authorization": "bearer t"});
        assert!(bearer_of(&h).is_some());
        assert!(bearer_of(&serde_json::json!({"authorization": "Basic dXNlcg=="})).is_none());
        assert!(bearer_of(&serde_json::json!({"authorization": "Bearer "})).is_none());
        assert!(bearer_of(&serde_json::json!({})).is_none());
    }

    #[test]
    fn the_tenants_endpoint_stays_under_the_api_base() {
        let base = Url::parse("http://127.0.0.1:9000/rmm/").unwrap();
        for good in ["api/v1/tenants", "/api/v1/tenants"] {
            assert_eq!(
                tenants_url(&base, good).unwrap().as_str(),
                "http://127.0.0.1:9000/rmm/api/v1/tenants"
            );
        }
        for evil in [
            "http://127.0.0.1:9999/x",
            "//127.0.0.1:9999/x",
            "/../../x",
            "@evil.example/x",
            "\\\\evil.example",
        ] {
            assert!(
                matches!(tenants_url(&base, evil), Err(LoginError::NotConfigured(_))),
                "{evil}"
            );
        }
    }

    #[test]
    fn page_text_in_errors_is_short() {
        let long = "word ".repeat(200);
        assert!(snippet(&long).chars().count() < 210);
        assert_eq!(snippet("  "), "(an empty page)");
    }
}
