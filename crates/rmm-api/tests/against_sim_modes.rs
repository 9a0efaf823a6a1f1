//! The client against the simulator's other behaviours (its modes): the fleet read holds when
//! devices move between pages, filters the cloud ignores are re-checked, odd device ids are
//! kept as they came, and refusals with HTTP 200 are refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::Arc;

use rmm_api::{
    ApiClient, ApiConfig, ApiError, BearerToken, DeviceId, DeviceListRequest, DeviceSelection,
    OtaMode, OtaSettings, SecretString, SimpleFilter, SortOrder, StaticToken,
};
use rmm_sim::{Modes, Sim, SimConfig};

async fn sim(devices: usize, modes: Modes) -> Sim {
    rmm_sim::start(SimConfig {
        devices,
        modes,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn client(sim: &Sim) -> ApiClient {
    let config = ApiConfig::new(
        &sim.info().api_base_url,
        SecretString::from(sim.info().subscription_key.clone()),
        "+00:00",
    )
    .unwrap();
    let token = BearerToken::new(sim.valid_token()).unwrap();
    ApiClient::new(config, Arc::new(StaticToken::new(token))).unwrap()
}

#[tokio::test]
async fn a_whole_fleet_read_finds_every_device_while_devices_move_between_pages() {
    let sim = sim(
        1000,
        Modes {
            moving_devices: true,
            ..Modes::default()
        },
    )
    .await;
    let client = client(&sim);
    let group = sim.info().group_id.clone();
    // Small pages and no orderBy: the most a shifting order can do.
    let mut template = DeviceListRequest::new(&group);
    template.order_by.clear();
    template.count = 25;
    let fleet = client.fetch_all_devices(&template, |_| {}).await.unwrap();
    let ids: HashSet<&str> = fleet.devices.iter().map(|d| d.device_id.as_str()).collect();
    assert_eq!(ids.len(), fleet.devices.len(), "no device listed twice");
    assert_eq!(fleet.devices.len(), 1000, "every device found");
    assert_eq!(fleet.missing, 0);
    assert!(fleet.seen_twice > 0, "the order did shift while reading");
    assert!(fleet.reads > 1, "a device went missing and was read again");
}

#[tokio::test]
async fn the_default_order_is_the_old_tools_and_holds_in_a_shuffled_cloud() {
    let sim = sim(
        300,
        Modes {
            shuffled_order: true,
            ..Modes::default()
        },
    )
    .await;
    let client = client(&sim);
    let fleet = client
        .fetch_all_devices(&DeviceListRequest::new(&sim.info().group_id), |_| {})
        .await
        .unwrap();
    assert_eq!(fleet.devices.len(), 300);
    assert_eq!(fleet.reads, 1);
    let modes: Vec<&str> = fleet.devices.iter().map(|d| d.ota_mode.as_str()).collect();
    assert!(modes.windows(2).all(|w| w[0] <= w[1]), "ordered by otaMode");
}

#[tokio::test]
async fn filters_a_cloud_ignores_are_rechecked_on_every_page() {
    let sim = sim(
        300,
        Modes {
            unknown_filters_ignored: true,
            ..Modes::default()
        },
    )
    .await;
    let client = client(&sim);
    let group = sim.info().group_id.clone();
    let template =
        DeviceListRequest::new(&group).with_filter(SimpleFilter::equals("needsUpdate", "true"));
    let fleet = client.fetch_all_devices(&template, |_| {}).await.unwrap();
    assert!(!fleet.devices.is_empty());
    assert!(fleet.devices.iter().all(|d| d.needs_update()));
    assert!(fleet.filtered_out > 0, "the cloud ignored the filter");
    assert_eq!(
        (fleet.devices.len() + fleet.filtered_out) as u64,
        fleet.total_count
    );
    assert_eq!(fleet.missing, 0);
    // One page too: what comes back is what was asked for.
    let page = client
        .device_page(&DeviceListRequest {
            count: 50,
            ..template.clone()
        })
        .await
        .unwrap();
    assert!(page.devices.iter().all(|d| d.needs_update()));
    assert_eq!(page.devices.len() + page.filtered_out, 50);
}

#[tokio::test]
async fn odd_device_ids_are_listed_as_they_came_and_changes_reach_them() {
    let sim = sim(
        300,
        Modes {
            odd_device_ids: true,
            ..Modes::default()
        },
    )
    .await;
    let client = client(&sim);
    let group = sim.info().group_id.clone();
    let fleet = client
        .fetch_all_devices(
            &DeviceListRequest::new(&group).ordered_by("deviceId", SortOrder::Ascending),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(fleet.devices.len(), 300, "no device dropped for its id");
    assert!(fleet.unreadable.is_empty());
    let odd: Vec<&DeviceId> = fleet
        .devices
        .iter()
        .map(|d| &d.device_id)
        .filter(|id| !id.is_canonical())
        .collect();
    assert!(odd.len() > 50, "{} odd ids", odd.len());
    let target = odd[0].clone();
    let outcome = client
        .set_ota_mode(&OtaSettings {
            group_id: group.clone(),
            selection: DeviceSelection::only(vec![target.clone()]),
            ota_mode: OtaMode::Off,
            ota_start_hour: -1,
            ota_end_hour: -1,
        })
        .await
        .unwrap();
    assert!(
        matches!(outcome, rmm_api::ChangeOutcome::Confirmed(_)),
        "{outcome:?}"
    );
    assert_eq!(sim.device(target.as_str()).unwrap()["otaMode"], "off");
}

#[tokio::test]
async fn a_refusal_with_http_200_is_a_refusal() {
    let sim = sim(
        50,
        Modes {
            refusals_as_200: true,
            ..Modes::default()
        },
    )
    .await;
    let client = client(&sim);
    let missing = DeviceId::new("Sharp", "NO-SUCH-SERIAL").unwrap();
    let error = client
        .set_ota_mode(&OtaSettings {
            group_id: sim.info().group_id.clone(),
            selection: DeviceSelection::only(vec![missing]),
            ota_mode: OtaMode::Off,
            ota_start_hour: -1,
            ota_end_hour: -1,
        })
        .await
        .unwrap_err();
    match &error {
        ApiError::Rejected { status, errors } => {
            assert_eq!(*status, 200);
            assert_eq!(errors.0[0].code, "DEVICE_NOT_FOUND");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(sim.stats().change_requests, 0);
}
