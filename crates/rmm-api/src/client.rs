//! `ApiClient`: sends requests to the RMM API with the right headers, retries reads, never
//! re-sends a change blindly, refreshes the token once on 401, and turns every answer into a
//! typed value or an `ApiError`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use futures::{StreamExt as _, stream};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::time::Instant;
use url::Url;

use crate::api_path::{ApiPath, ApiPathError};
use crate::change_outcome::{ChangeOutcome, ExpectedState, judge};
use crate::changes::{
    ChangeReceipt, DeviceSelection, OtaSettings, ReservationRemoval, UpdateReservation,
};
use crate::config::{ApiConfig, TimeZoneOffset};
use crate::device::Device;
use crate::device_list::{DeviceListRequest, DevicePage, SimpleFilter};
use crate::error::{ApiError, FieldError, FieldErrors, RequestError};
use crate::field_errors::{answer_message, error_list};
use crate::firmware::{FirmwareFilePage, FirmwareListRequest};
use crate::tenant::TenantList;
use crate::token::{BearerToken, TokenSource};

pub const TENANTS_PATH: &str = "/api/v1/tenants";
pub const DEVICE_LIST_PATH: &str = "/rmm/fss/fwupd/getFirmwareUpdateList";
pub const FIRMWARE_LIST_PATH: &str = "/rmm/fss/fwupd/getFirmwareDataList";
pub const SET_RESERVATION_PATH: &str = "/rmm/fss/fwupd/setUpdateReservation";
pub const REMOVE_RESERVATION_PATH: &str = "/rmm/fss/fwupd/removeUpdateReservation";
pub const SET_OTA_MODE_PATH: &str = "/stateful/fss/fwupd/setOTAMode";

/// POSTs that only read: safe to send again.
const READ_ONLY_POSTS: &[&str] = &[DEVICE_LIST_PATH, FIRMWARE_LIST_PATH];

/// Read-backs of up to this many listed devices query each one; more read the whole group.
const MAX_DEVICES_CHECKED_ONE_BY_ONE: usize = 20;

/// Longest part of a server message kept in an error.
const MAX_MESSAGE_LEN: usize = 300;

/// Whether a request may be sent again after an ambiguous failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    /// Safe to repeat: retried on 429, 5xx and transport errors.
    Read,
    /// Must not be repeated once it may have reached the server.
    Change,
}

/// How one request went, beyond its answer.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SendStats {
    /// 429 answers seen on the way.
    pub(crate) rate_limited: u32,
}

/// Why a request did not produce an answer.
#[derive(Debug)]
pub(crate) enum SendError {
    Api(ApiError),
    /// A change may or may not have reached the cloud (the text says what happened).
    Ambiguous(String),
}

impl From<ApiError> for SendError {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

/// An answer longer than the client reads.
fn too_large(status: StatusCode, limit: usize) -> Exchange {
    Exchange::Failed {
        message: format!(
            "the answer (HTTP {}) is larger than {} bytes, the most this client reads",
            status.as_u16(),
            limit
        ),
        sent: true,
    }
}

/// Waits for a while; replaced in tests so that no test depends on the clock.
pub(crate) type Sleeper = Arc<dyn Fn(Duration) -> BoxFuture<'static, ()> + Send + Sync>;

/// One HTTP exchange's result.
enum Exchange {
    Answer {
        status: StatusCode,
        retry_after: Option<Duration>,
        body: Vec<u8>,
    },
    Failed {
        message: String,
        /// False when the connection was never made, so nothing reached the server.
        sent: bool,
    },
}

/// The typed client of the Sharp RMM API. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct ApiClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: ApiConfig,
    tokens: Arc<dyn TokenSource>,
    /// Headers every request carries (subscription key, time zone, content type, origin).
    base_headers: HeaderMap,
    /// After a 429 nobody sends before this instant.
    paused_until: Mutex<Option<Instant>>,
    sleeper: Sleeper,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("base_url", &self.inner.config.base_url.to_string())
            .finish_non_exhaustive()
    }
}

fn header(
    name: &'static str,
    value: &str,
    field: &str,
) -> Result<(HeaderName, HeaderValue), RequestError> {
    let value = HeaderValue::from_str(value).map_err(|_| {
        RequestError::new(field, "must be printable ASCII usable in an HTTP header")
    })?;
    Ok((HeaderName::from_static(name), value))
}

/// Connections kept open to the cloud between calls, at least.
const IDLE_CONNECTIONS_PER_HOST: usize = 64;

impl ApiClient {
    /// A client for `config` that takes its tokens from `tokens`.
    pub fn new(config: ApiConfig, tokens: Arc<dyn TokenSource>) -> Result<Self, ApiError> {
        let sleeper: Sleeper = Arc::new(|d| Box::pin(tokio::time::sleep(d)));
        Self::with_sleeper(config, tokens, sleeper)
    }

    pub(crate) fn with_sleeper(
        config: ApiConfig,
        tokens: Arc<dyn TokenSource>,
        sleeper: Sleeper,
    ) -> Result<Self, ApiError> {
        config.validate()?;
        let mut base_headers = HeaderMap::new();
        let (name, mut key) = header(
            "ocp-apim-subscription-key",
            config.subscription_key.expose_secret(),
            "subscription_key",
        )?;
        key.set_sensitive(true);
        base_headers.insert(name, key);
        let time_zone = config.time_zone.to_string();
        for (name, value, field) in [
            ("x-time-zone", time_zone.as_str(), "time_zone"),
            ("content-type", "application/json", "content-type"),
            ("accept", "application/json, text/plain, */*", "accept"),
        ] {
            let (name, value) = header(name, value, field)?;
            base_headers.insert(name, value);
        }
        if let Some(origin) = &config.origin {
            let (name, value) = header("origin", origin, "origin")?;
            base_headers.insert(name, value);
        }
        let http = reqwest::Client::builder()
            // A redirect could carry the request elsewhere: never follow one.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            // Many callers share one client (an MCP endpoint serves many agents at once): a
            // small idle pool would close and reopen connections between their calls.
            .pool_max_idle_per_host(config.concurrency.max(IDLE_CONNECTIONS_PER_HOST))
            .build()
            .map_err(|e| ApiError::Transport {
                attempts: 0,
                message: format!("could not build the HTTP client: {e}"),
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                config,
                tokens,
                base_headers,
                paused_until: Mutex::new(None),
                sleeper,
            }),
        })
    }

    pub fn config(&self) -> &ApiConfig {
        &self.inner.config
    }

    /// `GET /api/v1/tenants`: the groups the token may manage.
    pub async fn tenants(&self) -> Result<TenantList, ApiError> {
        let (answer, _) = self.read(Method::GET, TENANTS_PATH, None, None).await?;
        decode(TENANTS_PATH, &answer)
    }

    /// One page of the device list.
    pub async fn device_page(&self, request: &DeviceListRequest) -> Result<DevicePage, ApiError> {
        Ok(self.device_page_with_stats(request).await?.0)
    }

    pub(crate) async fn device_page_with_stats(
        &self,
        request: &DeviceListRequest,
    ) -> Result<(DevicePage, SendStats), ApiError> {
        request.validate()?;
        let body = to_body(request)?;
        let (answer, stats) = self
            .read(
                Method::POST,
                DEVICE_LIST_PATH,
                Some(&body),
                Some(&request.group_id),
            )
            .await?;
        let mut page = DevicePage::from_json(&answer);
        page.recheck(request);
        Ok((page, stats))
    }

    /// One page of the staged firmware files.
    pub async fn firmware_files(
        &self,
        request: &FirmwareListRequest,
    ) -> Result<FirmwareFilePage, ApiError> {
        request.validate()?;
        let body = to_body(request)?;
        let (answer, _) = self
            .read(
                Method::POST,
                FIRMWARE_LIST_PATH,
                Some(&body),
                Some(&request.group_id),
            )
            .await?;
        decode(FIRMWARE_LIST_PATH, &answer)
    }

    /// Schedules a firmware update. Never sent twice: see [`ChangeOutcome`].
    pub async fn set_update_reservation(
        &self,
        request: &UpdateReservation,
    ) -> Result<ChangeOutcome, ApiError> {
        request.validate()?;
        let expected = ExpectedState::Reserved {
            file_id: request.file_id.clone(),
        };
        self.change(
            SET_RESERVATION_PATH,
            request.wire_body(),
            &request.group_id,
            &request.selection,
            expected,
            request.time_zone(),
        )
        .await
    }

    /// Cancels firmware update reservations. Never sent twice: see [`ChangeOutcome`].
    pub async fn remove_update_reservation(
        &self,
        request: &ReservationRemoval,
    ) -> Result<ChangeOutcome, ApiError> {
        request.validate()?;
        self.change(
            REMOVE_RESERVATION_PATH,
            request.wire_body(),
            &request.group_id,
            &request.selection,
            ExpectedState::NotReserved,
            None,
        )
        .await
    }

    /// Sets automatic-update preferences. Never sent twice: see [`ChangeOutcome`].
    pub async fn set_ota_mode(&self, request: &OtaSettings) -> Result<ChangeOutcome, ApiError> {
        request.validate()?;
        let expected = ExpectedState::Ota {
            mode: request.ota_mode.clone(),
            start_hour: request.ota_start_hour,
            end_hour: request.ota_end_hour,
        };
        self.change(
            SET_OTA_MODE_PATH,
            request.wire_body(),
            &request.group_id,
            &request.selection,
            expected,
            None,
        )
        .await
    }

    /// Any request under the API origin (for a generic "make an API request" tool). The path
    /// goes through the same origin guard. GETs and the list endpoints are retried like
    /// reads; anything else is sent at most once, and a lost answer is
    /// [`ApiError::OutcomeUnknown`].
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, ApiError> {
        let api_path = ApiPath::new(path)?;
        let group = body
            .as_ref()
            .and_then(|b| b.get("groupId"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let is_read = method == Method::GET
            || method == Method::HEAD
            || (method == Method::POST && READ_ONLY_POSTS.contains(&api_path.path_only()));
        let kind = if is_read {
            RequestKind::Read
        } else {
            RequestKind::Change
        };
        match self
            .send(
                kind,
                method,
                &api_path,
                body.as_ref(),
                group.as_deref(),
                None,
            )
            .await
        {
            Ok((answer, _)) => decode(api_path.path_only(), &answer),
            Err(SendError::Api(e)) => Err(e),
            Err(SendError::Ambiguous(message)) => Err(ApiError::OutcomeUnknown { message }),
        }
    }

    async fn read(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        group: Option<&str>,
    ) -> Result<(Vec<u8>, SendStats), ApiError> {
        let path = ApiPath::new(path)?;
        match self
            .send(RequestKind::Read, method, &path, body, group, None)
            .await
        {
            Ok(done) => Ok(done),
            Err(SendError::Api(e)) => Err(e),
            // Reads retry instead; should one end ambiguous anyway, say so plainly.
            Err(SendError::Ambiguous(message)) => Err(ApiError::Transport {
                attempts: 1,
                message,
            }),
        }
    }

    async fn change(
        &self,
        path: &str,
        body: Value,
        group_id: &str,
        selection: &DeviceSelection,
        expected: ExpectedState,
        time_zone: Option<TimeZoneOffset>,
    ) -> Result<ChangeOutcome, ApiError> {
        let api_path = ApiPath::new(path)?;
        match self
            .send(
                RequestKind::Change,
                Method::POST,
                &api_path,
                Some(&body),
                Some(group_id),
                time_zone,
            )
            .await
        {
            Ok((answer, _)) => Ok(ChangeOutcome::Confirmed(receipt(&answer))),
            Err(SendError::Api(e)) => Err(e),
            Err(SendError::Ambiguous(failure)) => {
                tracing::warn!(path, %failure, "change answer lost; reading the devices back instead of re-sending");
                let read = self
                    .read_back(group_id, selection)
                    .await
                    .map_err(|e| e.to_string());
                Ok(judge(&expected, selection, failure, read))
            }
        }
    }

    /// The current state of the devices a change targeted.
    async fn read_back(
        &self,
        group_id: &str,
        selection: &DeviceSelection,
    ) -> Result<Vec<Device>, ApiError> {
        if selection.is_exclude || selection.device_ids.len() > MAX_DEVICES_CHECKED_ONE_BY_ONE {
            return Ok(self
                .fetch_all_devices(&DeviceListRequest::new(group_id), |_| {})
                .await?
                .devices);
        }
        let requests: Vec<DeviceListRequest> = selection
            .device_ids
            .iter()
            .map(|id| {
                DeviceListRequest::new(group_id)
                    .with_filter(SimpleFilter::equals("deviceId", id.as_str()))
            })
            .collect();
        // Owned requests and a cloned client keep this future `Send` for `tokio::spawn`.
        let client = self.clone();
        let pages: Vec<Result<DevicePage, ApiError>> = stream::iter(requests)
            .map(move |request| {
                let client = client.clone();
                async move { client.device_page(&request).await }
            })
            .buffered(self.inner.config.concurrency)
            .collect()
            .await;
        let mut found = Vec::new();
        for page in pages {
            found.extend(page?.devices);
        }
        let all_found = selection
            .device_ids
            .iter()
            .all(|id| found.iter().any(|d| &d.device_id == id));
        if all_found {
            Ok(found)
        } else {
            // The filter may be unknown to this cloud: look through the whole group.
            Ok(self
                .fetch_all_devices(&DeviceListRequest::new(group_id), |_| {})
                .await?
                .devices)
        }
    }

    /// The full URL for `path`, checked to be on the configured origin and under its base path.
    fn url(&self, path: &ApiPath) -> Result<Url, ApiError> {
        let base = &self.inner.config.base_url;
        let refused = |rule| ApiPathError {
            shown: format!("{:?}", path.as_str()),
            rule,
        };
        let url = Url::parse(&format!("{}{}", base.prefix(), path.as_str()))
            .map_err(|_| refused("it does not form a valid URL with the base URL"))?;
        let base_path = base.url().path().trim_end_matches('/');
        if url.origin() != base.url().origin() || !url.path().starts_with(base_path) {
            return Err(refused("it leads outside the API base URL").into());
        }
        Ok(url)
    }

    /// Sends one request, retrying as `kind` allows; returns the JSON answer. `time_zone`
    /// replaces the profile's `x-time-zone` for this request.
    pub(crate) async fn send(
        &self,
        kind: RequestKind,
        method: Method,
        path: &ApiPath,
        body: Option<&Value>,
        group: Option<&str>,
        time_zone: Option<TimeZoneOffset>,
    ) -> Result<(Vec<u8>, SendStats), SendError> {
        let url = self.url(path)?;
        let policy = &self.inner.config.retry;
        let mut token = self.inner.tokens.token().await.map_err(ApiError::Token)?;
        let mut refreshed = false;
        let mut attempts = 0u32;
        let mut stats = SendStats::default();
        loop {
            self.wait_for_pause().await;
            attempts += 1;
            let exchange = self
                .exchange(method.clone(), url.clone(), body, &token, time_zone)
                .await;
            let retries_left = attempts < policy.max_attempts;
            match exchange {
                Exchange::Failed { message, sent } => {
                    let message = self.scrub(&message, &token);
                    tracing::debug!(path = path.as_str(), attempts, sent, %message, "request failed");
                    if sent && kind == RequestKind::Change {
                        return Err(SendError::Ambiguous(format!(
                            "the connection failed after sending: {message}"
                        )));
                    }
                    if !retries_left {
                        return Err(ApiError::Transport { attempts, message }.into());
                    }
                    (self.inner.sleeper)(crate::retry::backoff(policy, attempts - 1)).await;
                }
                Exchange::Answer {
                    status,
                    retry_after,
                    body: answer,
                } => {
                    tracing::debug!(
                        path = path.as_str(),
                        attempts,
                        status = status.as_u16(),
                        "answer"
                    );
                    // Success answers are not built into a JSON tree here: the caller reads
                    // them straight into its types.
                    let json = if status.is_success() {
                        None
                    } else {
                        serde_json::from_slice::<Value>(&answer).ok()
                    };
                    let message = || self.scrub(&message_of(json.as_ref(), &answer), &token);
                    match status {
                        StatusCode::UNAUTHORIZED if !refreshed => {
                            tracing::info!(
                                path = path.as_str(),
                                "token refused (401); asking for a fresh one"
                            );
                            token = self
                                .inner
                                .tokens
                                .token_refused(&token)
                                .await
                                .map_err(ApiError::Token)?;
                            refreshed = true;
                            // A refused token is not a failed try: it does not use up a retry.
                            attempts -= 1;
                        }
                        StatusCode::UNAUTHORIZED => {
                            return Err(ApiError::Unauthorized { message: message() }.into());
                        }
                        StatusCode::FORBIDDEN => {
                            return Err(ApiError::Forbidden {
                                group: group.map(str::to_owned),
                                message: message(),
                            }
                            .into());
                        }
                        StatusCode::TOO_MANY_REQUESTS => {
                            stats.rate_limited += 1;
                            if !retries_left {
                                return Err(ApiError::RateLimited {
                                    attempts,
                                    retry_after,
                                }
                                .into());
                            }
                            let wait =
                                crate::retry::wait_before_retry(policy, attempts - 1, retry_after);
                            tracing::info!(
                                path = path.as_str(),
                                wait_ms = wait.as_millis() as u64,
                                "rate-limited (429); pausing"
                            );
                            self.pause_for(wait);
                        }
                        s if s.is_server_error() => {
                            if kind == RequestKind::Change {
                                return Err(SendError::Ambiguous(format!(
                                    "HTTP {}: {}",
                                    s.as_u16(),
                                    message()
                                )));
                            }
                            if !retries_left {
                                return Err(ApiError::Server {
                                    status: s.as_u16(),
                                    attempts,
                                    message: message(),
                                }
                                .into());
                            }
                            (self.inner.sleeper)(crate::retry::wait_before_retry(
                                policy,
                                attempts - 1,
                                retry_after,
                            ))
                            .await;
                        }
                        s => {
                            let message = message();
                            return self
                                .finish(kind, s, json, answer, message, path)
                                .map(|v| (v, stats));
                        }
                    }
                }
            }
        }
    }

    /// Turns a final (non-retried) answer into its JSON text or an error.
    fn finish(
        &self,
        kind: RequestKind,
        status: StatusCode,
        json: Option<Value>,
        body: Vec<u8>,
        message: String,
        path: &ApiPath,
    ) -> Result<Vec<u8>, SendError> {
        if !status.is_success() {
            let errors = json.as_ref().map(error_list).unwrap_or_default();
            if !errors.is_empty() {
                return Err(ApiError::Rejected {
                    status: status.as_u16(),
                    errors: FieldErrors(errors),
                }
                .into());
            }
            return Err(ApiError::Http {
                status: status.as_u16(),
                message,
            }
            .into());
        }
        match scan_errors(&body) {
            Some(errors) if errors.is_empty() => Ok(body),
            Some(errors) => Err(ApiError::Rejected {
                status: status.as_u16(),
                errors: FieldErrors(errors),
            }
            .into()),
            // Accepted, but the answer is unreadable: for a change that is as good as lost.
            None if kind == RequestKind::Change => Err(SendError::Ambiguous(format!(
                "HTTP {} with an answer that is not JSON",
                status.as_u16()
            ))),
            None => Err(ApiError::Decode {
                endpoint: path.path_only().to_owned(),
                message: format!(
                    "HTTP {} with an answer that is not JSON: {message}",
                    status.as_u16()
                ),
            }
            .into()),
        }
    }

    async fn exchange(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        token: &BearerToken,
        time_zone: Option<TimeZoneOffset>,
    ) -> Exchange {
        let mut headers = self.inner.base_headers.clone();
        if let Some(zone) = time_zone
            && let Ok(value) = HeaderValue::from_str(&zone.to_string())
        {
            headers.insert("x-time-zone", value);
        }
        match HeaderValue::from_str(&format!("Bearer {}", token.expose_secret())) {
            Ok(mut value) => {
                value.set_sensitive(true);
                headers.insert(reqwest::header::AUTHORIZATION, value);
            }
            Err(_) => {
                return Exchange::Failed {
                    message: "the token cannot be sent in a header".into(),
                    sent: false,
                };
            }
        }
        let mut request = self.inner.http.request(method, url).headers(headers);
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                return Exchange::Failed {
                    message: describe(&e),
                    sent: !e.is_connect(),
                };
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                crate::retry::retry_after(
                    v,
                    SystemTime::now(),
                    self.inner.config.retry.max_retry_after,
                )
            });
        let limit = self.inner.config.max_response_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return too_large(status, limit);
        }
        // Read piece by piece, so that an answer without a length stops at the limit too.
        let mut response = response;
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > limit {
                        return too_large(status, limit);
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => {
                    return Exchange::Answer {
                        status,
                        retry_after,
                        body,
                    };
                }
                Err(e) => {
                    return Exchange::Failed {
                        message: format!(
                            "the answer (HTTP {}) broke off: {}",
                            status.as_u16(),
                            describe(&e)
                        ),
                        sent: true,
                    };
                }
            }
        }
    }

    /// Tells every request of this client to wait `wait` before sending.
    fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self
            .inner
            .paused_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    async fn wait_for_pause(&self) {
        let until = *self
            .inner
            .paused_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(until) = until {
            let now = Instant::now();
            if until > now {
                (self.inner.sleeper)(until - now).await;
            }
        }
    }

    /// Removes the secrets from text that came from outside (server answers, transport errors).
    fn scrub(&self, text: &str, token: &BearerToken) -> String {
        let mut text = text.replace(token.expose_secret(), "[REDACTED]");
        let key = self.inner.config.subscription_key.expose_secret();
        if !key.is_empty() {
            text = text.replace(key, "[REDACTED]");
        }
        if text.len() > MAX_MESSAGE_LEN {
            let mut cut = MAX_MESSAGE_LEN;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        text
    }
}

/// A transport error in words, with its causes (reqwest's own text is terse).
fn describe(error: &reqwest::Error) -> String {
    let text = crate::error::with_causes(error);
    if error.is_timeout() {
        // Its own words are reqwest's terse ones; its causes stay.
        let causes = text.strip_prefix(&error.to_string()).unwrap_or_default();
        return format!("timed out{causes}");
    }
    text
}

/// The `errorList` entries of a JSON answer, found without building the whole answer;
/// `None` when the answer is not JSON.
fn scan_errors(body: &[u8]) -> Option<Vec<FieldError>> {
    #[derive(serde::Deserialize)]
    struct Scan<'a> {
        #[serde(borrow, default)]
        common: Option<&'a RawValue>,
        #[serde(borrow, default, rename = "errorList")]
        error_list: Option<&'a RawValue>,
    }
    match serde_json::from_slice::<Scan<'_>>(body) {
        Ok(scan) => {
            let mut small = serde_json::Map::new();
            for (key, raw) in [("common", scan.common), ("errorList", scan.error_list)] {
                if let Some(value) = raw.and_then(|r| serde_json::from_str::<Value>(r.get()).ok()) {
                    small.insert(key.to_owned(), value);
                }
            }
            Some(error_list(&Value::Object(small)))
        }
        // Valid JSON that is not an object (or has odd `common`) carries no error list.
        Err(_) => serde_json::from_slice::<serde::de::IgnoredAny>(body)
            .ok()
            .map(|_| Vec::new()),
    }
}

fn message_of(json: Option<&Value>, raw: &[u8]) -> String {
    json.and_then(answer_message)
        .unwrap_or_else(|| String::from_utf8_lossy(raw).trim().to_owned())
}

/// The receipt of an accepted change; an odd answer is kept whole rather than failing.
fn receipt(answer: &[u8]) -> ChangeReceipt {
    match serde_json::from_slice::<ChangeReceipt>(answer) {
        Ok(receipt) => receipt,
        Err(_) => {
            let mut receipt = ChangeReceipt::default();
            let kept = serde_json::from_slice::<Value>(answer).unwrap_or(Value::Null);
            receipt.extra.insert("answer".to_owned(), kept);
            receipt
        }
    }
}

fn to_body(request: &impl serde::Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(request).map_err(|e| ApiError::Decode {
        endpoint: "request".into(),
        message: e.to_string(),
    })
}

fn decode<T: serde::de::DeserializeOwned>(endpoint: &str, answer: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(answer).map_err(|e| ApiError::Decode {
        endpoint: endpoint.to_owned(),
        message: e.to_string(),
    })
}

#[cfg(test)]
#[path = "client/wire_tests.rs"]
mod wire_tests;
