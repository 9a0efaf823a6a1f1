//! `DeviceQuery`: which devices to list (group, filters, page), validated field by field and
//! turned into the cloud's device-list request with server-side filters.

use rmm_api::{DeviceListRequest, OtaMode, SimpleFilter, UpdateStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::problems::Problems;

/// Most devices per page the cloud gives.
pub const MAX_PAGE_SIZE: i64 = 100;

/// Devices per page when the caller names no page size (every face's default).
pub const DEFAULT_PAGE_SIZE: i64 = 25;

/// A device listing: filters plus paging (paging is ignored for a whole-fleet listing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceQuery {
    /// The group; else the token's tenant.
    pub group_id: Option<String>,
    /// Only devices with (true) or without (false) newer firmware on offer.
    pub needs_update: Option<bool>,
    /// Only this model, e.g. "MX-3071".
    pub model: Option<String>,
    /// Only this OTA mode: auto, confirmation or off.
    pub ota_mode: Option<String>,
    /// Only this update status: none, reserved, downloading, downloaded, updating, completed, failed.
    pub update_status: Option<String>,
    /// Text searched in name, model, serial and IP.
    pub text: Option<String>,
    pub start_index: i64,
    pub page_size: i64,
}

impl Default for DeviceQuery {
    fn default() -> Self {
        Self {
            group_id: None,
            needs_update: None,
            model: None,
            ota_mode: None,
            update_status: None,
            text: None,
            start_index: 0,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl DeviceQuery {
    /// Every rule broken, field by field. `whole_fleet` skips the paging rules.
    pub fn validate(&self, whole_fleet: bool) -> Problems {
        let mut problems = Problems::new();
        if !whole_fleet {
            if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
                problems.push(
                    "page_size",
                    format!("must be 1-{MAX_PAGE_SIZE}, got {}", self.page_size),
                );
            }
            if self.start_index < 0 || self.start_index > i64::from(u32::MAX) {
                problems.push(
                    "start_index",
                    format!("must be 0 or more, got {}", self.start_index),
                );
            }
        }
        if let Some(mode) = &self.ota_mode
            && matches!(OtaMode::from(mode.as_str()), OtaMode::Other(_))
        {
            problems.push(
                "ota_mode",
                format!("must be one of {}, got {mode:?}", OtaMode::KNOWN.join(", ")),
            );
        }
        if let Some(status) = &self.update_status
            && matches!(UpdateStatus::from(status.as_str()), UpdateStatus::Other(_))
        {
            problems.push(
                "update_status",
                format!(
                    "must be one of {}, got {status:?}",
                    UpdateStatus::KNOWN.join(", ")
                ),
            );
        }
        for (field, value) in [("model", &self.model), ("text", &self.text)] {
            if let Some(v) = value
                && (v.trim().is_empty() || v.len() > 200 || v.chars().any(char::is_control))
            {
                problems.push(field, "must be 1-200 printable characters when given");
            }
        }
        problems
    }

    /// The cloud request for `group_id` (the resolved group), one page or a whole-fleet template.
    pub fn to_request(&self, group_id: &str, whole_fleet: bool) -> DeviceListRequest {
        let mut request = DeviceListRequest::new(group_id);
        if !whole_fleet {
            request.start_index = u32::try_from(self.start_index).unwrap_or(0);
            // Validated before: 1..=MAX_PAGE_SIZE.
            request.count = u32::try_from(self.page_size.clamp(1, MAX_PAGE_SIZE)).unwrap_or(1);
        }
        if let Some(needs) = self.needs_update {
            request = request.with_filter(SimpleFilter::equals("needsUpdate", needs.to_string()));
        }
        if let Some(model) = &self.model {
            request = request.with_filter(SimpleFilter::equals("modelName", model.trim()));
        }
        if let Some(mode) = &self.ota_mode {
            request = request.with_filter(SimpleFilter::equals("otaMode", mode));
        }
        if let Some(status) = &self.update_status {
            request = request.with_filter(SimpleFilter::equals("updateStatus", status));
        }
        if let Some(text) = &self.text {
            request = request.with_filter(SimpleFilter::contains("keyword", text.trim()));
        }
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let query = DeviceQuery {
            page_size: 0,
            start_index: -1,
            ota_mode: Some("sometimes".into()),
            update_status: Some("done".into()),
            text: Some(" ".into()),
            ..DeviceQuery::default()
        };
        let problems = query.validate(false);
        for field in [
            "page_size",
            "start_index",
            "ota_mode",
            "update_status",
            "text",
        ] {
            assert!(problems.mentions(field), "{field} missing from {problems}");
        }
        assert_eq!(problems.len(), 5);
        assert!(
            query.validate(true).len() == 3,
            "whole fleet ignores paging"
        );
    }

    #[test]
    fn filters_become_cloud_filters() {
        let query = DeviceQuery {
            needs_update: Some(true),
            model: Some("MX-3071".into()),
            ..DeviceQuery::default()
        };
        let request = query.to_request("g", false);
        assert_eq!(request.count, 25);
        assert_eq!(
            request.simple_filters[0],
            SimpleFilter::equals("needsUpdate", "true")
        );
        assert_eq!(
            request.simple_filters[1],
            SimpleFilter::equals("modelName", "MX-3071")
        );
        assert_eq!(query.to_request("g", true).count, 100);
    }
}
