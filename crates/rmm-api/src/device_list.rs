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
    /// The first page of up to 100 devices of `group_id`, unfiltered, in the cloud's order.
    pub fn new(group_id: impl Into<String>) -> Self {
        Self {
            start_index: 0,
            count: MAX_PAGE_COUNT,
            group_id: group_id.into(),
            simple_filters: Vec::new(),
            order_by: Vec::new(),
        }
    }

    pub fn with_filter(mut self, filter: SimpleFilter) -> Self {
        self.simple_filters.push(filter);
        self
    }

    pub fn ordered_by(mut self, key: impl Into<String>, order: SortOrder) -> Self {
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
    /// Devices matching the filters in the whole group.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub total_count: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DevicePage {
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
                {"modelName": "no id"}
            ],
            "totalCount": 3, "startIndex": 0, "common": {"errorList": []}
        }));
        assert_eq!(page.devices.len(), 1);
        assert_eq!(page.unreadable.len(), 2);
        assert!(
            page.unreadable[0].reason.contains("mn="),
            "{}",
            page.unreadable[0].reason
        );
        assert_eq!(page.total_count, Some(3));
        assert_eq!(page.extra["startIndex"], json!(0));
    }

    #[test]
    fn reading_from_text_equals_reading_from_a_tree() {
        let answer = json!({
            "deviceList": [{"deviceId": "mn=U2hhcnA=:sn=MTIz", "otaMode": "auto", "x": 1}, {"deviceId": 5}],
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
