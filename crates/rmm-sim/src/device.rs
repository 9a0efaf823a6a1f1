//! A simulated printer, its firmware reservation, and how the API shows and sorts it.

use std::borrow::Cow;
use std::cmp::Ordering;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde::Serialize;

use crate::modes::Modes;
use crate::rollout_faults::UpdateFate;

/// Progress of a reserved firmware update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdateStatus {
    None,
    Reserved,
    Downloading,
    Downloaded,
    Updating,
    Completed,
    Failed,
}

impl UpdateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Reserved => "reserved",
            Self::Downloading => "downloading",
            Self::Downloaded => "downloaded",
            Self::Updating => "updating",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }
}

/// Automatic-update preference of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OtaMode {
    Auto,
    Confirmation,
    Off,
}

impl OtaMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Confirmation => "confirmation",
            Self::Off => "off",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "auto" => Some(Self::Auto),
            "confirmation" => Some(Self::Confirmation),
            "off" => Some(Self::Off),
            _ => None,
        }
    }
}

/// A scheduled firmware update as stored on the device.
#[derive(Debug, Clone)]
pub struct Reservation {
    pub file_id: String,
    pub transfer_ms: i64,
    pub time_zone: String,
    pub execute: String,
    pub execute_ms: i64,
    /// The version the file installs; `None` when the file does not fit the model (the update fails).
    pub installs: Option<&'static str>,
    /// Decided when reserved, from the configured failure share.
    pub will_fail: bool,
    /// Decided when reserved, from the rollout faults (`rollout_faults.rs`).
    pub fate: UpdateFate,
}

/// Minutes a device spends downloading and updating.
pub const DOWNLOAD_MS: i64 = 2 * 60_000;
pub const UPDATE_MS: i64 = 5 * 60_000;
/// How long an OTA change stays `pending` on an online device.
pub const OTA_APPLY_MS: i64 = 60_000;

#[derive(Debug, Clone)]
pub struct Device {
    pub device_id: String,
    /// The id shown instead in `odd-device-ids` mode (about a third of the devices).
    pub odd_id: Option<String>,
    pub model: &'static str,
    pub serial: String,
    pub friendly_name: String,
    pub ip: String,
    pub ip_num: u32,
    pub firmware: &'static str,
    /// The model's newest firmware; shown as `latestFirmwareVersion` only when it differs.
    pub newest: &'static str,
    pub update_status: UpdateStatus,
    pub ota_mode: OtaMode,
    pub ota_start: i8,
    pub ota_end: i8,
    /// Simulated time of the last OTA change that may not have reached the device yet.
    pub ota_changed_at: Option<i64>,
    pub online: bool,
    pub location: String,
    pub reservation: Option<Reservation>,
    /// Lower-cased name, model, serial and IP, for the `keyword` filter.
    pub search_text: String,
}

/// A device field that `simpleFilters` and `orderBy` accept; parsed once per request so that
/// filtering and sorting large fleets does not compare field names per device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceField {
    DeviceId,
    ModelName,
    SerialNumber,
    FriendlyName,
    IpAddress,
    FirmwareVersion,
    LatestFirmwareVersion,
    UpdateStatus,
    OtaMode,
    OtaSettingStatus,
    OtaStartHour,
    OtaEndHour,
    ConnectionStatus,
    Location,
}

impl DeviceField {
    pub const ALL: [(&'static str, DeviceField); 14] = [
        ("deviceId", Self::DeviceId),
        ("modelName", Self::ModelName),
        ("serialNumber", Self::SerialNumber),
        ("friendlyName", Self::FriendlyName),
        ("ipAddress", Self::IpAddress),
        ("firmwareVersion", Self::FirmwareVersion),
        ("latestFirmwareVersion", Self::LatestFirmwareVersion),
        ("updateStatus", Self::UpdateStatus),
        ("otaMode", Self::OtaMode),
        ("otaSettingStatus", Self::OtaSettingStatus),
        ("otaStartHour", Self::OtaStartHour),
        ("otaEndHour", Self::OtaEndHour),
        ("connectionStatus", Self::ConnectionStatus),
        ("location", Self::Location),
    ];

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    /// The accepted names, for error messages.
    pub fn names() -> String {
        Self::ALL
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A value to sort by: numbers sort numerically, IP addresses by their octets.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey<'a> {
    Num(i64),
    Text(&'a str),
}

impl Device {
    pub fn latest_shown(&self) -> &'static str {
        if self.firmware == self.newest {
            ""
        } else {
            self.newest
        }
    }

    pub fn ota_setting_status(&self, now_ms: i64) -> &'static str {
        match self.ota_changed_at {
            Some(at) if !self.online || now_ms < at + OTA_APPLY_MS => "pending",
            _ => "applied",
        }
    }

    pub fn connection_status(&self) -> &'static str {
        if self.online { "online" } else { "offline" }
    }

    /// The field as text, for `simpleFilters`.
    pub fn field_text(&self, field: DeviceField, now_ms: i64) -> Cow<'_, str> {
        use DeviceField as F;
        match field {
            F::DeviceId => Cow::Borrowed(self.device_id.as_str()),
            F::ModelName => Cow::Borrowed(self.model),
            F::SerialNumber => Cow::Borrowed(self.serial.as_str()),
            F::FriendlyName => Cow::Borrowed(self.friendly_name.as_str()),
            F::IpAddress => Cow::Borrowed(self.ip.as_str()),
            F::FirmwareVersion => Cow::Borrowed(self.firmware),
            F::LatestFirmwareVersion => Cow::Borrowed(self.latest_shown()),
            F::UpdateStatus => Cow::Borrowed(self.update_status.as_str()),
            F::OtaMode => Cow::Borrowed(self.ota_mode.as_str()),
            F::OtaSettingStatus => Cow::Borrowed(self.ota_setting_status(now_ms)),
            F::OtaStartHour => Cow::Owned(self.ota_start.to_string()),
            F::OtaEndHour => Cow::Owned(self.ota_end.to_string()),
            F::ConnectionStatus => Cow::Borrowed(self.connection_status()),
            F::Location => Cow::Borrowed(self.location.as_str()),
        }
    }

    pub fn sort_key(&self, field: DeviceField, now_ms: i64) -> SortKey<'_> {
        match field {
            DeviceField::OtaStartHour => SortKey::Num(i64::from(self.ota_start)),
            DeviceField::OtaEndHour => SortKey::Num(i64::from(self.ota_end)),
            DeviceField::IpAddress => SortKey::Num(i64::from(self.ip_num)),
            other => match self.field_text(other, now_ms) {
                Cow::Borrowed(text) => SortKey::Text(text),
                Cow::Owned(_) => SortKey::Num(0),
            },
        }
    }

    pub fn compare(&self, other: &Self, field: DeviceField, now_ms: i64) -> Ordering {
        self.sort_key(field, now_ms)
            .cmp(&other.sort_key(field, now_ms))
    }

    /// The id the API shows in these modes.
    pub fn shown_id(&self, modes: &Modes) -> &str {
        match &self.odd_id {
            Some(odd) if modes.odd_device_ids => odd,
            _ => &self.device_id,
        }
    }

    pub fn view(&self, now_ms: i64, modes: &Modes) -> DeviceView<'_> {
        let invented = !modes.documented_fields_only;
        DeviceView {
            device_id: self.shown_id(modes),
            model_name: self.model,
            serial_number: &self.serial,
            friendly_name: &self.friendly_name,
            ip_address: &self.ip,
            firmware_version: self.firmware,
            latest_firmware_version: self.latest_shown(),
            update_status: self.update_status,
            ota_mode: self.ota_mode,
            ota_setting_status: self.ota_setting_status(now_ms),
            ota_start_hour: self.ota_start,
            ota_end_hour: self.ota_end,
            connection_status: invented.then(|| self.connection_status()),
            location: invented.then_some(self.location.as_str()),
            reservation: invented.then(|| {
                self.reservation.as_ref().map(|r| ReservationView {
                    file_id: &r.file_id,
                    file_transfer_timestamp: r.transfer_ms,
                    file_transfer_time_zone: &r.time_zone,
                    execute_update_date_time: &r.execute,
                })
            }),
        }
    }

    /// Moves a reserved update along to where it is at `now_ms`.
    pub fn settle(&mut self, now_ms: i64) {
        let Some(reservation) = &self.reservation else {
            return;
        };
        let fate = reservation.fate;
        if self.online
            && fate == UpdateFate::OfflineMidDownload
            && now_ms >= reservation.transfer_ms + DOWNLOAD_MS / 2
        {
            // Gone half-way through the download; it does not come back during the run.
            self.online = false;
            self.update_status = UpdateStatus::Downloading;
            return;
        }
        if !self.online && fate == UpdateFate::OfflineMidDownload {
            return;
        }
        if !self.online || now_ms < reservation.transfer_ms {
            self.update_status = UpdateStatus::Reserved;
            return;
        }
        if fate == UpdateFate::StuckDownload {
            self.update_status = UpdateStatus::Downloading;
            return;
        }
        let downloaded_at = reservation.transfer_ms + DOWNLOAD_MS;
        let postponed = match fate {
            UpdateFate::Busy(minutes) => i64::from(minutes) * 60_000,
            _ => 0,
        };
        let update_start = downloaded_at.max(reservation.execute_ms) + postponed;
        self.update_status = if now_ms < downloaded_at {
            UpdateStatus::Downloading
        } else if now_ms < update_start {
            UpdateStatus::Downloaded
        } else if now_ms < update_start + UPDATE_MS {
            UpdateStatus::Updating
        } else {
            match (
                reservation.will_fail || fate == UpdateFate::Fail,
                reservation.installs,
            ) {
                _ if fate == UpdateFate::LyingCompleted => UpdateStatus::Completed,
                (false, Some(version)) => {
                    self.firmware = version;
                    UpdateStatus::Completed
                }
                _ => UpdateStatus::Failed,
            }
        };
        if matches!(
            self.update_status,
            UpdateStatus::Completed | UpdateStatus::Failed
        ) {
            self.reservation = None;
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceView<'a> {
    pub device_id: &'a str,
    pub model_name: &'a str,
    pub serial_number: &'a str,
    pub friendly_name: &'a str,
    pub ip_address: &'a str,
    pub firmware_version: &'a str,
    pub latest_firmware_version: &'a str,
    pub update_status: UpdateStatus,
    pub ota_mode: OtaMode,
    pub ota_setting_status: &'static str,
    pub ota_start_hour: i8,
    pub ota_end_hour: i8,
    /// The fields below are the simulator's own: absent in `documented-fields-only` mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<&'a str>,
    /// `Some(None)` is shown as `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation: Option<Option<ReservationView<'a>>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationView<'a> {
    pub file_id: &'a str,
    pub file_transfer_timestamp: i64,
    pub file_transfer_time_zone: &'a str,
    pub execute_update_date_time: &'a str,
}

/// `mn=<base64 maker>:sn=<base64 serial>`.
pub fn device_id_for(maker: &str, serial: &str) -> String {
    format!(
        "mn={}:sn={}",
        STANDARD.encode(maker),
        STANDARD.encode(serial)
    )
}

/// Shift-JIS bytes of "シャープ": a maker name that is not UTF-8.
const SJIS_SHARP: &[u8] = &[0x83, 0x56, 0x83, 0x83, 0x81, 0x5B, 0x83, 0x76];

/// The id a device shows in `odd-device-ids` mode, decided by its serial's last digit: base64
/// without padding, a maker that is not UTF-8, or an opaque id of another shape.
pub fn odd_device_id(serial: &str) -> Option<String> {
    match serial.as_bytes().last()? {
        b'3' => Some(format!(
            "mn={}:sn={}",
            STANDARD_NO_PAD.encode("Sharp"),
            STANDARD_NO_PAD.encode(serial)
        )),
        b'6' => Some(format!(
            "mn={}:sn={}",
            STANDARD.encode(SJIS_SHARP),
            STANDARD.encode(serial)
        )),
        b'9' => Some(format!("SHARP-{serial}")),
        _ => None,
    }
}

/// Whether `text` has the device-id shape: both parts present and valid base64 of UTF-8 text.
pub fn is_well_formed_device_id(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("mn=") else {
        return false;
    };
    let Some((maker, serial)) = rest.split_once(":sn=") else {
        return false;
    };
    [maker, serial].iter().all(|part| {
        STANDARD
            .decode(part)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .is_some_and(|decoded| !decoded.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Device {
        Device {
            device_id: device_id_for("Sharp", "12345678"),
            odd_id: None,
            model: "MX-3071",
            serial: "12345678".into(),
            friendly_name: "Copy Room".into(),
            ip: "192.0.2.10".into(),
            ip_num: 0xC000_020A,
            firmware: "1.2.3",
            newest: "1.2.5",
            update_status: UpdateStatus::None,
            ota_mode: OtaMode::Auto,
            ota_start: 2,
            ota_end: 4,
            ota_changed_at: None,
            online: true,
            location: "HQ".into(),
            reservation: None,
            search_text: String::new(),
        }
    }

    #[test]
    fn device_id_matches_the_documented_example() {
        assert_eq!(
            device_id_for("Sharp", "12345678"),
            "mn=U2hhcnA=:sn=MTIzNDU2Nzg="
        );
        assert!(is_well_formed_device_id("mn=U2hhcnA=:sn=MTIzNDU2Nzg="));
        assert!(!is_well_formed_device_id("mn=U2hhcnA=:sn="));
        assert!(!is_well_formed_device_id("12345678"));
        assert!(!is_well_formed_device_id("mn=!!:sn=MTIz"));
    }

    #[test]
    fn odd_ids_are_not_well_formed_and_differ_by_kind() {
        assert_eq!(odd_device_id("12345678"), None);
        let unpadded = odd_device_id("12345673").unwrap();
        assert_eq!(unpadded, "mn=U2hhcnA:sn=MTIzNDU2NzM");
        let not_utf8 = odd_device_id("12345676").unwrap();
        assert!(not_utf8.starts_with("mn=g1aDg4Fbg3Y=:sn="), "{not_utf8}");
        assert_eq!(odd_device_id("12345679").unwrap(), "SHARP-12345679");
        for odd in [unpadded, not_utf8] {
            assert!(!is_well_formed_device_id(&odd), "{odd}");
        }
    }

    #[test]
    fn documented_view_has_only_documented_fields() {
        let device = sample();
        let strict = Modes {
            documented_fields_only: true,
            ..Modes::default()
        };
        let shown = serde_json::to_value(device.view(0, &strict)).unwrap();
        let mut keys: Vec<&str> = shown
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "deviceId",
                "firmwareVersion",
                "friendlyName",
                "ipAddress",
                "latestFirmwareVersion",
                "modelName",
                "otaEndHour",
                "otaMode",
                "otaSettingStatus",
                "otaStartHour",
                "serialNumber",
                "updateStatus"
            ]
        );
        let full = serde_json::to_value(device.view(0, &Modes::default())).unwrap();
        assert_eq!(full["reservation"], serde_json::Value::Null);
        assert!(full.get("reservation").is_some());
        assert_eq!(full["connectionStatus"], "online");
    }

    #[test]
    fn reservation_walks_through_every_status() {
        let mut device = sample();
        device.reservation = Some(Reservation {
            file_id: "f".into(),
            transfer_ms: 1_000_000,
            time_zone: "UTC+00:00".into(),
            execute: String::new(),
            execute_ms: 1_000_000 + 10 * 60_000,
            installs: Some("1.2.5"),
            will_fail: false,
            fate: UpdateFate::Normal,
        });
        let steps = [
            (999_999, UpdateStatus::Reserved),
            (1_000_000, UpdateStatus::Downloading),
            (1_000_000 + DOWNLOAD_MS, UpdateStatus::Downloaded),
            (1_000_000 + 10 * 60_000, UpdateStatus::Updating),
            (1_000_000 + 10 * 60_000 + UPDATE_MS, UpdateStatus::Completed),
        ];
        for (at, expected) in steps {
            device.settle(at);
            assert_eq!(device.update_status, expected, "at {at}");
        }
        assert_eq!(device.firmware, "1.2.5");
        assert_eq!(device.latest_shown(), "");
        assert!(device.reservation.is_none());
    }

    #[test]
    fn offline_device_stays_reserved() {
        let mut device = sample();
        device.online = false;
        device.reservation = Some(Reservation {
            file_id: "f".into(),
            transfer_ms: 0,
            time_zone: "UTC+00:00".into(),
            execute: String::new(),
            execute_ms: 0,
            installs: Some("1.2.5"),
            will_fail: false,
            fate: UpdateFate::Normal,
        });
        device.settle(i64::MAX / 2);
        assert_eq!(device.update_status, UpdateStatus::Reserved);
    }

    #[test]
    fn ip_sorts_numerically() {
        let mut a = sample();
        let mut b = sample();
        a.ip_num = u32::from(std::net::Ipv4Addr::new(192, 0, 2, 9));
        b.ip_num = u32::from(std::net::Ipv4Addr::new(192, 0, 2, 10));
        assert_eq!(a.compare(&b, DeviceField::IpAddress, 0), Ordering::Less);
    }
}
