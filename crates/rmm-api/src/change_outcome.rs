//! What became of a change: `ChangeOutcome`. When the cloud's answer was lost (a dropped
//! connection, a timeout, a 5xx after sending), the change is not sent again; the devices are
//! read back instead and each one is judged against the state the change asked for.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::changes::{ChangeReceipt, DeviceSelection};
use crate::device::{Device, OtaMode, UpdateStatus};
use crate::device_id::DeviceId;

/// The result of a change request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ChangeOutcome {
    /// The cloud answered and accepted the change.
    Confirmed(ChangeReceipt),
    /// The answer was lost; every targeted device is now in the requested state.
    Applied(ChangeCheck),
    /// The answer was lost; no targeted device is in the requested state.
    NotApplied(ChangeCheck),
    /// The answer was lost; some devices are in the requested state and some are not.
    Partial(ChangeCheck),
    /// The answer was lost and the devices could not all be read back.
    Unknown(ChangeCheck),
}

impl ChangeOutcome {
    /// `Some(true)` when the change is known to have taken effect everywhere,
    /// `Some(false)` when known not to have, `None` otherwise.
    pub fn took_effect(&self) -> Option<bool> {
        match self {
            Self::Confirmed(_) | Self::Applied(_) => Some(true),
            Self::NotApplied(_) => Some(false),
            Self::Partial(_) | Self::Unknown(_) => None,
        }
    }

    /// The read-back, when there was one.
    pub fn check(&self) -> Option<&ChangeCheck> {
        match self {
            Self::Confirmed(_) => None,
            Self::Applied(c) | Self::NotApplied(c) | Self::Partial(c) | Self::Unknown(c) => Some(c),
        }
    }
}

/// The read-back after a lost answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeCheck {
    /// What went wrong with the change request itself.
    pub failure: String,
    pub devices: Vec<DeviceCheck>,
    /// Why the devices could not be read back, if they could not.
    pub read_back_error: Option<String>,
}

/// One device's state after a lost answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceCheck {
    pub device_id: DeviceId,
    pub verdict: DeviceVerdict,
    /// What was seen, e.g. "reservation fileId f-2, expected f-1".
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceVerdict {
    Applied,
    NotApplied,
    /// The device was not in the list read back.
    NotFound,
}

/// The state a change asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExpectedState {
    /// A reservation of this file.
    Reserved { file_id: String },
    /// No reservation, `updateStatus` none.
    NotReserved,
    /// These OTA preferences.
    Ota {
        mode: OtaMode,
        start_hour: i32,
        end_hour: i32,
    },
}

impl ExpectedState {
    fn judge(&self, device: &Device) -> (DeviceVerdict, String) {
        let (ok, detail) = match self {
            Self::Reserved { file_id } => match &device.reservation {
                Some(r) if &r.file_id == file_id => {
                    (true, format!("reserved with fileId {file_id}"))
                }
                Some(r) => (
                    false,
                    format!("reservation fileId {}, expected {file_id}", r.file_id),
                ),
                // A cloud that does not show reservations (the notes do not document the
                // field) still shows an update under way in `updateStatus`.
                None if matches!(
                    device.update_status,
                    UpdateStatus::Reserved
                        | UpdateStatus::Downloading
                        | UpdateStatus::Downloaded
                        | UpdateStatus::Updating
                ) =>
                {
                    (
                        true,
                        format!(
                            "updateStatus {}: an update is reserved (the cloud does not show which file)",
                            device.update_status
                        ),
                    )
                }
                None => (
                    false,
                    format!("no reservation (updateStatus {})", device.update_status),
                ),
            },
            Self::NotReserved => {
                let ok = device.reservation.is_none() && device.update_status == UpdateStatus::None;
                let detail = match &device.reservation {
                    Some(r) => format!(
                        "still reserved with fileId {} (updateStatus {})",
                        r.file_id, device.update_status
                    ),
                    None => format!("no reservation, updateStatus {}", device.update_status),
                };
                (ok, detail)
            }
            Self::Ota {
                mode,
                start_hour,
                end_hour,
            } => {
                let ok = &device.ota_mode == mode
                    && device.ota_start_hour == Some(*start_hour)
                    && device.ota_end_hour == Some(*end_hour);
                let hour = |h: Option<i32>| h.map_or_else(|| "?".to_owned(), |h| h.to_string());
                (
                    ok,
                    format!(
                        "otaMode {} {}-{}, expected {mode} {start_hour}-{end_hour}",
                        device.ota_mode,
                        hour(device.ota_start_hour),
                        hour(device.ota_end_hour)
                    ),
                )
            }
        };
        (
            if ok {
                DeviceVerdict::Applied
            } else {
                DeviceVerdict::NotApplied
            },
            detail,
        )
    }
}

/// Judges the devices read back (`read`: the devices of the group that were found, or why
/// they could not be read) against the state the change asked for.
pub(crate) fn judge(
    expected: &ExpectedState,
    selection: &DeviceSelection,
    failure: String,
    read: Result<Vec<Device>, String>,
) -> ChangeOutcome {
    let devices = match read {
        Ok(devices) => devices,
        Err(read_back_error) => {
            return ChangeOutcome::Unknown(ChangeCheck {
                failure,
                devices: Vec::new(),
                read_back_error: Some(read_back_error),
            });
        }
    };
    let checks: Vec<DeviceCheck> = if selection.is_exclude {
        let excluded: HashSet<&DeviceId> = selection.device_ids.iter().collect();
        devices
            .iter()
            .filter(|d| !excluded.contains(&d.device_id))
            .map(|d| {
                let (verdict, detail) = expected.judge(d);
                DeviceCheck {
                    device_id: d.device_id.clone(),
                    verdict,
                    detail,
                }
            })
            .collect()
    } else {
        let by_id: HashMap<&DeviceId, &Device> =
            devices.iter().map(|d| (&d.device_id, d)).collect();
        selection
            .device_ids
            .iter()
            .map(|id| match by_id.get(id) {
                Some(d) => {
                    let (verdict, detail) = expected.judge(d);
                    DeviceCheck {
                        device_id: id.clone(),
                        verdict,
                        detail,
                    }
                }
                None => DeviceCheck {
                    device_id: id.clone(),
                    verdict: DeviceVerdict::NotFound,
                    detail: "not in the device list read back".to_owned(),
                },
            })
            .collect()
    };
    let count = |v| checks.iter().filter(|c| c.verdict == v).count();
    let (applied, not_applied, not_found) = (
        count(DeviceVerdict::Applied),
        count(DeviceVerdict::NotApplied),
        count(DeviceVerdict::NotFound),
    );
    let check = ChangeCheck {
        failure,
        devices: checks,
        read_back_error: None,
    };
    if not_found > 0 || check.devices.is_empty() {
        ChangeOutcome::Unknown(check)
    } else if not_applied == 0 {
        ChangeOutcome::Applied(check)
    } else if applied == 0 {
        ChangeOutcome::NotApplied(check)
    } else {
        ChangeOutcome::Partial(check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn device(serial: &str, extra: serde_json::Value) -> Device {
        let mut value = json!({"deviceId": DeviceId::new("Sharp", serial).unwrap().to_string(), "updateStatus": "none"});
        if let (Some(map), Some(more)) = (value.as_object_mut(), extra.as_object()) {
            map.extend(more.clone());
        }
        serde_json::from_value(value).unwrap()
    }

    fn id(serial: &str) -> DeviceId {
        DeviceId::new("Sharp", serial).unwrap()
    }

    #[test]
    fn reservation_verdicts() {
        let expected = ExpectedState::Reserved {
            file_id: "f1".into(),
        };
        let reserved = device(
            "1",
            json!({"updateStatus": "reserved", "reservation": {"fileId": "f1"}}),
        );
        let other = device("2", json!({"reservation": {"fileId": "f9"}}));
        let none = device("3", json!({}));
        let only = |ids: &[&str]| DeviceSelection::only(ids.iter().map(|s| id(s)).collect());
        let all = vec![reserved.clone(), other.clone(), none.clone()];

        let out = judge(&expected, &only(&["1"]), "drop".into(), Ok(all.clone()));
        assert!(matches!(out, ChangeOutcome::Applied(_)), "{out:?}");
        let out = judge(
            &expected,
            &only(&["2", "3"]),
            "drop".into(),
            Ok(all.clone()),
        );
        let ChangeOutcome::NotApplied(check) = out else {
            panic!("{out:?}")
        };
        assert!(
            check.devices[0].detail.contains("f9"),
            "{}",
            check.devices[0].detail
        );
        let out = judge(
            &expected,
            &only(&["1", "3"]),
            "drop".into(),
            Ok(all.clone()),
        );
        assert!(matches!(out, ChangeOutcome::Partial(_)));
        let out = judge(
            &expected,
            &only(&["1", "7"]),
            "drop".into(),
            Ok(all.clone()),
        );
        let ChangeOutcome::Unknown(check) = out else {
            panic!()
        };
        assert_eq!(check.devices[1].verdict, DeviceVerdict::NotFound);
        let out = judge(
            &expected,
            &DeviceSelection::all_except(vec![id("2"), id("3")]),
            "x".into(),
            Ok(all),
        );
        assert!(
            matches!(out, ChangeOutcome::Applied(ref c) if c.devices.len() == 1),
            "{out:?}"
        );
    }

    #[test]
    fn without_the_reservation_field_an_update_under_way_counts_as_reserved() {
        let expected = ExpectedState::Reserved {
            file_id: "f1".into(),
        };
        let sel = DeviceSelection::only(vec![id("1")]);
        for (status, applied) in [
            ("reserved", true),
            ("downloading", true),
            ("none", false),
            ("completed", false),
            ("failed", false),
        ] {
            let seen = vec![device("1", json!({ "updateStatus": status }))];
            assert_eq!(
                judge(&expected, &sel, "drop".into(), Ok(seen)).took_effect(),
                Some(applied),
                "{status}"
            );
        }
    }

    #[test]
    fn cancel_needs_no_reservation_and_status_none() {
        let expected = ExpectedState::NotReserved;
        let sel = DeviceSelection::only(vec![id("1"), id("2")]);
        let done = vec![
            device("1", json!({})),
            device("2", json!({"reservation": null})),
        ];
        assert_eq!(
            judge(&expected, &sel, "x".into(), Ok(done)).took_effect(),
            Some(true)
        );
        let failed_status = vec![
            device("1", json!({"updateStatus": "failed"})),
            device(
                "2",
                json!({"updateStatus": "reserved", "reservation": {"fileId": "f"}}),
            ),
        ];
        assert_eq!(
            judge(&expected, &sel, "x".into(), Ok(failed_status)).took_effect(),
            Some(false)
        );
    }

    #[test]
    fn ota_needs_mode_and_hours() {
        let expected = ExpectedState::Ota {
            mode: OtaMode::Auto,
            start_hour: 2,
            end_hour: 4,
        };
        let sel = DeviceSelection::only(vec![id("1")]);
        let good = vec![device(
            "1",
            json!({"otaMode": "auto", "otaStartHour": 2, "otaEndHour": 4}),
        )];
        assert_eq!(
            judge(&expected, &sel, "x".into(), Ok(good)).took_effect(),
            Some(true)
        );
        let hours_differ = vec![device(
            "1",
            json!({"otaMode": "auto", "otaStartHour": 2, "otaEndHour": 5}),
        )];
        assert_eq!(
            judge(&expected, &sel, "x".into(), Ok(hours_differ)).took_effect(),
            Some(false)
        );
    }

    #[test]
    fn a_failed_read_back_is_unknown_with_the_reason() {
        let out = judge(
            &ExpectedState::NotReserved,
            &DeviceSelection::only(vec![id("1")]),
            "HTTP 502".into(),
            Err("timed out".into()),
        );
        let ChangeOutcome::Unknown(check) = &out else {
            panic!()
        };
        assert_eq!(check.read_back_error.as_deref(), Some("timed out"));
        assert_eq!(check.failure, "HTTP 502");
        assert_eq!(out.took_effect(), None);
    }
}
