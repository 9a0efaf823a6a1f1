//! Fetching a whole fleet: the first page tells the total, the other pages follow with
//! bounded concurrency that halves when the cloud rate-limits and creeps back up after.
//! Devices come back in the cloud's order.

use std::collections::HashSet;

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use serde::Serialize;

use crate::client::ApiClient;
use crate::device::Device;
use crate::device_list::{DeviceListRequest, DevicePage, UnreadableDevice};
use crate::error::ApiError;

/// How far a fleet fetch has got; given to the progress callback after each page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FleetProgress {
    pub pages_done: usize,
    pub pages_total: usize,
    pub devices_done: usize,
    /// `totalCount` from the first page.
    pub total_count: u64,
    /// Pages allowed in flight now.
    pub concurrency: usize,
}

/// Every device of a group (matching the template's filters).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Fleet {
    pub devices: Vec<Device>,
    pub unreadable: Vec<UnreadableDevice>,
    /// `totalCount` from the first page.
    pub total_count: u64,
    pub pages: usize,
    /// 429 answers met on the way.
    pub rate_limited: u32,
}

impl ApiClient {
    /// Fetches every page of the device list described by `template` (its filters, order and
    /// page size; `startIndex` is ignored), calling `progress` after each page.
    pub async fn fetch_all_devices(
        &self,
        template: &DeviceListRequest,
        mut progress: impl FnMut(&FleetProgress),
    ) -> Result<Fleet, ApiError> {
        template.validate()?;
        let page_size = template.count;
        let page_request = |index: usize| DeviceListRequest {
            start_index: u32::try_from(index)
                .unwrap_or(u32::MAX)
                .saturating_mul(page_size),
            ..template.clone()
        };
        let (first, first_stats) = self.device_page_with_stats(&page_request(0)).await?;
        let total_count = first.total_count.unwrap_or(first.devices.len() as u64);
        let pages_total = usize::try_from(total_count.div_ceil(u64::from(page_size)))
            .unwrap_or(usize::MAX)
            .max(1);
        let max_concurrency = self.config().concurrency;
        let mut concurrency = if first_stats.rate_limited > 0 {
            1
        } else {
            max_concurrency
        };
        let mut rate_limited = first_stats.rate_limited;
        let mut clean_streak = 0usize;
        let mut devices_done = first.devices.len();
        let mut pages: Vec<Option<DevicePage>> = vec![None; pages_total];
        pages[0] = Some(first);
        let mut report = |pages_done, devices_done, concurrency| {
            progress(&FleetProgress {
                pages_done,
                pages_total,
                devices_done,
                total_count,
                concurrency,
            })
        };
        report(1, devices_done, concurrency);

        let mut next = 1;
        let mut done = 1;
        let mut in_flight = FuturesUnordered::new();
        while done < pages_total {
            while in_flight.len() < concurrency && next < pages_total {
                let request = page_request(next);
                let index = next;
                in_flight.push(async move { (index, self.device_page_with_stats(&request).await) });
                next += 1;
            }
            let Some((index, result)) = in_flight.next().await else {
                break;
            };
            let (page, stats) = result?;
            if stats.rate_limited > 0 {
                rate_limited += stats.rate_limited;
                concurrency = (concurrency / 2).max(1);
                clean_streak = 0;
                tracing::info!(
                    concurrency,
                    "rate-limited while fetching the fleet; slowing down"
                );
            } else {
                clean_streak += 1;
                if clean_streak >= concurrency && concurrency < max_concurrency {
                    concurrency += 1;
                    clean_streak = 0;
                }
            }
            devices_done += page.devices.len();
            pages[index] = Some(page);
            done += 1;
            report(done, devices_done, concurrency);
        }

        // Pages may overlap when the fleet changes during the fetch: keep the first sighting.
        let mut seen = HashSet::new();
        let mut fleet = Fleet {
            total_count,
            pages: pages_total,
            rate_limited,
            ..Fleet::default()
        };
        for page in pages.into_iter().flatten() {
            fleet.unreadable.extend(page.unreadable);
            for device in page.devices {
                if seen.insert(device.device_id.clone()) {
                    fleet.devices.push(device);
                }
            }
        }
        Ok(fleet)
    }
}
