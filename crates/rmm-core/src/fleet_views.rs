//! The compact shapes every face shows: `DeviceView`, `FirmwareFileView`, `TenantView`. They
//! carry what a person or an agent acts on, with short names, and nothing raw twice.

use rmm_api::{Device, FirmwareFile, Reservation, Tenant};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::change_requests::local_time_to_unix_ms;
use crate::firmware_fit::models_of_file;

/// One printer and its firmware state.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceView {
    /// `mn=<base64>:sn=<base64>`: what change tools take.
    pub device_id: String,
    /// Why the cloud's id is not of the documented form, when it is not: the device is kept,
    /// and its id carried exactly as it came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odd_id: Option<String>,
    pub model: String,
    pub serial: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ip: String,
    pub firmware: String,
    /// The newer firmware on offer; absent when up to date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
    pub needs_update: bool,
    /// none, reserved, downloading, downloaded, updating, completed, failed.
    pub update_status: String,
    /// auto, confirmation or off.
    pub ota_mode: String,
    /// The update window `start-end` (hours; -1 = any time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ota_window: Option<String>,
    /// Whether the last OTA setting reached the device: applied, pending, or unknown when the
    /// cloud did not say.
    pub ota_setting: String,
    /// online, offline, or unknown when the cloud did not say.
    pub connection: String,
    /// The firmware file reserved for this device, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_file_id: Option<String>,
    /// When the reserved file is sent and the update runs, if a reservation is held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<ReservationTimes>,
}

/// The times of a reservation, both as the cloud holds them and as instants, so that every
/// face can show them in its user's own time zone.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReservationTimes {
    /// When the file is sent, Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_ms: Option<i64>,
    /// When the update runs, Unix milliseconds (from `execute_local` in `time_zone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execute_ms: Option<i64>,
    /// When the update runs, `YYYYMMDDHHMM` local to `time_zone`, as the cloud holds it.
    pub execute_local: String,
    /// The reservation's time zone, `UTC±hh:mm`.
    pub time_zone: String,
}

impl From<&Reservation> for ReservationTimes {
    fn from(r: &Reservation) -> Self {
        Self {
            transfer_ms: r.file_transfer_timestamp,
            execute_ms: local_time_to_unix_ms(
                &r.execute_update_date_time,
                &r.file_transfer_time_zone,
            ),
            execute_local: r.execute_update_date_time.clone(),
            time_zone: r.file_transfer_time_zone.clone(),
        }
    }
}

impl From<&Device> for DeviceView {
    fn from(d: &Device) -> Self {
        let window = match (d.ota_start_hour, d.ota_end_hour) {
            (Some(s), Some(e)) => Some(format!("{s}-{e}")),
            _ => None,
        };
        Self {
            device_id: d.device_id.to_string(),
            odd_id: d.device_id.oddity().map(ToString::to_string),
            model: d.model_name.clone(),
            serial: d.serial_number.clone(),
            name: d.friendly_name.clone(),
            ip: d.ip_address.clone(),
            firmware: d.firmware_version.clone(),
            latest: d.needs_update().then(|| d.latest_firmware_version.clone()),
            needs_update: d.needs_update(),
            update_status: d.update_status.to_string(),
            ota_mode: d.ota_mode.to_string(),
            ota_window: window,
            ota_setting: known_or_unknown(d.ota_setting_status.as_str()),
            // A cloud that does not say (the field is the simulator's own) is "unknown", not
            // "" and not a guess.
            connection: known_or_unknown(d.connection_status.as_str()),
            reserved_file_id: d.reservation.as_ref().map(|r| r.file_id.clone()),
            reservation: d.reservation.as_ref().map(ReservationTimes::from),
        }
    }
}

/// A field's text, or "unknown" when the cloud did not send it.
fn known_or_unknown(text: &str) -> String {
    match text {
        "" => "unknown".to_owned(),
        other => other.to_owned(),
    }
}

/// A staged firmware file and the models it fits.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FirmwareFileView {
    pub file_id: String,
    pub title: String,
    pub file_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uploaded_at: String,
    /// Models named by the title or file name (empty when neither tells).
    pub fits_models: Vec<String>,
}

impl From<&FirmwareFile> for FirmwareFileView {
    fn from(f: &FirmwareFile) -> Self {
        Self {
            file_id: f.file_id.clone(),
            title: f.file_title.clone(),
            file_name: f.file_name.clone(),
            size_bytes: f.file_size,
            uploaded_at: f.upload_date.clone(),
            fits_models: models_of_file(&f.file_title, &f.file_name),
        }
    }
}

/// A tenant (group) the user may manage.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TenantView {
    pub group_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_group_id: Option<String>,
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        Self {
            group_id: t.tenant_id.clone(),
            name: t.tenant_name.clone(),
            parent_group_id: t.parent_tenant_id.clone(),
        }
    }
}
