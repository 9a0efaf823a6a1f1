//! The device list: `POST /rmm/fss/fwupd/getFirmwareUpdateList`, its request (paging, filters,
//! order) and its page of devices. One unreadable device does not fail the page: it is set
//! aside in `unreadable` with the reason.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::device::Device;
use crate::error::RequestError;
use crate::firmware::{MAX_PAGE_COUNT, check_page};
use crate::lenient;

/// How a filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FilterOperator {
    Equals,
    /// Case-insensitive substring.
    Contains,
}

/// `{"key": <device field>, "value": "...", "operator": "equals"|"contains"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimpleFilter {
    pub key: String,
    pub value: String,
    pub operator: FilterOperator,
}

impl SimpleFilter {
    /// Whether `device` passes this filter as this client reads it; `None` when the key is
    /// not one the client can check (the device is then kept).
    pub fn check(&self, device: &Device) -> Option<bool> {
        let value = self.value.trim();
        let field: std::borrow::Cow<'_, str> = match self.key.as_str() {
            "needsUpdate" => {
                return match value {
                    "true" => Some(device.needs_update()),
                    "false" => Some(!device.needs_update()),
                    _ => None,
                };
            }
            "keyword" => {
                let needle = value.to_lowercase();
                return Some(
                    [
                        &device.friendly_name,
                        &device.model_name,
                        &device.serial_number,
                        &device.ip_address,
                    ]
                    .iter()
                    .any(|text| text.to_lowercase().contains(&needle)),
                );
            }
            "deviceId" => device.device_id.as_str().into(),
            "modelName" => device.model_name.as_str().into(),
            "serialNumber" => device.serial_number.as_str().into(),
            "friendlyName" => device.friendly_name.as_str().into(),
            "ipAddress" => device.ip_address.as_str().into(),
            "firmwareVersion" => device.firmware_version.as_str().into(),
            "latestFirmwareVersion" => device.latest_firmware_version.as_str().into(),
            "updateStatus" => device.update_status.as_str().into(),
            "otaMode" => device.ota_mode.as_str().into(),
            "otaSettingStatus" => device.ota_setting_status.as_str().into(),
            "connectionStatus" => {
                let status = device.connection_status.as_str();
                // A cloud that does not say cannot be checked.
                if status.is_empty() {
                    return None;
                }
                status.into()
            }
            _ => return None,
        };
        Some(match self.operator {
            FilterOperator::Equals => field == value,
            FilterOperator::Contains => field.to_lowercase().contains(&value.to_lowercase()),
        })
    }

    pub fn equals(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            operator: FilterOperator::Equals,
        }
    }

    pub fn contains(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            operator: FilterOperator::Contains,
        }
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Ascending,
    Descending,
}

/// `{"key": <device field>, "order": "ascending"|"descending"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderBy {
    pub key: String,
    pub order: SortOrder,
}

/// A page request for the device list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceListRequest {
    pub start_index: u32,
    /// 1 to 100.
    pub count: u32,
    pub group_id: String,
    pub simple_filters: Vec<SimpleFilter>,
    pub order_by: Vec<OrderBy>,
}

impl DeviceListRequest {
    /// The first page of up to 100 devices of `group_id`, unfiltered, ordered by `otaMode`
    /// ascending: the one order the old tool always sent (so the cloud is known to take it),
    /// rather than a default order nobody knows.
    pub fn new(group_id: impl Into<String>) -> Self {
        Self {
            start_index: 0,
            count: MAX_PAGE_COUNT,
            group_id: group_id.into(),
            simple_filters: Vec::new(),
            order_by: vec![OrderBy {
                key: "otaMode".to_owned(),
                order: SortOrder::Ascending,
            }],
        }
    }

    /// Whether `device` passes every filter this client can check: the cloud's filtering is
    /// an optimisation, never the truth (it may ignore keys it does not know).
    pub fn matches(&self, device: &Device) -> bool {
        self.simple_filters
            .iter()
            .all(|filter| filter.check(device) != Some(false))
    }

    pub fn with_filter(mut self, filter: SimpleFilter) -> Self {
        self.simple_filters.push(filter);
        self
    }

    /// Orders by this key instead of the default `otaMode` (call again to add tie-breaks).
    pub fn ordered_by(mut self, key: impl Into<String>, order: SortOrder) -> Self {
        if self.order_by == Self::new("").order_by {
            self.order_by.clear();
        }
        self.order_by.push(OrderBy {
            key: key.into(),
            order,
        });
        self
    }

    /// Checks the rules the cloud enforces, naming the field that breaks one.
    pub fn validate(&self) -> Result<(), RequestError> {
        check_page(self.count, &self.group_id)?;
        for (i, filter) in self.simple_filters.iter().enumerate() {
            if filter.key.trim().is_empty() {
                return Err(RequestError::new(
                    format!("simpleFilters[{i}].key"),
                    "must name a device field",
                ));
            }
        }
        for (i, order) in self.order_by.iter().enumerate() {
            if order.key.trim().is_empty() {
                return Err(RequestError::new(
                    format!("orderBy[{i}].key"),
                    "must name a device field",
                ));
            }
        }
        Ok(())
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A device entry the client could not read, kept with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnreadableDevice {
    pub raw: Value,
    pub reason: String,
}

/// One page of the device list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevicePage {
    #[serde(default, rename = "deviceList")]
    pub devices: Vec<Device>,
    /// Entries of `deviceList` that were not devices this client can read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<UnreadableDevice>,
    /// Devices the cloud sent that fail the request's filters, left out (the cloud ignored
    /// a filter; `totalCount` then counts more than match).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub filtered_out: usize,
    /// Devices matching the filters in the whole group.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub total_count: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DevicePage {
    /// Leaves out the devices that fail `request`'s filters, counting them in `filtered_out`.
    pub fn recheck(&mut self, request: &DeviceListRequest) {
        if request.simple_filters.is_empty() {
            return;
        }
        let before = self.devices.len();
        self.devices.retain(|device| request.matches(device));
        self.filtered_out += before - self.devices.len();
    }

    /// Reads a page from the answer's JSON text, straight into devices (no JSON tree of the
    /// whole page), setting aside entries that are not readable devices.
    pub fn from_json(text: &[u8]) -> Self {
        let Ok(top) = serde_json::from_slice::<HashMap<String, &RawValue>>(text) else {
            // Not an object: read it the slow way, which tolerates anything.
            return Self::from_answer(serde_json::from_slice(text).unwrap_or(Value::Null));
        };
        let mut rest = Map::new();
        let mut entries: Vec<&RawValue> = Vec::new();
        for (key, raw) in top {
            if key == "deviceList" {
                entries = serde_json::from_str(raw.get()).unwrap_or_default();
            } else if let Ok(value) = serde_json::from_str(raw.get()) {
                rest.insert(key, value);
            }
        }
        let mut page = Self::from_answer(Value::Object(rest));
        for raw in entries {
            match serde_json::from_str::<Device>(raw.get()) {
                Ok(device) => page.devices.push(device),
                Err(e) => {
                    tracing::warn!(error = %e, "skipping an unreadable device entry");
                    page.unreadable.push(UnreadableDevice {
                        raw: serde_json::from_str(raw.get()).unwrap_or(Value::Null),
                        reason: e.to_string(),
                    });
                }
            }
        }
        page
    }

    /// Reads a page, setting aside entries that are not readable devices.
    pub fn from_answer(mut answer: Value) -> Self {
        let list = answer
            .as_object_mut()
            .and_then(|map| map.remove("deviceList"))
            .unwrap_or(Value::Null);
        let mut page: DevicePage = match serde_json::from_value(answer) {
            Ok(page) => page,
            Err(e) => {
                // Only a non-object answer gets here: every field is lenient.
                tracing::warn!(error = %e, "device list answer is not an object");
                DevicePage::default()
            }
        };
        if let Value::Array(entries) = list {
            for raw in entries {
                // `&Value` is a deserializer: no clone of the entry.
                match Device::deserialize(&raw) {
                    Ok(device) => page.devices.push(device),
                    Err(e) => {
                        tracing::warn!(error = %e, "skipping an unreadable device entry");
                        page.unreadable.push(UnreadableDevice {
                            raw,
                            reason: e.to_string(),
                        });
                    }
                }
            }
        }
        page
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_serializes_to_the_documented_shape() {
        let request = DeviceListRequest {
            count: 25,
            ..DeviceListRequest::new("6d167a66")
        }
        .with_filter(SimpleFilter::contains("modelName", "MX"))
        .ordered_by("otaMode", SortOrder::Ascending);
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({"startIndex": 0, "count": 25, "groupId": "6d167a66",
                   "simpleFilters": [{"key": "modelName", "value": "MX", "operator": "contains"}],
                   "orderBy": [{"key": "otaMode", "order": "ascending"}]})
        );
    }

    #[test]
    fn new_orders_by_ota_mode_like_the_old_tool_and_ordered_by_replaces_it() {
        let request = DeviceListRequest::new("g");
        assert_eq!(
            serde_json::to_value(&request).unwrap()["orderBy"],
            json!([{"key": "otaMode", "order": "ascending"}])
        );
        let request = request
            .ordered_by("modelName", SortOrder::Descending)
            .ordered_by("deviceId", SortOrder::Ascending);
        assert_eq!(request.order_by.len(), 2);
        assert_eq!(request.order_by[0].key, "modelName");
    }

    #[test]
    fn filters_are_rechecked_on_what_came_back() {
        let device = |id: &str, model: &str, latest: &str| -> Device {
            serde_json::from_value(json!({"deviceId": id, "modelName": model,
                "friendlyName": "Copy Room", "latestFirmwareVersion": latest, "otaMode": "auto"}))
            .unwrap()
        };
        let mut page = DevicePage {
            devices: vec![
                device("a", "MX-3071", "1.2.5"),
                device("b", "MX-3071", ""),
                device("c", "BP-50C26", "2.1.7"),
            ],
            ..DevicePage::default()
        };
        let request = DeviceListRequest::new("g")
            .with_filter(SimpleFilter::equals("needsUpdate", "true"))
            .with_filter(SimpleFilter::contains("keyword", "copy"))
            .with_filter(SimpleFilter::equals("someKeyWeCannotCheck", "x"));
        page.recheck(&request);
        assert_eq!(page.devices.len(), 2);
        assert_eq!(page.filtered_out, 1);
        let request = request.with_filter(SimpleFilter::equals("modelName", "MX-3071"));
        page.recheck(&request);
        assert_eq!(page.devices.len(), 1);
        assert_eq!(page.devices[0].device_id.as_str(), "a");
        assert_eq!(page.filtered_out, 2);
        // No connection status from the cloud: that filter cannot be checked, the device stays.
        let unknown = SimpleFilter::equals("connectionStatus", "online");
        assert_eq!(unknown.check(&page.devices[0]), None);
    }

    #[test]
    fn validation_names_the_field() {
        let mut request = DeviceListRequest::new("g");
        request.count = 500;
        assert_eq!(request.validate().unwrap_err().field, "count");
        let request = DeviceListRequest::new("g").with_filter(SimpleFilter::equals(" ", "x"));
        assert_eq!(
            request.validate().unwrap_err().field,
            "simpleFilters[0].key"
        );
        let request = DeviceListRequest::new("");
        assert_eq!(request.validate().unwrap_err().field, "groupId");
    }

    #[test]
    fn a_bad_device_is_set_aside_and_the_rest_kept() {
        let page = DevicePage::from_answer(json!({
            "deviceList": [
                {"deviceId": "mn=U2hhcnA=:sn=MTIz", "modelName": "MX-1"},
                {"deviceId": "garbage"},
                {"deviceId": "two words"},
                {"modelName": "no id"}
            ],
            "totalCount": 4, "startIndex": 0, "common": {"errorList": []}
        }));
        // An odd id is still a device; only an unusable one is set aside.
        assert_eq!(page.devices.len(), 2);
        assert!(!page.devices[1].device_id.is_canonical());
        assert_eq!(page.unreadable.len(), 2);
        assert!(
            page.unreadable[0].reason.contains("white space"),
            "{}",
            page.unreadable[0].reason
        );
        assert!(
            page.unreadable[1].reason.contains("deviceId"),
            "{}",
            page.unreadable[1].reason
        );
        assert_eq!(page.total_count, Some(4));
        assert_eq!(page.extra["startIndex"], json!(0));
    }

    #[test]
    fn reading_from_text_equals_reading_from_a_tree() {
        let answer = json!({
            "deviceList": [{"deviceId": "mn=U2hhcnA=:sn=MTIz", "otaMode": "auto", "x": 1}, {"deviceId": null}],
            "totalCount": 2, "count": 100, "common": {"errorList": []}
        });
        let from_text = DevicePage::from_json(answer.to_string().as_bytes());
        let from_tree = DevicePage::from_answer(answer);
        assert_eq!(from_text.devices, from_tree.devices);
        assert_eq!(
            (from_text.total_count, &from_text.extra),
            (from_tree.total_count, &from_tree.extra)
        );
        assert_eq!(from_text.unreadable[0].raw, from_tree.unreadable[0].raw);
        assert_eq!(
            (from_text.devices.len(), from_text.unreadable.len()),
            (1, 1)
        );
        assert_eq!(DevicePage::from_json(b"not json"), DevicePage::default());
    }

    #[test]
    fn a_non_object_answer_is_an_empty_page() {
        assert_eq!(DevicePage::from_json(b"[1, 2]"), DevicePage::default());
        let page = DevicePage::from_answer(json!([1, 2]));
        assert!(page.devices.is_empty());
        assert_eq!(page.total_count, None);
    }
}
