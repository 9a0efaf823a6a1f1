//! `FleetOperations`: everything a user or an agent can do with the fleet, in one place — the
//! reads (devices, one device, summary, tenants, firmware files) and the changes (schedule,
//! cancel, OTA) with their four steps: validate, preview, confirm, record. The CLI, the MCP
//! endpoint and the desktop app call these and carry no rule of their own.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::{StreamExt as _, stream};
use rmm_api::{
    ApiClient, ChangeOutcome, Device, DeviceId, DeviceListRequest, FirmwareListRequest,
    FleetProgress, Method, OtaSettings, ReservationRemoval, SimpleFilter, TokenSource,
    UpdateReservation,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::{AuditEntry, AuditLog, AuditQuery, NewAuditEntry};
use crate::caller::{Caller, TokenFacts};
use crate::change_preview::ChangePreview;
use crate::change_requests::{ChangeKind, ChangeRequest};
use crate::checked_change::{ChangeDetails, CheckedChange};
use crate::device_query::DeviceQuery;
use crate::fleet_summary::FleetSummary;
use crate::fleet_views::{DeviceView, FirmwareFileView, TenantView};
use crate::operation_error::{OperationError, SIGN_IN_INSTRUCTION};
use crate::problems::{Hint, Problems};

/// Choices the user made in settings that change what operations allow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OperationSettings {
    /// `make_api_request` may send writes (otherwise reads only).
    pub allow_api_writes: bool,
    /// `extract_auth_token` / `auth_status` may return the token itself.
    pub reveal_token: bool,
}

/// Who is signed in, for `auth_status`; never fails.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AuthStatus {
    pub signed_in: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The default group id (`sspTenantId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_left: Option<u64>,
    /// What to do when not signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction: Option<String>,
    /// The token itself: only when the user turned that on in settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// A page (or the whole) of a device listing.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceListing {
    pub group_id: String,
    /// Devices matching the filters in the group.
    pub total_devices: u64,
    pub start_index: u64,
    pub returned: u64,
    /// Of the returned devices, how many have newer firmware on offer.
    pub needing_update: u64,
    pub devices: Vec<DeviceView>,
}

/// A page of staged firmware files.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FirmwareListing {
    pub group_id: String,
    pub total_files: u64,
    pub files: Vec<FirmwareFileView>,
}

/// A group's devices and their summary, from one fetch.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FleetSnapshot {
    pub listing: DeviceListing,
    pub summary: FleetSummary,
}

/// How a sent change ended, as far as we know.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOutcomeKind {
    /// The cloud said yes.
    Confirmed,
    /// The answer was lost; the read-back shows the change on every device.
    Applied,
    /// The answer was lost; the read-back shows it on none.
    NotApplied,
    /// The answer was lost; the read-back shows it on some.
    Partial,
    /// The answer was lost and the read-back could not tell.
    Unknown,
}

impl ChangeOutcomeKind {
    pub fn of(outcome: &ChangeOutcome) -> Self {
        match outcome {
            ChangeOutcome::Confirmed(_) => Self::Confirmed,
            ChangeOutcome::Applied(_) => Self::Applied,
            ChangeOutcome::NotApplied(_) => Self::NotApplied,
            ChangeOutcome::Partial(_) => Self::Partial,
            ChangeOutcome::Unknown(_) => Self::Unknown,
        }
    }

    /// The name as it is serialized (`not_applied`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Applied => "applied",
            Self::NotApplied => "not_applied",
            Self::Partial => "partial",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ChangeOutcomeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a confirmed change did.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChangeResult {
    pub action: ChangeKind,
    pub group_id: String,
    /// The audit log entry written for it.
    pub audit_id: i64,
    /// confirmed (the cloud said yes), or, when the answer was lost and the devices were read
    /// back (nothing was sent twice): applied, not_applied, partial or unknown.
    pub outcome: ChangeOutcomeKind,
    /// true: done everywhere; false: not done; absent: unclear (see `detail`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub took_effect: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected_count: Option<u64>,
    pub devices: u64,
    /// The read-back after a lost answer, device by device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
}

/// Gives "now" in Unix milliseconds (replaceable so tests can follow a simulated clock).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The computer's clock, the one every face uses unless a test gives another.
pub fn system_clock() -> Clock {
    Arc::new(system_now_ms)
}

/// "Now" by the computer's clock, Unix milliseconds.
pub fn system_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Up to this many devices are looked up one by one; more read the whole group.
const MAX_DEVICES_LOOKED_UP_ONE_BY_ONE: usize = 20;

/// Pages of firmware files looked through for one file id, at most (100 files a page).
const MAX_FIRMWARE_PAGES: usize = 100;

/// The operations. Cheap to clone; clones share the client and the audit log.
#[derive(Clone)]
pub struct FleetOperations {
    client: ApiClient,
    tokens: Arc<dyn TokenSource>,
    audit: Arc<AuditLog>,
    settings: OperationSettings,
    clock: Clock,
    /// Tenant names by group id, read once (`/api/v1/tenants`) for previews.
    group_names: Arc<std::sync::Mutex<Option<HashMap<String, String>>>>,
    /// The last whole-group read, when previews may answer from it (`with_group_reads_kept`).
    kept_read: Option<Arc<KeptGroupRead>>,
}

/// A whole-group read kept for a while.
#[derive(Debug)]
struct KeptGroupRead {
    kept_ms: i64,
    last: std::sync::Mutex<Option<GroupRead>>,
}

/// One whole-group read: the group, when (Unix ms), and its devices by id.
#[derive(Debug)]
struct GroupRead {
    group: String,
    at_ms: i64,
    devices: Arc<HashMap<DeviceId, Device>>,
}

impl std::fmt::Debug for FleetOperations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetOperations")
            .field("client", &self.client)
            .field("audit", &self.audit.path())
            .finish_non_exhaustive()
    }
}

impl FleetOperations {
    /// `tokens` must be the same source the client was built with: it tells who is signed in.
    pub fn new(
        client: ApiClient,
        tokens: Arc<dyn TokenSource>,
        audit: Arc<AuditLog>,
        settings: OperationSettings,
    ) -> Self {
        Self {
            client,
            tokens,
            audit,
            settings,
            clock: Arc::new(system_now_ms),
            group_names: Arc::default(),
            kept_read: None,
        }
    }

    /// The same operations, whose previews answer from the last whole-group read
    /// (`group_devices`) while it is at most `kept_ms` old instead of reading the cloud again.
    /// For the rollout engine, which reads the group once a cycle and then previews batch
    /// after batch of it; a person's or an agent's preview always reads the cloud.
    pub fn with_group_reads_kept(mut self, kept_ms: i64) -> Self {
        self.kept_read = Some(Arc::new(KeptGroupRead {
            kept_ms,
            last: std::sync::Mutex::new(None),
        }));
        self
    }

    /// The kept read of `group`, when there is one young enough.
    fn kept_group_read(&self, group: &str) -> Option<Arc<HashMap<DeviceId, Device>>> {
        let kept = self.kept_read.as_ref()?;
        let last = kept.last.lock().ok()?;
        let read = last.as_ref()?;
        (read.group == group && self.now_ms() - read.at_ms <= kept.kept_ms)
            .then(|| read.devices.clone())
    }

    /// Uses `clock` for "now" (the transfer-in-the-future rule, audit times).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn settings(&self) -> OperationSettings {
        self.settings
    }

    /// The same operations under other `settings` (a read-only MCP session turns API writes off).
    pub fn with_settings(mut self, settings: OperationSettings) -> Self {
        self.settings = settings;
        self
    }

    pub fn audit_log(&self) -> &AuditLog {
        &self.audit
    }

    /// The zone of a schedule that names none, `UTC+05:30`: the profile's time zone, which is
    /// also the `x-time-zone` every request carries.
    pub fn schedule_time_zone(&self) -> String {
        format!("UTC{}", self.client.config().time_zone)
    }

    pub fn api_base(&self) -> String {
        self.client.config().base_url.to_string()
    }

    /// This instance's clock (a rollout engine over these operations keeps the same time).
    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// "Now" by this instance's clock, Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        (self.clock)()
    }

    /// Step 1: parses `request` into a checked change at this clock's now, or gives every
    /// rule it breaks. Nothing is read or sent.
    pub fn check(&self, request: &ChangeRequest) -> Result<CheckedChange, Problems> {
        request.check(self.now_ms())
    }

    /// As `check`, after the face found `unreadable` fields (see `ChangeRequest::check_beside`).
    pub fn check_beside(
        &self,
        request: &ChangeRequest,
        unreadable: Problems,
    ) -> Result<CheckedChange, Problems> {
        request.check_beside(self.now_ms(), unreadable)
    }

    /// Who is signed in, or why nobody is. Asks the token source once; never hangs on a login
    /// window (the source decides; the faces give it one that does not open windows).
    pub async fn auth_status(&self) -> AuthStatus {
        let not_signed_in = |why: String| AuthStatus {
            signed_in: false,
            email: None,
            subject: None,
            tenant_id: None,
            expires_at: None,
            seconds_left: None,
            instruction: Some(format!("{SIGN_IN_INSTRUCTION} ({why})")),
            token: None,
        };
        let token = match self.tokens.token().await {
            Ok(token) => token,
            Err(e) => return not_signed_in(e.message().to_owned()),
        };
        let Some(facts) = TokenFacts::from_token(&token) else {
            return not_signed_in("the stored token is not a readable JWT".into());
        };
        let now = SystemTime::now();
        if facts.is_expired(now) {
            return not_signed_in("the token has expired".into());
        }
        AuthStatus {
            signed_in: true,
            seconds_left: facts.seconds_left(now),
            email: facts.email,
            subject: facts.subject,
            tenant_id: facts.tenant_id,
            expires_at: facts.expires_at,
            instruction: None,
            token: self
                .settings
                .reveal_token
                .then(|| token.expose_secret().to_owned()),
        }
    }

    /// The signed-in user's token facts, or the sign-in instruction at once.
    pub async fn signed_in(&self) -> Result<TokenFacts, OperationError> {
        let token = self
            .tokens
            .token()
            .await
            .map_err(|e| OperationError::SignInNeeded(e.message().to_owned()))?;
        let facts = TokenFacts::from_token(&token).ok_or_else(|| {
            OperationError::SignInNeeded("the stored token is not a readable JWT".into())
        })?;
        if facts.is_expired(SystemTime::now()) {
            return Err(OperationError::SignInNeeded("the token has expired".into()));
        }
        Ok(facts)
    }

    /// The tenant name of `group`, for people (previews and approvals name the tenant, not only
    /// its id). Read once per connection, answered or not; a cloud that does not answer leaves
    /// it unnamed and never stops a change.
    async fn group_name(&self, group: &str) -> Option<String> {
        let known = self
            .group_names
            .lock()
            .ok()
            .and_then(|names| names.as_ref().map(|n| n.get(group).cloned()));
        if let Some(name) = known {
            return name;
        }
        let names: HashMap<String, String> = match self.client.tenants().await {
            Ok(list) => list
                .tenants
                .iter()
                .map(TenantView::from)
                .filter(|t| !t.name.trim().is_empty())
                .map(|t| (t.group_id, t.name))
                .collect(),
            Err(error) => {
                // Kept as "no names": a cloud that refuses the listing is not asked again on
                // every preview (the rollout engine previews each batch).
                tracing::debug!(%error, "tenant names not read; previews show the group id");
                HashMap::new()
            }
        };
        let name = names.get(group).cloned();
        if let Ok(mut slot) = self.group_names.lock() {
            *slot = Some(names);
        }
        name
    }

    /// The signed-in account (the token's email, else its subject), for the audit log.
    async fn signed_in_account(&self) -> Option<String> {
        let facts = self.signed_in().await.ok()?;
        facts.email.or(facts.subject)
    }

    /// The group: the argument, else the token's `sspTenantId`; never a built-in default.
    pub fn resolve_group(group_id: Option<&str>, facts: &TokenFacts) -> Result<String, Problems> {
        match group_id.map(str::trim) {
            Some(g) if !g.is_empty() => Ok(g.to_owned()),
            _ => facts.tenant_id.clone().ok_or_else(|| {
                let mut p = Problems::new();
                p.push("group_id", "is needed: your token names no tenant (sspTenantId); pass group_id (see list_tenants)");
                p
            }),
        }
    }

    async fn group(&self, group_id: Option<&str>) -> Result<String, OperationError> {
        let facts = self.signed_in().await?;
        Ok(Self::resolve_group(group_id, &facts)?)
    }

    /// One page of devices.
    pub async fn devices(&self, query: &DeviceQuery) -> Result<DeviceListing, OperationError> {
        query.validate(false).into_result()?;
        let group = self.group(query.group_id.as_deref()).await?;
        let page = self
            .client
            .device_page(&query.to_request(&group, false))
            .await?;
        let devices: Vec<DeviceView> = page.devices.iter().map(DeviceView::from).collect();
        Ok(listing(
            group,
            page.total_count.unwrap_or(devices.len() as u64),
            u64::try_from(query.start_index).unwrap_or(0),
            devices,
        ))
    }

    /// Every device matching the query's filters; `progress` after each page.
    pub async fn all_devices(
        &self,
        query: &DeviceQuery,
        progress: &mut (dyn FnMut(&FleetProgress) + Send),
    ) -> Result<DeviceListing, OperationError> {
        query.validate(true).into_result()?;
        let group = self.group(query.group_id.as_deref()).await?;
        let fleet = self
            .client
            .fetch_all_devices(&query.to_request(&group, true), |p| progress(p))
            .await?;
        let devices: Vec<DeviceView> = fleet.devices.iter().map(DeviceView::from).collect();
        // A cloud that ignored a filter counted devices that do not match: count what does.
        let total = if fleet.filtered_out > 0 {
            devices.len() as u64 + fleet.missing
        } else {
            fleet.total_count
        };
        Ok(listing(group, total, 0, devices))
    }

    /// The whole fleet of a group in one fetch: every device and the summary of the same
    /// devices (what the app's grid and charts show together); `progress` after each page.
    pub async fn fleet_snapshot(
        &self,
        group_id: Option<&str>,
        progress: &mut (dyn FnMut(&FleetProgress) + Send),
    ) -> Result<FleetSnapshot, OperationError> {
        let group = self.group(group_id).await?;
        let fleet = self
            .client
            .fetch_all_devices(&DeviceListRequest::new(&group), |p| progress(p))
            .await?;
        let summary = FleetSummary::of(&group, &fleet.devices);
        let devices: Vec<DeviceView> = fleet.devices.iter().map(DeviceView::from).collect();
        Ok(FleetSnapshot {
            listing: listing(group, fleet.total_count, 0, devices),
            summary,
        })
    }

    /// Every device of a group as the cloud sends it (the rollout planner and engine read
    /// fields the views leave out, such as `location`), with the group it resolved to.
    pub async fn group_devices(
        &self,
        group_id: Option<&str>,
    ) -> Result<(String, Vec<Device>), OperationError> {
        let group = self.group(group_id).await?;
        let fleet = self
            .client
            .fetch_all_devices(&DeviceListRequest::new(&group), |_| {})
            .await?;
        if let Some(kept) = &self.kept_read
            && let Ok(mut last) = kept.last.lock()
        {
            let by_id = fleet
                .devices
                .iter()
                .map(|d| (d.device_id.clone(), d.clone()))
                .collect();
            *last = Some(GroupRead {
                group: group.clone(),
                at_ms: self.now_ms(),
                devices: Arc::new(by_id),
            });
        }
        Ok((group, fleet.devices))
    }

    /// Every staged firmware file of a group.
    pub async fn all_firmware_files(
        &self,
        group_id: Option<&str>,
    ) -> Result<Vec<FirmwareFileView>, OperationError> {
        let group = self.group(group_id).await?;
        let mut files = Vec::new();
        let mut start = 0u32;
        loop {
            let request = FirmwareListRequest {
                start_index: start,
                count: 100,
                group_id: group.clone(),
            };
            let page = self.client.firmware_files(&request).await?;
            files.extend(page.files.iter().map(FirmwareFileView::from));
            let seen = u64::from(start) + page.files.len() as u64;
            if page.files.is_empty() || seen >= page.total_count.unwrap_or(0) {
                return Ok(files);
            }
            start = u32::try_from(seen).unwrap_or(u32::MAX);
        }
    }

    /// These devices read again (after a change, to refresh them where they are shown), in
    /// the order asked; ids not found in the group are left out.
    pub async fn devices_by_ids(
        &self,
        device_ids: &[String],
        group_id: Option<&str>,
    ) -> Result<Vec<DeviceView>, OperationError> {
        let mut problems = Problems::new();
        let mut ids = Vec::with_capacity(device_ids.len());
        for (i, text) in device_ids.iter().enumerate() {
            match text.trim().parse::<DeviceId>() {
                Ok(id) => ids.push(id),
                Err(e) => problems.push(format!("device_ids[{i}]"), e.to_string()),
            }
        }
        problems.into_result()?;
        let group = self.group(group_id).await?;
        let found = self.devices_by_id(&group, &ids).await?;
        Ok(found.iter().flatten().map(DeviceView::from).collect())
    }

    /// One device by id.
    pub async fn device(
        &self,
        device_id: &str,
        group_id: Option<&str>,
    ) -> Result<DeviceView, OperationError> {
        Ok(DeviceView::from(
            &self.device_as_sent(device_id, group_id).await?,
        ))
    }

    /// One device by id, and every field the cloud sent for it, known to this client or not,
    /// under the cloud's own names (fields without a value left out).
    pub async fn device_detail(
        &self,
        device_id: &str,
        group_id: Option<&str>,
    ) -> Result<(DeviceView, serde_json::Map<String, serde_json::Value>), OperationError> {
        let device = self.device_as_sent(device_id, group_id).await?;
        let mut fields = match serde_json::to_value(&device) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        fields.retain(|_, v| !(v.is_null() || v.as_str() == Some("")));
        Ok((DeviceView::from(&device), fields))
    }

    async fn device_as_sent(
        &self,
        device_id: &str,
        group_id: Option<&str>,
    ) -> Result<Device, OperationError> {
        let id: DeviceId = device_id
            .trim()
            .parse()
            .map_err(|e: rmm_api::DeviceIdError| {
                OperationError::invalid("device_id", e.to_string())
            })?;
        let group = self.group(group_id).await?;
        let found = self
            .devices_by_id(&group, std::slice::from_ref(&id))
            .await?;
        match found.into_iter().next().flatten() {
            Some(device) => Ok(device),
            None => {
                let mut problems = Problems::new();
                problems.push_with_hint(
                    "device_id",
                    format!("no device {id} in group {group}"),
                    Hint::ListDevices,
                );
                Err(OperationError::Invalid(problems))
            }
        }
    }

    /// The whole fleet in counts; `progress` after each page.
    pub async fn summary(
        &self,
        group_id: Option<&str>,
        progress: &mut (dyn FnMut(&FleetProgress) + Send),
    ) -> Result<FleetSummary, OperationError> {
        let group = self.group(group_id).await?;
        let fleet = self
            .client
            .fetch_all_devices(&DeviceListRequest::new(&group), |p| progress(p))
            .await?;
        Ok(FleetSummary::of(&group, &fleet.devices))
    }

    /// The tenants (groups) the user may manage.
    pub async fn tenants(&self) -> Result<Vec<TenantView>, OperationError> {
        self.signed_in().await?;
        Ok(self
            .client
            .tenants()
            .await?
            .tenants
            .iter()
            .map(TenantView::from)
            .collect())
    }

    /// One page of staged firmware files, with the models each fits.
    pub async fn firmware_files(
        &self,
        group_id: Option<&str>,
        start_index: i64,
        count: i64,
    ) -> Result<FirmwareListing, OperationError> {
        let mut problems = Problems::new();
        if start_index < 0 || start_index > i64::from(u32::MAX) {
            problems.push(
                "start_index",
                format!("must be 0 or more, got {start_index}"),
            );
        }
        if !(1..=100).contains(&count) {
            problems.push("count", format!("must be 1-100, got {count}"));
        }
        problems.into_result()?;
        let group = self.group(group_id).await?;
        let request = FirmwareListRequest {
            start_index: u32::try_from(start_index).unwrap_or(0),
            count: u32::try_from(count).unwrap_or(100),
            group_id: group.clone(),
        };
        let page = self.client.firmware_files(&request).await?;
        let files: Vec<FirmwareFileView> = page.files.iter().map(FirmwareFileView::from).collect();
        Ok(FirmwareListing {
            group_id: group,
            total_files: page.total_count.unwrap_or(files.len() as u64),
            files,
        })
    }

    /// The file with this id among the staged files of the group (the first
    /// [`MAX_FIRMWARE_PAGES`] pages: a group stages tens of files, not millions).
    async fn find_firmware_file(
        &self,
        group: &str,
        file_id: &str,
    ) -> Result<Option<FirmwareFileView>, OperationError> {
        let mut start = 0u32;
        // Bounded whatever the answers say: at most this many pages of 100 files.
        for _ in 0..MAX_FIRMWARE_PAGES {
            let request = FirmwareListRequest {
                start_index: start,
                count: 100,
                group_id: group.to_owned(),
            };
            let page = self.client.firmware_files(&request).await?;
            if let Some(file) = page.files.iter().find(|f| f.file_id == file_id) {
                return Ok(Some(FirmwareFileView::from(file)));
            }
            let seen = u64::from(start) + page.files.len() as u64;
            if page.files.is_empty() || seen >= page.total_count.unwrap_or(0) {
                return Ok(None);
            }
            start = u32::try_from(seen).unwrap_or(u32::MAX);
        }
        tracing::warn!(
            pages = MAX_FIRMWARE_PAGES,
            "stopped looking for a firmware file after the page limit"
        );
        Ok(None)
    }

    /// The devices with these ids in the group, in the same order (`None`: not in the group).
    async fn devices_by_id(
        &self,
        group: &str,
        ids: &[DeviceId],
    ) -> Result<Vec<Option<Device>>, OperationError> {
        if let Some(kept) = self.kept_group_read(group) {
            return Ok(ids.iter().map(|id| kept.get(id).cloned()).collect());
        }
        let mut found: Vec<Device> = Vec::new();
        let mut filter_ignored = ids.len() > MAX_DEVICES_LOOKED_UP_ONE_BY_ONE;
        if !filter_ignored {
            // Owned requests and client clones keep the future `Send` for every caller.
            let requests: Vec<DeviceListRequest> = ids
                .iter()
                .map(|id| {
                    DeviceListRequest::new(group)
                        .with_filter(SimpleFilter::equals("deviceId", id.as_str()))
                })
                .collect();
            let pages: Vec<_> = stream::iter(requests)
                .map(|request| {
                    let client = self.client.clone();
                    async move { client.device_page(&request).await }
                })
                .buffered(8)
                .collect()
                .await;
            for (id, page) in ids.iter().zip(pages) {
                let page = page?;
                // A cloud that ignores the filter answers with other devices: read the group instead.
                if page.devices.iter().any(|d| &d.device_id != id) {
                    filter_ignored = true;
                    break;
                }
                found.extend(page.devices);
            }
            // The filter is an optimisation, never the truth: a device it did not find may
            // still be there (a cloud that filters ids otherwise than it shows them).
            if !filter_ignored
                && ids
                    .iter()
                    .any(|id| !found.iter().any(|d| &d.device_id == id))
            {
                filter_ignored = true;
            }
        }
        if filter_ignored {
            found = self
                .client
                .fetch_all_devices(&DeviceListRequest::new(group), |_| {})
                .await?
                .devices;
        }
        Ok(ids
            .iter()
            .map(|id| found.iter().find(|d| &d.device_id == id).cloned())
            .collect())
    }

    /// Step 2: the rules only the cloud can answer (devices in the group, the file staged),
    /// then the preview. Nothing is changed.
    pub async fn preview(&self, change: &CheckedChange) -> Result<ChangePreview, OperationError> {
        let mut problems = change.late_at(self.now_ms());
        // Without a sign-in the cloud checks cannot run: report the input problems first.
        let facts = match self.signed_in().await {
            Ok(facts) => facts,
            Err(e) if problems.is_empty() => return Err(e),
            Err(_) => return Err(OperationError::Invalid(problems)),
        };
        let group = match Self::resolve_group(change.group_id(), &facts) {
            Ok(group) => Some(group),
            Err(p) => {
                problems.extend(p);
                None
            }
        };
        let Some(group) = group else {
            return Err(OperationError::Invalid(problems));
        };
        let ids = change.device_ids();
        let devices = self.devices_by_id(&group, ids).await?;
        for (i, (id, device)) in ids.iter().zip(&devices).enumerate() {
            if device.is_none() {
                problems.push_with_hint(
                    format!("device_ids[{i}]"),
                    format!("no device {id} in group {group}"),
                    Hint::ListDevices,
                );
            }
        }
        let mut file = None;
        if let ChangeDetails::Schedule(r) = change.details() {
            file = self.find_firmware_file(&group, &r.firmware_file_id).await?;
            if file.is_none() {
                problems.push_with_hint(
                    "firmware_file_id",
                    format!(
                        "no staged firmware file {} in group {group}",
                        r.firmware_file_id
                    ),
                    Hint::ListStagedFirmware,
                );
            }
        }
        // Firmware named for another model stops the change, unless allowed explicitly.
        if let (ChangeDetails::Schedule(r), Some(file)) = (change.details(), &file)
            && !r.allow_other_model
        {
            for (i, device) in devices.iter().enumerate() {
                if let Some(d) = device
                    && crate::firmware_fit::fits(&file.fits_models, &d.model_name) == Some(false)
                {
                    problems.push_with_hint(
                        format!("device_ids[{i}]"),
                        format!(
                            "is a {} but file {:?} is for {}: choose a file for its model",
                            d.model_name,
                            file.title,
                            file.fits_models.join(", ")
                        ),
                        Hint::AllowOtherModel,
                    );
                }
            }
        }
        problems.into_result()?;
        let devices: Vec<Device> = devices.into_iter().flatten().collect();
        let name = self.group_name(&group).await;
        Ok(
            ChangePreview::build(change, &group, &devices, file.as_ref())
                .with_group_name(name.as_deref()),
        )
    }

    /// Steps 3 and 4: carries out `change` only if its preview, made again now, is the one
    /// confirmed (`confirmed_digest`), then records it in the audit log with the cloud's answer.
    pub async fn apply(
        &self,
        change: &CheckedChange,
        confirmed_digest: &str,
        caller: &Caller,
    ) -> Result<ChangeResult, OperationError> {
        let preview = self.preview(change).await?;
        if preview.digest != confirmed_digest.trim() {
            return Err(OperationError::PreviewChanged(Box::new(preview)));
        }
        let group = preview.group_id.clone();
        let selection = rmm_api::DeviceSelection::only(change.device_ids().to_vec());
        let sent = match change.details() {
            ChangeDetails::Schedule(r) => {
                self.client
                    .set_update_reservation(&UpdateReservation {
                        group_id: group.clone(),
                        selection,
                        file_id: r.firmware_file_id.clone(),
                        file_transfer_timestamp: r.transfer_unix_ms(),
                        file_transfer_time_zone: crate::checked_change::zone_text(r.time_zone),
                        execute_update_date_time: r.execute_digits(),
                    })
                    .await
            }
            ChangeDetails::Cancel => {
                self.client
                    .remove_update_reservation(&ReservationRemoval {
                        group_id: group.clone(),
                        selection,
                    })
                    .await
            }
            ChangeDetails::Ota(r) => {
                self.client
                    .set_ota_mode(&OtaSettings {
                        group_id: group.clone(),
                        selection,
                        ota_mode: r.mode.clone(),
                        ota_start_hour: r.window.start.wire(),
                        ota_end_hour: r.window.end.wire(),
                    })
                    .await
            }
        };
        let (answer, succeeded) = match &sent {
            Ok(outcome) => (
                serde_json::to_value(outcome).unwrap_or(Value::Null),
                outcome.took_effect() != Some(false),
            ),
            Err(e) => (serde_json::json!({"error": e.to_string()}), false),
        };
        let request = change.to_request();
        let account = self.signed_in_account().await;
        let audit_id = self.audit.record(
            NewAuditEntry {
                caller,
                account: account.as_deref(),
                action: change.kind().tool_name(),
                group_id: &group,
                device_ids: request.device_ids(),
                request: serde_json::to_value(&request).unwrap_or(Value::Null),
                preview: serde_json::to_value(&preview).unwrap_or(Value::Null),
                answer,
                succeeded,
            },
            self.now_ms(),
        )?;
        tracing::info!(action = %change.kind(), group = %group, devices = preview.devices.len(), audit_id, succeeded, "change sent");
        let outcome = sent?;
        let (affected, detail) = match &outcome {
            ChangeOutcome::Confirmed(receipt) => (receipt.affected_count, None),
            ChangeOutcome::Applied(c)
            | ChangeOutcome::NotApplied(c)
            | ChangeOutcome::Partial(c)
            | ChangeOutcome::Unknown(c) => (None, serde_json::to_value(c).ok()),
        };
        Ok(ChangeResult {
            action: change.kind(),
            group_id: group,
            audit_id,
            outcome: ChangeOutcomeKind::of(&outcome),
            took_effect: outcome.took_effect(),
            affected_count: affected,
            devices: preview.devices.len() as u64,
            detail,
        })
    }

    /// A raw request under the API base (`make_api_request`). Reads only, unless the user
    /// allowed writes in settings; an allowed write is recorded in the audit log.
    pub async fn api_request(
        &self,
        method: &str,
        endpoint: &str,
        payload: Option<Value>,
        caller: &Caller,
    ) -> Result<Value, OperationError> {
        let mut problems = Problems::new();
        let method_upper = method.trim().to_ascii_uppercase();
        let parsed = match method_upper.as_str() {
            "GET" => Some(Method::GET),
            "POST" => Some(Method::POST),
            "PUT" => Some(Method::PUT),
            "PATCH" => Some(Method::PATCH),
            "DELETE" => Some(Method::DELETE),
            _ => {
                problems.push(
                    "method",
                    format!("must be GET, POST, PUT, PATCH or DELETE, got {method:?}"),
                );
                None
            }
        };
        let base = self.api_base();
        let path = match endpoint.trim() {
            e if e.starts_with(&format!("{base}/")) => e[base.len()..].to_owned(),
            e if e.starts_with('/') => e.to_owned(),
            e if !e.contains("://") && !e.is_empty() => format!("/{e}"),
            _ => {
                problems.push(
                    "endpoint",
                    format!("must be a path under the API base {base}, e.g. /api/v1/tenants"),
                );
                String::new()
            }
        };
        if payload.as_ref().is_some_and(|p| !p.is_object()) {
            problems.push("payload", "must be a JSON object when given");
        }
        problems.into_result()?;
        let Some(method) = parsed else {
            return Err(OperationError::invalid("method", "unknown method"));
        };
        let path_only = path.split('?').next().unwrap_or_default();
        let is_read = method == Method::GET
            || (method == Method::POST
                && [rmm_api::DEVICE_LIST_PATH, rmm_api::FIRMWARE_LIST_PATH].contains(&path_only));
        if !is_read && !self.settings.allow_api_writes {
            return Err(OperationError::invalid(
                "method",
                format!(
                    "{method} {path_only} changes the cloud, and writes through make_api_request are off in settings; use schedule_firmware_update, cancel_scheduled_update or configure_ota_mode (they preview and ask for confirmation)"
                ),
            ));
        }
        let facts = self.signed_in().await?;
        let account = facts.email.or(facts.subject);
        let result = self
            .client
            .request(method.clone(), &path, payload.clone())
            .await;
        if !is_read {
            let group = payload
                .as_ref()
                .and_then(|p| p.get("groupId"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let devices: Vec<String> = payload
                .as_ref()
                .and_then(|p| p.get("deviceIds"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            self.audit.record(
                NewAuditEntry {
                    caller,
                    account: account.as_deref(),
                    action: "api_request",
                    group_id: group,
                    device_ids: &devices,
                    request: serde_json::json!({"method": method.as_str(), "endpoint": path, "payload": payload}),
                    preview: Value::Null,
                    answer: match &result {
                        Ok(v) => v.clone(),
                        Err(e) => serde_json::json!({"error": e.to_string()}),
                    },
                    succeeded: result.is_ok(),
                },
                self.now_ms(),
            )?;
        }
        Ok(result?)
    }

    /// Audit entries, newest first.
    pub fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, OperationError> {
        Ok(self.audit.query(query)?)
    }
}

fn listing(
    group_id: String,
    total: u64,
    start_index: u64,
    devices: Vec<DeviceView>,
) -> DeviceListing {
    DeviceListing {
        group_id,
        total_devices: total,
        start_index,
        returned: devices.len() as u64,
        needing_update: devices.iter().filter(|d| d.needs_update).count() as u64,
        devices,
    }
}
