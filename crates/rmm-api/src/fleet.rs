//! Fetching a whole fleet: the first page tells the total, the other pages follow with
//! bounded concurrency that halves when the cloud rate-limits and creeps back up after.
//! Devices come back in the cloud's order.
//!
//! Nothing in an answer is trusted to size anything: a `totalCount` beyond
//! [`MAX_PLAUSIBLE_DEVICES`] is an error, and lists grow as pages arrive. The cloud's order may
//! shift while the pages are read (a device moving between pages is seen twice, or not at
//! all): when fewer distinct devices came than the cloud counted, the pages are read again
//! (at most [`MAX_REREADS`] times) and the sightings merged; what is still missing is counted
//! in [`Fleet::missing`].

use std::collections::{BTreeMap, HashMap};

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use serde::Serialize;

use crate::client::{ApiClient, DEVICE_LIST_PATH};
use crate::device::Device;
use crate::device_id::DeviceId;
use crate::device_list::{DeviceListRequest, DevicePage, UnreadableDevice};
use crate::error::ApiError;

/// The most devices a group is believed to hold; a larger `totalCount` is refused as an answer
/// that cannot be right (the cloud's own dashboard pages through 100 at a time).
pub const MAX_PLAUSIBLE_DEVICES: u64 = 1_000_000;

/// Full re-reads after the first, when devices went missing between pages.
pub const MAX_REREADS: usize = 2;

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
    /// `totalCount` from the first page of the last read.
    pub total_count: u64,
    pub pages: usize,
    /// 429 answers met on the way.
    pub rate_limited: u32,
    /// Full reads made: 1, or more when devices moved between pages.
    pub reads: usize,
    /// Devices seen on more than one page of one read (the order shifted while reading).
    pub seen_twice: usize,
    /// Devices the cloud counted that no read showed (0 when every one was found).
    pub missing: u64,
    /// Devices the cloud sent that fail the template's filters (it ignored a filter).
    pub filtered_out: usize,
}

/// One pass over every page.
struct Pass {
    pages: BTreeMap<usize, DevicePage>,
    total_count: u64,
    pages_total: usize,
    rate_limited: u32,
}

fn plausible_total(total: u64) -> Result<u64, ApiError> {
    if total > MAX_PLAUSIBLE_DEVICES {
        return Err(ApiError::Decode {
            endpoint: DEVICE_LIST_PATH.to_owned(),
            message: format!(
                "totalCount {total} is not a plausible number of devices (at most {MAX_PLAUSIBLE_DEVICES})"
            ),
        });
    }
    Ok(total)
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
        let mut fleet = Fleet::default();
        // Newest sighting of each device, in the order of first sighting, and where each is.
        let mut devices: Vec<Device> = Vec::new();
        let mut position: HashMap<DeviceId, usize> = HashMap::new();
        loop {
            let pass = self.read_pass(template, &mut progress).await?;
            fleet.reads += 1;
            fleet.total_count = pass.total_count;
            fleet.pages = pass.pages_total;
            fleet.rate_limited += pass.rate_limited;
            // Sized from what arrived, never from the cloud's count.
            let arrived: usize = pass.pages.values().map(|p| p.devices.len()).sum();
            devices.reserve(arrived.saturating_sub(devices.len()));
            position.reserve(arrived.saturating_sub(position.len()));
            let mut in_this_pass = 0usize;
            let mut seen_now = vec![false; devices.len()];
            let mut unreadable = Vec::new();
            let mut filtered_out = 0;
            for page in pass.pages.into_values() {
                unreadable.extend(page.unreadable);
                filtered_out += page.filtered_out;
                for device in page.devices {
                    in_this_pass += 1;
                    match position.get(&device.device_id) {
                        Some(&i) if seen_now[i] => fleet.seen_twice += 1,
                        Some(&i) => {
                            seen_now[i] = true;
                            devices[i] = device;
                        }
                        None => {
                            position.insert(device.device_id.clone(), devices.len());
                            seen_now.push(true);
                            devices.push(device);
                        }
                    }
                }
            }
            fleet.unreadable = unreadable;
            fleet.filtered_out = filtered_out;
            // Everything the cloud counted: devices kept, set aside, or left out by the filter.
            let accounted = (devices.len() + fleet.unreadable.len() + filtered_out) as u64;
            fleet.missing = pass.total_count.saturating_sub(accounted);
            tracing::debug!(
                read = fleet.reads,
                in_this_pass,
                distinct = devices.len(),
                missing = fleet.missing,
                "fleet read"
            );
            if fleet.missing == 0 || fleet.reads > MAX_REREADS {
                break;
            }
            tracing::info!(
                missing = fleet.missing,
                "devices moved between pages while reading the fleet; reading it again"
            );
        }
        if fleet.missing > 0 {
            tracing::warn!(
                missing = fleet.missing,
                reads = fleet.reads,
                "the cloud counted more devices than any read showed"
            );
        }
        fleet.devices = devices;
        Ok(fleet)
    }

    /// Reads every page once; pages are kept by index as they arrive (never a list sized from
    /// the cloud's count).
    async fn read_pass(
        &self,
        template: &DeviceListRequest,
        progress: &mut impl FnMut(&FleetProgress),
    ) -> Result<Pass, ApiError> {
        let page_size = template.count;
        let page_request = |index: usize| DeviceListRequest {
            start_index: u32::try_from(index)
                .unwrap_or(u32::MAX)
                .saturating_mul(page_size),
            ..template.clone()
        };
        let (first, first_stats) = self.device_page_with_stats(&page_request(0)).await?;
        let seen_on_first =
            (first.devices.len() + first.unreadable.len() + first.filtered_out) as u64;
        let total_count = plausible_total(first.total_count.unwrap_or(seen_on_first))?;
        // Bounded by the plausible total: at most 1,000,000 pages of one device.
        let pages_total = usize::try_from(total_count.div_ceil(u64::from(page_size.max(1))))
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
        let mut pages = BTreeMap::new();
        pages.insert(0, first);
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
            if let Some(total) = page.total_count {
                plausible_total(total)?;
            }
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
            pages.insert(index, page);
            done += 1;
            report(done, devices_done, concurrency);
        }
        Ok(Pass {
            pages,
            total_count,
            pages_total,
            rate_limited,
        })
    }
}
