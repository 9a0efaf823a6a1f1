//! Staged firmware files: `POST /rmm/fss/fwupd/getFirmwareDataList`, request and answer.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::RequestError;
use crate::lenient;

/// Most entries the cloud returns per page.
pub const MAX_PAGE_COUNT: u32 = 100;

/// One firmware file staged in the cloud.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirmwareFile {
    #[serde(default, deserialize_with = "lenient::string")]
    pub file_id: String,
    /// e.g. "MX-3071 Firmware v1.2.5": the only place that tells which models it fits.
    #[serde(default, deserialize_with = "lenient::string")]
    pub file_title: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub file_name: String,
    /// Bytes.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub file_size: Option<u64>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub upload_date: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A page request for the firmware file list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FirmwareListRequest {
    pub start_index: u32,
    /// 1 to 100.
    pub count: u32,
    pub group_id: String,
}

impl FirmwareListRequest {
    /// The first page of up to 100 files of `group_id`.
    pub fn new(group_id: impl Into<String>) -> Self {
        Self {
            start_index: 0,
            count: MAX_PAGE_COUNT,
            group_id: group_id.into(),
        }
    }

    /// Checks the rules the cloud enforces, naming the field that breaks one.
    pub fn validate(&self) -> Result<(), RequestError> {
        check_page(self.count, &self.group_id)
    }
}

/// The paging and group rules shared by the two list requests.
pub(crate) fn check_page(count: u32, group_id: &str) -> Result<(), RequestError> {
    if !(1..=MAX_PAGE_COUNT).contains(&count) {
        return Err(RequestError::new(
            "count",
            format!("must be between 1 and {MAX_PAGE_COUNT}, got {count}"),
        ));
    }
    crate::changes::check_group_id(group_id)
}

/// One page of the firmware file list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirmwareFilePage {
    #[serde(
        default,
        rename = "firmwareDataList",
        deserialize_with = "lenient::list"
    )]
    pub files: Vec<FirmwareFile>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub total_count: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_serializes_to_the_wire_shape() {
        let request = FirmwareListRequest::new("g1");
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({"startIndex": 0, "count": 100, "groupId": "g1"})
        );
    }

    #[test]
    fn count_out_of_range_is_refused_naming_the_field() {
        let mut request = FirmwareListRequest::new("g1");
        request.count = 101;
        let err = request.validate().unwrap_err();
        assert_eq!(err.field, "count");
        assert!(err.to_string().contains("between 1 and 100"), "{err}");
        request.count = 0;
        assert!(request.validate().is_err());
    }

    #[test]
    fn reads_a_page_with_odd_sizes() {
        let page: FirmwareFilePage = serde_json::from_value(json!({
            "firmwareDataList": [
                {"fileId": "f1", "fileTitle": "MX-3071 Firmware v1.2.5", "fileName": "mx3071_v125.bin",
                 "fileSize": 52428800, "uploadDate": "2025-01-01"},
                {"fileId": "f2", "fileSize": "12"}
            ],
            "totalCount": 2
        }))
        .unwrap();
        assert_eq!(page.files.len(), 2);
        assert_eq!(page.files[0].file_size, Some(52_428_800));
        assert_eq!(page.files[1].file_size, Some(12));
        assert_eq!(page.total_count, Some(2));
    }
}
