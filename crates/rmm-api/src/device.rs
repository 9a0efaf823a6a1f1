//! A printer as the device list (`getFirmwareUpdateList`) describes it, with its firmware and
//! automatic-update (OTA) state. Unknown fields are kept in `extra`, missing ones defaulted.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::device_id::DeviceId;
use crate::lenient;
use crate::wire_enum::wire_enum;

wire_enum! {
    /// Progress of a reserved firmware update.
    UpdateStatus {
        None => "none",
        Reserved => "reserved",
        Downloading => "downloading",
        Downloaded => "downloaded",
        Updating => "updating",
        Completed => "completed",
        Failed => "failed",
    }
}

wire_enum! {
    /// How a device takes firmware updates on its own.
    OtaMode {
        /// Installs new firmware in its update window.
        Auto => "auto",
        /// Asks at the panel first.
        Confirmation => "confirmation",
        /// Never updates on its own.
        Off => "off",
    }
}

wire_enum! {
    /// Whether the last OTA setting reached the device.
    OtaSettingStatus {
        Applied => "applied",
        Pending => "pending",
    }
}

wire_enum! {
    /// Whether the device is talking to the cloud.
    ConnectionStatus {
        Online => "online",
        Offline => "offline",
    }
}

/// A firmware update scheduled on a device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    #[serde(default, deserialize_with = "lenient::string")]
    pub file_id: String,
    /// When the file is sent to the device, Unix milliseconds.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub file_transfer_timestamp: Option<i64>,
    /// e.g. "UTC+05:30".
    #[serde(default, deserialize_with = "lenient::string")]
    pub file_transfer_time_zone: String,
    /// `YYYYMMDDHHMM`, local to the time zone.
    #[serde(default, deserialize_with = "lenient::string")]
    pub execute_update_date_time: String,
    /// Fields this client does not know, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One device of the device list. Read by a hand-written `Deserialize` (below) that is
/// equivalent to the serde attributes' reading but builds no intermediate map: a fleet of
/// 10,000 devices is read on every fetch.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub device_id: DeviceId,
    pub model_name: String,
    pub serial_number: String,
    pub friendly_name: String,
    pub ip_address: String,
    pub firmware_version: String,
    /// Non-empty exactly when an update is available.
    pub latest_firmware_version: String,
    pub update_status: UpdateStatus,
    pub ota_mode: OtaMode,
    pub ota_setting_status: OtaSettingStatus,
    /// 0-23, or -1 for any time of day.
    pub ota_start_hour: Option<i32>,
    pub ota_end_hour: Option<i32>,
    pub connection_status: ConnectionStatus,
    pub reservation: Option<Reservation>,
    /// Fields this client does not know (e.g. `location`), kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Device {
    /// True when the cloud offers newer firmware for this device.
    pub fn needs_update(&self) -> bool {
        !self.latest_firmware_version.trim().is_empty()
    }
}

/// `null`, `{}` or a non-object mean "no reservation"; an object without a file id is kept.
fn reservation<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Reservation>, D::Error> {
    match Value::deserialize(d)? {
        Value::Object(map) if !map.is_empty() => serde_json::from_value(Value::Object(map))
            .map(Some)
            .map_err(serde::de::Error::custom),
        _ => Ok(None),
    }
}

/// Wrappers that give the lenient readers to `MapAccess::next_value`.
struct LenientString(String);
struct LenientHour(Option<i32>);
struct LenientReservation(Option<Reservation>);

/// A device id as the cloud sent it: any printable text (kept opaque when not canonical), or
/// a number taken as its text.
struct LenientDeviceId(DeviceId);

impl<'de> Deserialize<'de> for LenientDeviceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = match Value::deserialize(d)? {
            Value::String(text) => text,
            Value::Number(n) => n.to_string(),
            other => {
                return Err(serde::de::Error::custom(format!(
                    "deviceId must be text, got {other}"
                )));
            }
        };
        text.parse()
            .map(Self)
            .map_err(|e: crate::DeviceIdError| serde::de::Error::custom(e.to_string()))
    }
}

impl<'de> Deserialize<'de> for LenientString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::string(d).map(Self)
    }
}

impl<'de> Deserialize<'de> for LenientHour {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::opt_hour(d).map(Self)
    }
}

impl<'de> Deserialize<'de> for LenientReservation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        reservation(d).map(Self)
    }
}

impl<'de> Deserialize<'de> for Device {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(DeviceVisitor)
    }
}

struct DeviceVisitor;

impl<'de> serde::de::Visitor<'de> for DeviceVisitor {
    type Value = Device;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a device object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Device, A::Error> {
        let mut device_id: Option<DeviceId> = None;
        let mut d = Device {
            // Placeholder until `deviceId` is read; a missing one is an error below.
            device_id: DeviceId::placeholder(),
            model_name: String::new(),
            serial_number: String::new(),
            friendly_name: String::new(),
            ip_address: String::new(),
            firmware_version: String::new(),
            latest_firmware_version: String::new(),
            update_status: UpdateStatus::default(),
            ota_mode: OtaMode::default(),
            ota_setting_status: OtaSettingStatus::default(),
            ota_start_hour: None,
            ota_end_hour: None,
            connection_status: ConnectionStatus::default(),
            reservation: None,
            extra: Map::new(),
        };
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "deviceId" => device_id = Some(map.next_value::<LenientDeviceId>()?.0),
                "modelName" => d.model_name = map.next_value::<LenientString>()?.0,
                "serialNumber" => d.serial_number = map.next_value::<LenientString>()?.0,
                "friendlyName" => d.friendly_name = map.next_value::<LenientString>()?.0,
                "ipAddress" => d.ip_address = map.next_value::<LenientString>()?.0,
                "firmwareVersion" => d.firmware_version = map.next_value::<LenientString>()?.0,
                "latestFirmwareVersion" => {
                    d.latest_firmware_version = map.next_value::<LenientString>()?.0
                }
                "updateStatus" => d.update_status = map.next_value()?,
                "otaMode" => d.ota_mode = map.next_value()?,
                "otaSettingStatus" => d.ota_setting_status = map.next_value()?,
                "otaStartHour" => d.ota_start_hour = map.next_value::<LenientHour>()?.0,
                "otaEndHour" => d.ota_end_hour = map.next_value::<LenientHour>()?.0,
                "connectionStatus" => d.connection_status = map.next_value()?,
                "reservation" => d.reservation = map.next_value::<LenientReservation>()?.0,
                _ => {
                    let value: Value = map.next_value()?;
                    d.extra.insert(key.into_owned(), value);
                }
            }
        }
        d.device_id = device_id.ok_or_else(|| serde::de::Error::missing_field("deviceId"))?;
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_contract_example_and_keeps_unknown_fields() {
        let device: Device = serde_json::from_value(json!({
            "deviceId": "mn=U2hhcnA=:sn=MTIzNDU2Nzg=", "modelName": "MX-3071",
            "serialNumber": "12345678", "friendlyName": "2F copier", "ipAddress": "192.0.2.17",
            "firmwareVersion": "1.0", "latestFirmwareVersion": "1.2", "updateStatus": "reserved",
            "otaMode": "confirmation", "otaSettingStatus": "pending", "otaStartHour": 2,
            "otaEndHour": 4, "connectionStatus": "online", "location": "Osaka",
            "reservation": {"fileId": "f-1", "fileTransferTimestamp": 1692012000000_i64,
                            "fileTransferTimeZone": "UTC+05:30", "executeUpdateDateTime": "202508111400",
                            "priority": 3}
        }))
        .unwrap();
        assert_eq!(device.device_id.serial(), "12345678");
        assert!(device.needs_update());
        assert_eq!(device.update_status, UpdateStatus::Reserved);
        assert_eq!(device.ota_mode, OtaMode::Confirmation);
        assert_eq!(device.ota_setting_status, OtaSettingStatus::Pending);
        assert_eq!(
            (device.ota_start_hour, device.ota_end_hour),
            (Some(2), Some(4))
        );
        assert_eq!(device.connection_status, ConnectionStatus::Online);
        assert_eq!(device.extra.get("location"), Some(&json!("Osaka")));
        let reservation = device.reservation.unwrap();
        assert_eq!(reservation.file_id, "f-1");
        assert_eq!(reservation.file_transfer_timestamp, Some(1_692_012_000_000));
        assert_eq!(reservation.extra.get("priority"), Some(&json!(3)));
    }

    #[test]
    fn missing_null_and_odd_fields_are_defaulted_not_fatal() {
        let device: Device = serde_json::from_value(json!({
            "deviceId": "mn=U2hhcnA=:sn=MTIz", "modelName": null, "otaStartHour": "5",
            "otaEndHour": "soon", "updateStatus": "queued", "otaMode": 7, "reservation": {}
        }))
        .unwrap();
        assert_eq!(device.model_name, "");
        assert!(!device.needs_update());
        assert_eq!(device.ota_start_hour, Some(5));
        assert_eq!(device.ota_end_hour, None);
        assert_eq!(device.update_status, UpdateStatus::Other("queued".into()));
        assert_eq!(device.ota_mode, OtaMode::Other("7".into()));
        assert_eq!(
            device.connection_status,
            ConnectionStatus::Other(String::new())
        );
        assert_eq!(device.reservation, None);
    }

    #[test]
    fn any_printable_id_is_kept_as_sent_and_flagged_when_odd() {
        for (raw, text) in [
            (
                json!("mn=U2hhcnA:sn=MTIzNDU2NzM"),
                "mn=U2hhcnA:sn=MTIzNDU2NzM",
            ),
            (json!("SHARP-12345679"), "SHARP-12345679"),
            (json!(40213), "40213"),
        ] {
            let device: Device =
                serde_json::from_value(json!({"deviceId": raw, "modelName": "MX-1"})).unwrap();
            assert_eq!(device.device_id.as_str(), text);
            assert!(!device.device_id.is_canonical(), "{text}");
            assert_eq!(serde_json::to_value(&device).unwrap()["deviceId"], text);
        }
        for refused in [json!(null), json!(""), json!({"a": 1}), json!("two words")] {
            assert!(
                serde_json::from_value::<Device>(json!({"deviceId": refused})).is_err(),
                "{refused}"
            );
        }
    }

    #[test]
    fn serializes_back_with_the_wire_names_and_extra_fields() {
        let device: Device = serde_json::from_value(json!({
            "deviceId": "mn=U2hhcnA=:sn=MTIz", "otaMode": "off", "newField": [1, 2]
        }))
        .unwrap();
        let back = serde_json::to_value(&device).unwrap();
        assert_eq!(back["otaMode"], json!("off"));
        assert_eq!(back["newField"], json!([1, 2]));
        assert_eq!(back["deviceId"], json!("mn=U2hhcnA=:sn=MTIz"));
    }

    #[test]
    fn wire_enums_round_trip_their_text() {
        for text in UpdateStatus::KNOWN {
            assert_eq!(UpdateStatus::from(*text).as_str(), *text);
            assert!(!matches!(UpdateStatus::from(*text), UpdateStatus::Other(_)));
        }
        assert_eq!(OtaMode::from("AUTO"), OtaMode::Other("AUTO".into()));
    }
}
