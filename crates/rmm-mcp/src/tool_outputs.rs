//! The shapes the old tool's reads answer in, so that prompts and scripts written for it keep
//! working: `list_devices` → `{success, summary: {total_devices, devices_needing_update,
//! group_id}, devices: [{device_id, model_name, serial_number, ip_address, current_firmware,
//! latest_firmware, needs_update, ota_mode, …}]}` and `list_staged_firmware` →
//! `{success, firmware_files: [{file_id, title, filename, size_bytes, uploaded_at, …}]}`.
//! The old keys come first and always; our extra fields follow them, and are left out when
//! they hold nothing (to keep what an agent pays per device small).

use rmm_core::{DeviceListing, DeviceView, FirmwareFileView, FirmwareListing, ReservationTimes};
use schemars::JsonSchema;
use serde::Serialize;

/// A page (or the whole) of the fleet.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DevicesOutput {
    /// Always true in a result (errors come back as tool errors), as the old tool wrote it.
    pub success: bool,
    pub summary: DevicesSummary,
    pub devices: Vec<DeviceOutput>,
}

/// The counts of a device listing.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DevicesSummary {
    /// Devices matching the filters in the group (all pages).
    pub total_devices: u64,
    /// Of the returned devices, how many have newer firmware on offer.
    pub devices_needing_update: u64,
    pub group_id: String,
    /// The first returned device's place in the listing, from 0.
    pub start_index: u64,
    /// Devices in this answer.
    pub returned: u64,
}

/// One printer and its firmware state.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeviceOutput {
    /// `mn=<base64>:sn=<base64>`: what change tools take.
    pub device_id: String,
    /// Why the id is not of the documented form, when it is not (it is still what the change
    /// tools take, exactly as written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub odd_id: Option<String>,
    pub model_name: String,
    pub serial_number: String,
    pub ip_address: String,
    pub current_firmware: String,
    /// The newest firmware on offer (the current one when up to date).
    pub latest_firmware: String,
    pub needs_update: bool,
    /// auto, confirmation or off.
    pub ota_mode: String,
    /// The device's name, when it has one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// reserved, downloading, downloaded, updating, completed or failed; absent: none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_status: Option<String>,
    /// The update window `start-end` (hours; -1 = any time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ota_window: Option<String>,
    /// `pending` while the last OTA setting has not reached the device, `unknown` when the
    /// cloud does not say; absent: applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ota_setting: Option<String>,
    /// `offline` when the device is not connected, `unknown` when the cloud does not say;
    /// absent: online.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// The firmware file reserved for this device, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_file_id: Option<String>,
    /// When the reserved file is sent and the update runs, if a reservation is held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation: Option<ReservationTimes>,
}

impl From<DeviceView> for DeviceOutput {
    fn from(d: DeviceView) -> Self {
        Self {
            latest_firmware: d.latest.unwrap_or_else(|| d.firmware.clone()),
            device_id: d.device_id,
            odd_id: d.odd_id,
            model_name: d.model,
            serial_number: d.serial,
            ip_address: d.ip,
            current_firmware: d.firmware,
            needs_update: d.needs_update,
            ota_mode: d.ota_mode,
            name: d.name,
            update_status: (d.update_status != "none").then_some(d.update_status),
            ota_window: d.ota_window,
            ota_setting: (d.ota_setting != "applied").then_some(d.ota_setting),
            connection: (d.connection != "online").then_some(d.connection),
            reserved_file_id: d.reserved_file_id,
            reservation: d.reservation,
        }
    }
}

/// One printer, and every field the cloud sent for it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeviceDetailOutput {
    #[serde(flatten)]
    pub device: DeviceOutput,
    /// The device as the cloud sent it, under the cloud's names, including fields this tool
    /// does not know.
    pub cloud_fields: serde_json::Map<String, serde_json::Value>,
}

impl From<DeviceListing> for DevicesOutput {
    fn from(l: DeviceListing) -> Self {
        Self {
            success: true,
            summary: DevicesSummary {
                total_devices: l.total_devices,
                devices_needing_update: l.needing_update,
                group_id: l.group_id,
                start_index: l.start_index,
                returned: l.returned,
            },
            devices: l.devices.into_iter().map(DeviceOutput::from).collect(),
        }
    }
}

/// The staged firmware files.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FirmwareOutput {
    /// Always true in a result (errors come back as tool errors), as the old tool wrote it.
    pub success: bool,
    pub firmware_files: Vec<FirmwareFileOutput>,
    pub group_id: String,
    /// Files staged in the group (all pages).
    pub total_files: u64,
}

/// A staged firmware file and the models it fits.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FirmwareFileOutput {
    /// What schedule_firmware_update takes as firmware_file_id.
    pub file_id: String,
    pub title: String,
    pub filename: String,
    /// The file's size; null when the cloud does not say.
    pub size_bytes: Option<u64>,
    /// When the file was staged, as the cloud writes it (empty when it does not say).
    pub uploaded_at: String,
    /// Models named by the title or file name (empty when neither tells).
    pub fits_models: Vec<String>,
}

impl From<FirmwareListing> for FirmwareOutput {
    fn from(l: FirmwareListing) -> Self {
        Self {
            success: true,
            firmware_files: l
                .files
                .into_iter()
                .map(|f: FirmwareFileView| FirmwareFileOutput {
                    file_id: f.file_id,
                    title: f.title,
                    filename: f.file_name,
                    size_bytes: f.size_bytes,
                    uploaded_at: f.uploaded_at,
                    fits_models: f.fits_models,
                })
                .collect(),
            group_id: l.group_id,
            total_files: l.total_files,
        }
    }
}
