//! The fleet commands of the app: load the fleet (with progress events), read devices again,
//! list firmware, preview and apply changes, read the audit log. Each translates to one
//! `rmm-core` operation and its answer; no rule lives here.

use rmm_core::{
    AuditEntry, AuditQuery, Caller, ChangePreview, ChangeRequest, ChangeResult, DeviceView,
    FirmwareListing, FleetOperations, FleetSnapshot, ProfileConnection, TenantView,
};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, State};
use tauri_specta::Event as _;

use crate::active_profile::ActiveProfile;
use crate::command_error::{CommandError, ErrorCode};

/// The profile's connection to the fleet, or why there is none.
pub struct FleetConnection {
    connection: Result<ProfileConnection, CommandError>,
}

impl FleetConnection {
    pub fn new(connection: Result<ProfileConnection, CommandError>) -> Self {
        Self { connection }
    }

    pub fn connection(&self) -> Result<&ProfileConnection, CommandError> {
        self.connection.as_ref().map_err(Clone::clone)
    }

    pub fn operations(&self) -> Result<&FleetOperations, CommandError> {
        self.connection().map(|c| &c.operations)
    }
}

/// How far `load_fleet` has got (one event per page).
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct FleetProgress {
    pub pages_done: u32,
    pub pages_total: u32,
    pub devices_done: u32,
    pub total_count: u32,
}

impl From<&rmm_api::FleetProgress> for FleetProgress {
    fn from(p: &rmm_api::FleetProgress) -> Self {
        let n = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        Self {
            pages_done: n(p.pages_done as u64),
            pages_total: n(p.pages_total as u64),
            devices_done: n(p.devices_done as u64),
            total_count: n(p.total_count),
        }
    }
}

/// Every device of the group (the token's tenant when `group_id` is null) and the summary of
/// the same fetch; a `FleetProgress` event per page.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn load_fleet(
    app: AppHandle,
    active: State<'_, ActiveProfile>,
    group_id: Option<String>,
) -> Result<FleetSnapshot, CommandError> {
    let ops = active.fleet().operations()?.clone();
    let mut progress = |p: &rmm_api::FleetProgress| {
        if let Err(error) = FleetProgress::from(p).emit(&app) {
            tracing::debug!(%error, "fleet progress not delivered");
        }
    };
    Ok(ops
        .fleet_snapshot(group_id.as_deref(), &mut progress)
        .await?)
}

/// These devices read again; ids no longer found are left out.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn refresh_devices(
    active: State<'_, ActiveProfile>,
    device_ids: Vec<String>,
    group_id: Option<String>,
) -> Result<Vec<DeviceView>, CommandError> {
    let ops = active.fleet().operations()?.clone();
    Ok(ops.devices_by_ids(&device_ids, group_id.as_deref()).await?)
}

/// The tenants the signed-in user may manage: what the header and dialogs name a tenant by.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn tenants(active: State<'_, ActiveProfile>) -> Result<Vec<TenantView>, CommandError> {
    let ops = active.fleet().operations()?.clone();
    Ok(ops.tenants().await?)
}

/// The staged firmware files (up to the cloud's page of 100) and the models each fits.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn firmware_files(
    active: State<'_, ActiveProfile>,
    group_id: Option<String>,
) -> Result<FirmwareListing, CommandError> {
    let ops = active.fleet().operations()?.clone();
    Ok(ops.firmware_files(group_id.as_deref(), 0, 100).await?)
}

/// Validates and previews a change; nothing is changed.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn preview_change(
    active: State<'_, ActiveProfile>,
    request: ChangeRequest,
) -> Result<ChangePreview, CommandError> {
    let ops = active.fleet().operations()?.clone();
    let change = ops
        .check(&request)
        .map_err(rmm_core::OperationError::from)?;
    Ok(ops.preview(&change).await?)
}

/// Carries out a change whose preview (`digest`) the person confirmed, recorded as theirs.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn apply_change(
    active: State<'_, ActiveProfile>,
    request: ChangeRequest,
    digest: String,
) -> Result<ChangeResult, CommandError> {
    let ops = active.fleet().operations()?.clone();
    let caller = Caller::Person {
        name: active.session().person_name(),
    };
    let change = ops
        .check(&request)
        .map_err(rmm_core::OperationError::from)?;
    Ok(ops.apply(&change, &digest, &caller).await?)
}

/// Audit log entries, newest first.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn audit_entries(
    active: State<'_, ActiveProfile>,
    query: AuditQuery,
) -> Result<Vec<AuditEntry>, CommandError> {
    let ops = active.fleet().operations()?.clone();
    tokio::task::spawn_blocking(move || ops.audit_entries(&query))
        .await
        .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))?
        .map_err(CommandError::from)
}
