//! `FleetSummary`: a fleet in counts (by model, by current → latest firmware, by update status,
//! by OTA mode), small enough for a person or an agent to read at a glance.

use std::collections::BTreeMap;

use rmm_api::Device;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How many devices have one value.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Count {
    pub value: String,
    pub devices: u64,
}

/// Devices of one model going from one firmware to another (`to` empty: up to date).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FirmwareStep {
    pub model: String,
    pub from: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub to: String,
    pub devices: u64,
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FleetSummary {
    pub group_id: String,
    pub total_devices: u64,
    pub needs_update: u64,
    pub offline: u64,
    pub by_model: Vec<Count>,
    pub by_firmware: Vec<FirmwareStep>,
    pub by_update_status: Vec<Count>,
    pub by_ota_mode: Vec<Count>,
}

fn counts(map: BTreeMap<String, u64>) -> Vec<Count> {
    let mut list: Vec<Count> = map
        .into_iter()
        .map(|(value, devices)| Count { value, devices })
        .collect();
    // Most common first; ties stay in name order (the map's order, kept by a stable sort).
    list.sort_by_key(|c| std::cmp::Reverse(c.devices));
    list
}

impl FleetSummary {
    pub fn of(group_id: &str, devices: &[Device]) -> Self {
        let mut by_model = BTreeMap::new();
        let mut by_firmware: BTreeMap<(String, String, String), u64> = BTreeMap::new();
        let mut by_status = BTreeMap::new();
        let mut by_ota = BTreeMap::new();
        let (mut needs_update, mut offline) = (0, 0);
        for d in devices {
            *by_model.entry(d.model_name.clone()).or_insert(0) += 1;
            let to = if d.needs_update() {
                d.latest_firmware_version.clone()
            } else {
                String::new()
            };
            *by_firmware
                .entry((d.model_name.clone(), d.firmware_version.clone(), to))
                .or_insert(0) += 1;
            *by_status.entry(d.update_status.to_string()).or_insert(0) += 1;
            *by_ota.entry(d.ota_mode.to_string()).or_insert(0) += 1;
            needs_update += u64::from(d.needs_update());
            offline += u64::from(d.connection_status == rmm_api::ConnectionStatus::Offline);
        }
        Self {
            group_id: group_id.to_owned(),
            total_devices: devices.len() as u64,
            needs_update,
            offline,
            by_model: counts(by_model),
            by_firmware: by_firmware
                .into_iter()
                .map(|((model, from, to), devices)| FirmwareStep {
                    model,
                    from,
                    to,
                    devices,
                })
                .collect(),
            by_update_status: counts(by_status),
            by_ota_mode: counts(by_ota),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn device(serial: &str, model: &str, fw: &str, latest: &str, status: &str) -> Device {
        serde_json::from_value(json!({
            "deviceId": rmm_api::DeviceId::new("Sharp", serial).unwrap().to_string(),
            "modelName": model, "firmwareVersion": fw, "latestFirmwareVersion": latest,
            "updateStatus": status, "otaMode": "auto", "connectionStatus": "online"
        }))
        .unwrap()
    }

    #[test]
    fn counts_by_every_dimension() {
        let devices = vec![
            device("1", "MX-3071", "1.2.3", "1.2.5", "none"),
            device("2", "MX-3071", "1.2.3", "1.2.5", "reserved"),
            device("3", "BP-50C26", "2.1.7", "", "none"),
        ];
        let s = FleetSummary::of("g", &devices);
        assert_eq!((s.total_devices, s.needs_update, s.offline), (3, 2, 0));
        assert_eq!(
            s.by_model[0],
            Count {
                value: "MX-3071".into(),
                devices: 2
            }
        );
        assert!(s.by_firmware.contains(&FirmwareStep {
            model: "MX-3071".into(),
            from: "1.2.3".into(),
            to: "1.2.5".into(),
            devices: 2
        }));
        assert!(
            s.by_firmware
                .iter()
                .any(|f| f.model == "BP-50C26" && f.to.is_empty())
        );
        assert_eq!(
            s.by_update_status[0],
            Count {
                value: "none".into(),
                devices: 2
            }
        );
        assert_eq!(
            s.by_ota_mode,
            vec![Count {
                value: "auto".into(),
                devices: 3
            }]
        );
    }
}
