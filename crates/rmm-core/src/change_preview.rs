//! `ChangePreview`: what a change will do before it is done — which devices, their current
//! state, what changes for each, and warnings (already reserved, offline, a file that does not
//! fit the model). Its `digest` names exactly this preview: a change is carried out only with
//! a confirmation carrying the digest of the preview the user saw.

use rmm_api::{ConnectionStatus, Device, UpdateStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::change_requests::ChangeKind;
use crate::checked_change::{ChangeDetails, CheckedChange, OtaWindow, local_time_text, zone_text};
use crate::firmware_fit::fits;
use crate::fleet_views::FirmwareFileView;

/// A device's state as the preview saw it.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceState {
    pub firmware: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
    pub update_status: String,
    pub ota_mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ota_window: Option<String>,
    pub connection: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_file_id: Option<String>,
}

/// One device in a preview.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceChange {
    pub device_id: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub current: DeviceState,
    /// What will change, in words.
    pub change: String,
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// The device already has a reservation (scheduling replaces it).
    AlreadyReserved,
    /// The device is offline: the change waits until it is back.
    Offline,
    /// The file's title/name names other models.
    FileDoesNotFitModel,
    /// The file's title/name names no model: fit unknown.
    FileFitUnknown,
    /// Nothing to cancel on this device.
    NoReservation,
    /// The device already has these settings.
    NoChange,
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PreviewWarning {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    pub kind: WarningKind,
    pub message: String,
}

/// What a change will do. Confirm it by passing `digest` back.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChangePreview {
    /// The change, named as its tool, e.g. `schedule_firmware_update`.
    pub action: ChangeKind,
    pub group_id: String,
    /// The tenant's name, when the cloud gave it (not part of the digest: a name is for people).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// One line for people.
    pub summary: String,
    pub devices: Vec<DeviceChange>,
    pub warnings: Vec<PreviewWarning>,
    /// Names this exact preview (request and device states); changes when either changes.
    pub digest: String,
}

fn state_of(d: &Device) -> DeviceState {
    let view = crate::fleet_views::DeviceView::from(d);
    DeviceState {
        firmware: view.firmware,
        latest: view.latest,
        update_status: view.update_status,
        ota_mode: view.ota_mode,
        ota_window: view.ota_window,
        connection: view.connection,
        reserved_file_id: view.reserved_file_id,
    }
}

impl ChangePreview {
    /// The preview of `change` on `devices` (in the change's order) of `group_id`;
    /// `file` is the firmware file for a schedule.
    pub fn build(
        change: &CheckedChange,
        group_id: &str,
        devices: &[Device],
        file: Option<&FirmwareFileView>,
    ) -> Self {
        let mut changes = Vec::with_capacity(devices.len());
        let mut warnings = Vec::new();
        let warn = |warnings: &mut Vec<PreviewWarning>, d: &Device, kind, message: String| {
            warnings.push(PreviewWarning {
                device_id: Some(d.device_id.to_string()),
                kind,
                message,
            });
        };
        for d in devices {
            let id = d.device_id.to_string();
            if d.connection_status == ConnectionStatus::Offline {
                warn(
                    &mut warnings,
                    d,
                    WarningKind::Offline,
                    format!(
                        "{id} ({}) is offline: the change waits until it is back",
                        d.model_name
                    ),
                );
            }
            let what = match change.details() {
                ChangeDetails::Schedule(r) => {
                    if let Some(existing) = &d.reservation {
                        warn(
                            &mut warnings,
                            d,
                            WarningKind::AlreadyReserved,
                            format!(
                                "{id} already has file {} reserved ({}); this replaces it",
                                existing.file_id, d.update_status
                            ),
                        );
                    } else if d.update_status != UpdateStatus::None
                        && d.update_status != UpdateStatus::Completed
                    {
                        warn(
                            &mut warnings,
                            d,
                            WarningKind::AlreadyReserved,
                            format!("{id} has update status {}", d.update_status),
                        );
                    }
                    if let Some(file) = file {
                        match fits(&file.fits_models, &d.model_name) {
                            Some(false) => warn(
                                &mut warnings,
                                d,
                                WarningKind::FileDoesNotFitModel,
                                format!(
                                    "file {:?} is for {} but {id} is a {}{}",
                                    file.title,
                                    file.fits_models.join(", "),
                                    d.model_name,
                                    if r.allow_other_model {
                                        " (another model allowed explicitly)"
                                    } else {
                                        ""
                                    }
                                ),
                            ),
                            None => warn(
                                &mut warnings,
                                d,
                                WarningKind::FileFitUnknown,
                                format!(
                                    "file {:?} does not say which models it fits; check it suits {}",
                                    file.title, d.model_name
                                ),
                            ),
                            Some(true) => {}
                        }
                    }
                    let title = file.map_or(r.firmware_file_id.as_str(), |f| f.title.as_str());
                    format!(
                        "firmware {} → {title}: transfer {}, update {}",
                        d.firmware_version,
                        local_time_text(r.transfer_at, r.time_zone),
                        local_time_text(r.execute_at, r.time_zone)
                    )
                }
                ChangeDetails::Cancel => match &d.reservation {
                    Some(existing) => format!(
                        "cancel the reservation of file {} ({})",
                        existing.file_id, d.update_status
                    ),
                    None => {
                        warn(
                            &mut warnings,
                            d,
                            WarningKind::NoReservation,
                            format!("{id} has no reservation to cancel"),
                        );
                        "nothing to cancel".to_owned()
                    }
                },
                ChangeDetails::Ota(r) => {
                    let window = OtaWindow::from_device(d.ota_start_hour, d.ota_end_hour)
                        .map_or_else(|| "?".to_owned(), |w| w.to_string());
                    let before = format!("{} {window}", d.ota_mode);
                    let after = format!("{} {}", r.mode, r.window);
                    if before == after {
                        warn(
                            &mut warnings,
                            d,
                            WarningKind::NoChange,
                            format!("{id} already has OTA {after}"),
                        );
                    }
                    format!("OTA {before} → {after}")
                }
            };
            changes.push(DeviceChange {
                device_id: id,
                model: d.model_name.clone(),
                name: d.friendly_name.clone(),
                current: state_of(d),
                change: what,
            });
        }
        let count = changes.len();
        let summary = match change.details() {
            ChangeDetails::Schedule(r) => format!(
                "Schedule {} on {count} device(s) of group {group_id}: transfer {}, update {} (devices' time zone {})",
                file.map_or(r.firmware_file_id.as_str(), |f| f.title.as_str()),
                local_time_text(r.transfer_at, r.time_zone),
                local_time_text(r.execute_at, r.time_zone),
                zone_text(r.time_zone)
            ),
            ChangeDetails::Cancel => {
                format!(
                    "Cancel the firmware update reservations of {count} device(s) of group {group_id}"
                )
            }
            ChangeDetails::Ota(r) => format!(
                "Set OTA mode {} with window {} on {count} device(s) of group {group_id}",
                r.mode, r.window
            ),
        };
        let mut preview = Self {
            action: change.kind(),
            group_id: group_id.to_owned(),
            group_name: None,
            summary,
            devices: changes,
            warnings,
            digest: String::new(),
        };
        preview.digest = digest_of(change, &preview);
        preview
    }
}

impl ChangePreview {
    /// This preview naming the tenant: its summary says "of <name> (group <id>)". The digest
    /// stays the one of the unnamed preview, so a name read or not read never makes a
    /// confirmed preview look changed.
    pub fn with_group_name(mut self, name: Option<&str>) -> Self {
        let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
            return self;
        };
        let id = &self.group_id;
        self.summary = self.summary.replace(
            &format!("of group {id}"),
            &format!("of {name} (group {id})"),
        );
        self.group_name = Some(name.to_owned());
        self
    }
}

/// SHA-256 over the change (in its one spelling) and the preview (without its digest), as
/// hex (first 16 bytes).
fn digest_of(change: &CheckedChange, preview: &ChangePreview) -> String {
    let mut hasher = Sha256::new();
    hasher.update(serde_json::to_vec(&change.to_request()).unwrap_or_default());
    hasher.update(serde_json::to_vec(preview).unwrap_or_default());
    debug_assert!(
        preview.group_name.is_none(),
        "the digest is of the unnamed preview"
    );
    hasher
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change_requests::{ChangeRequest, ScheduleUpdate, SetOtaMode};
    use serde_json::json;

    fn device(serial: &str, extra: serde_json::Value) -> Device {
        let mut v = json!({"deviceId": rmm_api::DeviceId::new("Sharp", serial).unwrap().to_string(),
            "modelName": "MX-3071", "firmwareVersion": "1.2.3", "latestFirmwareVersion": "1.2.5",
            "updateStatus": "none", "otaMode": "auto", "otaStartHour": 2, "otaEndHour": 4, "connectionStatus": "online"});
        if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            m.extend(e.clone());
        }
        serde_json::from_value(v).unwrap()
    }

    fn schedule(ids: &[&Device]) -> CheckedChange {
        ChangeRequest::ScheduleFirmwareUpdate(ScheduleUpdate {
            device_ids: ids.iter().map(|d| d.device_id.to_string()).collect(),
            firmware_file_id: "f-1".into(),
            transfer_datetime: 1_893_436_200_000,
            execute_datetime: "203001010200".into(),
            timezone: "UTC+05:30".into(),
            group_id: None,
            allow_other_model: false,
        })
        .check(0)
        .unwrap()
    }

    fn file(title: &str) -> FirmwareFileView {
        FirmwareFileView::from(
            &serde_json::from_value::<rmm_api::FirmwareFile>(
                json!({"fileId": "f-1", "fileTitle": title, "fileName": ""}),
            )
            .unwrap(),
        )
    }

    #[test]
    fn warns_about_reserved_offline_and_unfitting() {
        let reserved = device(
            "1",
            json!({"updateStatus": "reserved", "reservation": {"fileId": "f-0"}}),
        );
        let offline = device("2", json!({"connectionStatus": "offline"}));
        let other_model = device("3", json!({"modelName": "BP-50C26"}));
        let all = [reserved.clone(), offline.clone(), other_model.clone()];
        let preview = ChangePreview::build(
            &schedule(&[&reserved, &offline, &other_model]),
            "g",
            &all,
            Some(&file("MX-3071 Firmware v1.2.5")),
        );
        let kinds: Vec<WarningKind> = preview.warnings.iter().map(|w| w.kind).collect();
        assert_eq!(
            kinds,
            vec![
                WarningKind::AlreadyReserved,
                WarningKind::Offline,
                WarningKind::FileDoesNotFitModel
            ]
        );
        assert_eq!(preview.devices.len(), 3);
        assert_eq!(
            preview.devices[0].current.reserved_file_id.as_deref(),
            Some("f-0")
        );
        assert!(preview.summary.contains("MX-3071 Firmware v1.2.5"));
        assert!(
            preview
                .summary
                .contains("transfer 2030-01-01 00:00 UTC+05:30, update 2030-01-01 02:00 UTC+05:30"),
            "{}",
            preview.summary
        );
        assert_eq!(preview.action, ChangeKind::ScheduleFirmwareUpdate);
        assert_eq!(preview.digest.len(), 32);
    }

    /// Issue 16: people recognise the tenant's name, not its id; the name never moves the digest.
    #[test]
    fn a_named_tenant_shows_in_the_summary_and_leaves_the_digest() {
        let d = device("1", json!({}));
        let plain =
            ChangePreview::build(&schedule(&[&d]), "9944515e", std::slice::from_ref(&d), None);
        assert!(
            plain.summary.contains("of group 9944515e"),
            "{}",
            plain.summary
        );
        let named = plain.clone().with_group_name(Some("Head office"));
        assert!(
            named.summary.contains("of Head office (group 9944515e)"),
            "{}",
            named.summary
        );
        assert_eq!(named.group_name.as_deref(), Some("Head office"));
        assert_eq!(named.digest, plain.digest);
        assert_eq!(
            plain.clone().with_group_name(Some("  ")),
            plain,
            "a blank name is none"
        );
    }

    #[test]
    fn the_digest_follows_request_and_state() {
        let d = device("1", json!({}));
        let a = ChangePreview::build(&schedule(&[&d]), "g", std::slice::from_ref(&d), None);
        let b = ChangePreview::build(&schedule(&[&d]), "g", std::slice::from_ref(&d), None);
        assert_eq!(a.digest, b.digest);
        let moved = device(
            "1",
            json!({"updateStatus": "reserved", "reservation": {"fileId": "f-9"}}),
        );
        let c = ChangePreview::build(&schedule(&[&d]), "g", &[moved], None);
        assert_ne!(a.digest, c.digest, "a device's state changed");
        let ota = ChangeRequest::ConfigureOtaMode(SetOtaMode {
            device_ids: vec![d.device_id.to_string()],
            ota_mode: "auto".into(),
            start_hour: 2,
            end_hour: 4,
            group_id: None,
        })
        .check(0)
        .unwrap();
        let same = ChangePreview::build(&ota, "g", std::slice::from_ref(&d), None);
        assert_eq!(same.warnings[0].kind, WarningKind::NoChange);
        assert_ne!(same.digest, a.digest);
        let any_time = ChangeRequest::ConfigureOtaMode(SetOtaMode {
            device_ids: vec![d.device_id.to_string()],
            ota_mode: "auto".into(),
            start_hour: -1,
            end_hour: -1,
            group_id: None,
        })
        .check(0)
        .unwrap();
        let preview = ChangePreview::build(&any_time, "g", &[d], None);
        assert_eq!(preview.devices[0].change, "OTA auto 2-4 → auto any time");
    }
}
