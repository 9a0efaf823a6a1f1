//! The planner: a `RolloutPlan` and the fleet as read now become a `RolloutPreview` — the
//! target file of each device, the stratified canary and the waves, when each device's update
//! could first run in its local time, the conflicts (offline, reserved, no fitting file, up to
//! date, outside every window) and a digest naming exactly that plan on exactly those devices.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rmm_api::{ConnectionStatus, Device, OtaMode, UpdateStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::plan::{ExistingReservations, RolloutPlan};
use super::windows::{TimeRules, local_text, ota_window, zone_text};
use crate::change_requests::parse_utc_offset;
use crate::firmware_fit::{fits, model_key};
use crate::fleet_views::FirmwareFileView;
use crate::problems::Problems;

/// What the planner assumes a wave takes before its soak starts, for the preview's estimates.
pub const ASSUMED_WAVE_MINUTES: i64 = 30;

/// The file a device is to get and the version it installs.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TargetView {
    pub model: String,
    pub file_id: String,
    pub file_title: String,
    pub version: String,
    /// Devices of the rollout getting it.
    pub devices: usize,
}

/// One device in a wave.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlannedDevice {
    pub device_id: String,
    pub model: String,
    /// The part of `location` before ` / ` (empty when unknown).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub site: String,
    pub firmware: String,
    pub target_version: String,
    pub file_id: String,
    /// `UTC±hh:mm`, from the plan's time zones.
    pub time_zone: String,
    /// The device's own OTA window (start, end hours), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ota_window: Option<(u8, u8)>,
    /// In OTA `auto` mode: the OTA guard holds it in `confirmation` during the rollout.
    pub ota_auto: bool,
    pub offline: bool,
    /// The file of the reservation the rollout replaces, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces_reservation: Option<String>,
    /// The first instant the update could run if its wave started at the wave's estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_slot_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub first_slot_local: String,
}

/// A wave: the canary is wave 0.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WavePreview {
    pub index: usize,
    /// `canary`, `wave 1`, ...
    pub label: String,
    pub soak_minutes: u32,
    /// If every earlier wave passes its gate as soon as it can.
    pub earliest_start_ms: i64,
    pub devices: Vec<PlannedDevice>,
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// Offline now: its update waits until it is back (it stays in the rollout).
    Offline,
    /// Has a reservation: kept out of the rollout, or replaced, by the plan's choice.
    Reserved,
    /// No staged file fits its model at the target version: left out.
    NoFittingFile,
    /// Already on the target firmware: left out.
    UpToDate,
    /// No allowed instant in the next 60 days (windows, OTA window, blackouts): left out.
    OutsideEveryWindow,
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Conflict {
    pub device_id: String,
    pub model: String,
    pub kind: ConflictKind,
    /// Still part of the rollout (offline, replaced reservation) or left out.
    pub included: bool,
    pub message: String,
}

/// What a rollout plan will do on the fleet as it is now. Start it by passing `digest` back.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RolloutPreview {
    pub name: String,
    pub group_id: String,
    pub plan: RolloutPlan,
    /// Devices in the waves.
    pub total_devices: usize,
    pub targets: Vec<TargetView>,
    pub waves: Vec<WavePreview>,
    pub conflicts: Vec<Conflict>,
    /// Devices the OTA guard holds in `confirmation` for the rollout.
    pub ota_guarded: usize,
    /// One line per notable fact, for people.
    pub notes: Vec<String>,
    /// Names this plan on these devices in this state (not the time estimates).
    pub digest: String,
}

/// The version a staged file installs, from its title ("... v1.2.5") when it says.
pub fn version_of_file(file: &FirmwareFileView) -> Option<String> {
    file.title
        .split_whitespace()
        .filter_map(|t| t.strip_prefix('v').or_else(|| t.strip_prefix('V')))
        .map(|t| t.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()))
        .find(|t| t.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_owned)
}

/// The site of a device: the part of its `location` before ` / ` (empty when there is none).
pub fn site_of(device: &Device) -> String {
    device
        .extra
        .get("location")
        .and_then(Value::as_str)
        .map(|l| l.split(" / ").next().unwrap_or_default().trim().to_owned())
        .unwrap_or_default()
}

fn location_of(device: &Device) -> &str {
    device
        .extra
        .get("location")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A stable pseudo-random order key, so that waves mix models and sites.
fn spread_key(device_id: &str) -> [u8; 8] {
    let hash = Sha256::digest(device_id.as_bytes());
    let mut key = [0u8; 8];
    key.copy_from_slice(&hash[..8]);
    key
}

/// Everything the planner reads.
#[derive(Debug, Clone, Copy)]
pub struct PlanInputs<'a> {
    pub plan: &'a RolloutPlan,
    pub group_id: &'a str,
    /// Every device of the group.
    pub devices: &'a [Device],
    /// Every staged file of the group.
    pub files: &'a [FirmwareFileView],
    /// When the rollout would start, Unix milliseconds.
    pub now_ms: i64,
}

fn selected(plan: &RolloutPlan, d: &Device) -> bool {
    let sel = &plan.devices;
    if !sel.ids.is_empty() {
        return true;
    }
    if sel.needs_update && !d.needs_update() {
        return false;
    }
    if !sel.models.is_empty()
        && !sel
            .models
            .iter()
            .any(|m| model_key(m) == model_key(&d.model_name))
    {
        return false;
    }
    if !sel.firmware.is_empty() && !sel.firmware.iter().any(|f| f.trim() == d.firmware_version) {
        return false;
    }
    if let Some(location) = &sel.location
        && !location_of(d)
            .to_lowercase()
            .contains(&location.trim().to_lowercase())
    {
        return false;
    }
    if let Some(search) = &sel.search {
        let needle = search.trim().to_lowercase();
        let hay = format!(
            "{} {} {} {} {}",
            d.friendly_name,
            d.model_name,
            d.serial_number,
            d.ip_address,
            location_of(d)
        )
        .to_lowercase();
        if !hay.contains(&needle) {
            return false;
        }
    }
    true
}

/// The plan on the fleet: waves, times, conflicts, digest; or every problem of the plan.
pub fn preview_rollout(inputs: PlanInputs<'_>) -> Result<RolloutPreview, Problems> {
    let PlanInputs {
        plan,
        group_id,
        devices,
        files,
        now_ms,
    } = inputs;
    let mut problems = plan.validate();
    // Explicit files: staged, fitting, with a known version.
    let mut explicit: HashMap<String, (&FirmwareFileView, String)> = HashMap::new();
    for (model, file_id) in &plan.target.files {
        let field = format!("target.files.{model}");
        match files.iter().find(|f| f.file_id == file_id.trim()) {
            None => problems.push(
                field,
                format!("no staged firmware file {file_id} in group {group_id}"),
            ),
            Some(file) => {
                if fits(&file.fits_models, model) == Some(false) {
                    problems.push(
                        field.clone(),
                        format!(
                            "file {:?} is for {}, not {model}",
                            file.title,
                            file.fits_models.join(", ")
                        ),
                    );
                }
                match version_of_file(file) {
                    Some(version) => {
                        explicit.insert(model_key(model), (file, version));
                    }
                    None => problems.push(
                        field,
                        format!(
                            "cannot tell which version file {:?} installs (its title names none), so success could not be verified",
                            file.title
                        ),
                    ),
                }
            }
        }
    }
    let by_id: HashMap<String, &Device> = devices
        .iter()
        .map(|d| (d.device_id.to_string(), d))
        .collect();
    let mut chosen: Vec<&Device> = Vec::new();
    if plan.devices.ids.is_empty() {
        chosen.extend(devices.iter().filter(|d| selected(plan, d)));
    } else {
        for (i, id) in plan.devices.ids.iter().enumerate() {
            match by_id.get(id.trim()) {
                Some(d) => chosen.push(d),
                None if id.trim().parse::<rmm_api::DeviceId>().is_ok() => problems.push(
                    format!("devices.ids[{i}]"),
                    format!("no device {} in group {group_id}", id.trim()),
                ),
                None => {}
            }
        }
    }
    problems.into_result()?;
    chosen.sort_by(|a, b| a.device_id.cmp(&b.device_id));
    chosen.dedup_by(|a, b| a.device_id == b.device_id);

    let rules = TimeRules::from_plan(&plan.windows);
    let default_zone = parse_utc_offset(plan.time_zones.default.trim())
        .map_or(0, rmm_api::TimeZoneOffset::minutes);
    let zones: HashMap<&str, i32> = plan
        .time_zones
        .sites
        .iter()
        .filter_map(|(site, z)| Some((site.as_str(), parse_utc_offset(z.trim())?.minutes())))
        .collect();
    let lead_ms = i64::from(plan.execution.transfer_lead_minutes) * 60_000;

    let mut conflicts = Vec::new();
    let mut eligible: Vec<PlannedDevice> = Vec::new();
    let mut targets: BTreeMap<(String, String), TargetView> = BTreeMap::new();
    for d in chosen {
        let id = d.device_id.to_string();
        let conflict = |kind, included, message: String| Conflict {
            device_id: id.clone(),
            model: d.model_name.clone(),
            kind,
            included,
            message,
        };
        let target = match explicit.get(&model_key(&d.model_name)) {
            Some((file, version)) => Some(((*file).clone(), version.clone())),
            None if plan.target.latest && plan.target.files.is_empty() => {
                let wanted = d.latest_firmware_version.trim();
                files
                    .iter()
                    .filter(|f| fits(&f.fits_models, &d.model_name) == Some(true))
                    .find(|f| !wanted.is_empty() && version_of_file(f).as_deref() == Some(wanted))
                    .map(|f| (f.clone(), wanted.to_owned()))
            }
            None => None,
        };
        let Some((file, version)) = target else {
            let message = if d.needs_update() && plan.target.files.is_empty() {
                format!(
                    "{id} ({}): no staged file fits {} at version {}",
                    d.model_name, d.model_name, d.latest_firmware_version
                )
            } else {
                format!(
                    "{id} ({}): the plan names no file for {}",
                    d.model_name, d.model_name
                )
            };
            conflicts.push(conflict(ConflictKind::NoFittingFile, false, message));
            continue;
        };
        if d.firmware_version == version {
            conflicts.push(conflict(
                ConflictKind::UpToDate,
                false,
                format!("{id} ({}) is already on {version}", d.model_name),
            ));
            continue;
        }
        let reserved = d.reservation.is_some()
            || !matches!(
                d.update_status,
                UpdateStatus::None | UpdateStatus::Completed | UpdateStatus::Failed
            );
        let mut replaces = None;
        if reserved {
            let existing = d
                .reservation
                .as_ref()
                .map_or_else(|| "unknown".to_owned(), |r| r.file_id.clone());
            match plan.ota_guard.existing_reservations {
                ExistingReservations::KeepOut => {
                    conflicts.push(conflict(
                        ConflictKind::Reserved,
                        false,
                        format!(
                            "{id} already has file {existing} reserved ({}): kept out of the rollout",
                            d.update_status
                        ),
                    ));
                    continue;
                }
                ExistingReservations::Replace => {
                    conflicts.push(conflict(
                        ConflictKind::Reserved,
                        true,
                        format!(
                            "{id} has file {existing} reserved ({}): the rollout replaces it",
                            d.update_status
                        ),
                    ));
                    replaces = Some(existing);
                }
            }
        }
        let site = site_of(d);
        let offset = zones.get(site.as_str()).copied().unwrap_or(default_zone);
        let ota = ota_window(d.ota_start_hour, d.ota_end_hour);
        if rules.next_allowed(now_ms + lead_ms, offset, ota).is_none() {
            conflicts.push(conflict(
                ConflictKind::OutsideEveryWindow,
                false,
                format!(
                    "{id}: no allowed time in the next 60 days in {} (windows, blackouts{})",
                    zone_text(offset),
                    if plan.windows.respect_ota_window {
                        ", its OTA window"
                    } else {
                        ""
                    }
                ),
            ));
            continue;
        }
        let offline = d.connection_status == ConnectionStatus::Offline;
        if offline {
            conflicts.push(conflict(
                ConflictKind::Offline,
                true,
                format!(
                    "{id} ({}) is offline: its update waits until it is back",
                    d.model_name
                ),
            ));
        }
        let entry = targets
            .entry((d.model_name.clone(), file.file_id.clone()))
            .or_insert_with(|| TargetView {
                model: d.model_name.clone(),
                file_id: file.file_id.clone(),
                file_title: file.title.clone(),
                version: version.clone(),
                devices: 0,
            });
        entry.devices += 1;
        eligible.push(PlannedDevice {
            device_id: id.clone(),
            model: d.model_name.clone(),
            site,
            firmware: d.firmware_version.clone(),
            target_version: version,
            file_id: file.file_id.clone(),
            time_zone: zone_text(offset),
            ota_window: ota.map(|o| (o.start, o.end)),
            ota_auto: d.ota_mode == OtaMode::Auto,
            offline,
            replaces_reservation: replaces,
            first_slot_ms: None,
            first_slot_local: String::new(),
        });
    }

    let mut waves = split_waves(plan, eligible);
    // Estimates: each wave after the previous one's assumed run and soak.
    let mut start = now_ms;
    for wave in &mut waves {
        wave.earliest_start_ms = start;
        for device in &mut wave.devices {
            let offset = parse_utc_offset(&device.time_zone).map_or(0, |z| z.minutes());
            let ota = device
                .ota_window
                .map(|(s, e)| super::plan::HourRange { start: s, end: e });
            device.first_slot_ms = rules.next_allowed(start + lead_ms, offset, ota);
            device.first_slot_local = device
                .first_slot_ms
                .map(|ms| local_text(ms, offset))
                .unwrap_or_default();
        }
        start += (ASSUMED_WAVE_MINUTES + i64::from(wave.soak_minutes)) * 60_000;
    }
    let total_devices = waves.iter().map(|w| w.devices.len()).sum();
    let ota_guarded = if plan.ota_guard.enabled {
        waves
            .iter()
            .flat_map(|w| &w.devices)
            .filter(|d| d.ota_auto)
            .count()
    } else {
        0
    };
    let mut notes = Vec::new();
    if let Some(canary) = waves.first()
        && canary.devices.len() > plan.canary.count
    {
        notes.push(format!(
            "the canary has {} devices instead of {}: it covers every model × current firmware{}",
            canary.devices.len(),
            plan.canary.count,
            if plan.canary.by_site {
                " and every site"
            } else {
                ""
            }
        ));
    }
    if let Some(limit) = plan.windows.site_limit {
        notes.push(format!(
            "at most {limit} devices of one site update at once: a wave's later devices wait for earlier ones"
        ));
    }
    if ota_guarded > 0 {
        notes.push(format!(
            "{ota_guarded} devices in OTA auto mode are held in confirmation during the rollout and restored after"
        ));
    }
    if total_devices == 0 {
        notes.push("no device is left to update: the rollout would do nothing".to_owned());
    }
    let mut preview = RolloutPreview {
        name: plan.name.trim().to_owned(),
        group_id: group_id.to_owned(),
        plan: plan.clone(),
        total_devices,
        targets: targets.into_values().collect(),
        waves,
        conflicts,
        ota_guarded,
        notes,
        digest: String::new(),
    };
    preview.digest = digest_of(&preview);
    Ok(preview)
}

/// Canary (stratified), then the plan's waves of what remains; the last takes the rest.
fn split_waves(plan: &RolloutPlan, eligible: Vec<PlannedDevice>) -> Vec<WavePreview> {
    let sites: BTreeSet<&str> = eligible.iter().map(|d| d.site.as_str()).collect();
    let by_site = plan.canary.by_site && sites.len() > 1;
    // Strata of model × current firmware, each in device-id order with online devices first.
    let mut strata: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, d) in eligible.iter().enumerate() {
        strata
            .entry((d.model.clone(), d.firmware.clone()))
            .or_default()
            .push(i);
    }
    for members in strata.values_mut() {
        members.sort_by_key(|&i| (eligible[i].offline, spread_key(&eligible[i].device_id)));
    }
    let mut in_canary = vec![false; eligible.len()];
    let mut canary: Vec<usize> = Vec::new();
    let mut covered_sites: BTreeSet<String> = BTreeSet::new();
    let mut take = |i: usize, canary: &mut Vec<usize>, covered: &mut BTreeSet<String>| {
        if !in_canary[i] {
            in_canary[i] = true;
            canary.push(i);
            covered.insert(eligible[i].site.clone());
        }
    };
    // One per stratum, preferring a site not yet covered.
    for members in strata.values() {
        let pick = members
            .iter()
            .copied()
            .find(|&i| !eligible[i].offline && !covered_sites.contains(&eligible[i].site))
            .or_else(|| members.first().copied());
        if let Some(i) = pick {
            take(i, &mut canary, &mut covered_sites);
        }
    }
    // One per site not yet covered.
    if by_site {
        for site in &sites {
            if covered_sites.contains(*site) {
                continue;
            }
            let mut candidates: Vec<usize> = (0..eligible.len())
                .filter(|&i| eligible[i].site == *site)
                .collect();
            candidates.sort_by_key(|&i| (eligible[i].offline, spread_key(&eligible[i].device_id)));
            if let Some(&i) = candidates.first() {
                take(i, &mut canary, &mut covered_sites);
            }
        }
    }
    // Fill up to the count round-robin over the strata.
    let mut round = 1;
    while canary.len() < plan.canary.count.min(eligible.len()) {
        let mut added = false;
        for members in strata.values() {
            if canary.len() >= plan.canary.count {
                break;
            }
            if let Some(&i) = members.get(round) {
                take(i, &mut canary, &mut covered_sites);
                added = true;
            }
        }
        if !added {
            break;
        }
        round += 1;
    }
    let mut rest: Vec<usize> = (0..eligible.len()).filter(|&i| !in_canary[i]).collect();
    rest.sort_by_key(|&i| spread_key(&eligible[i].device_id));
    let after_canary = rest.len();

    let mut groups: Vec<(String, u32, Vec<usize>)> = Vec::new();
    canary.sort_by(|&a, &b| eligible[a].device_id.cmp(&eligible[b].device_id));
    groups.push(("canary".to_owned(), plan.canary.soak_minutes, canary));
    let mut next = 0;
    for (n, spec) in plan.waves.iter().enumerate() {
        if next >= rest.len() {
            break;
        }
        let size = match (spec.percent, spec.count) {
            (Some(pc), _) => ((pc / 100.0) * after_canary as f64).ceil() as usize,
            (None, Some(count)) => count,
            (None, None) => 0,
        }
        .max(1);
        let last = n + 1 == plan.waves.len();
        let end = if last {
            rest.len()
        } else {
            (next + size).min(rest.len())
        };
        groups.push((
            format!("wave {}", n + 1),
            spec.soak_minutes,
            rest[next..end].to_vec(),
        ));
        next = end;
    }
    if next < rest.len() {
        // No waves in the plan: what remains is one more wave.
        groups.push((
            format!("wave {}", groups.len()),
            plan.canary.soak_minutes,
            rest[next..].to_vec(),
        ));
    }
    let mut slots: Vec<Option<PlannedDevice>> = eligible.into_iter().map(Some).collect();
    groups
        .into_iter()
        .filter(|(_, _, members)| !members.is_empty())
        .enumerate()
        .map(|(index, (label, soak, members))| WavePreview {
            index,
            label,
            soak_minutes: soak,
            earliest_start_ms: 0,
            devices: members
                .into_iter()
                .filter_map(|i| slots.get_mut(i).and_then(Option::take))
                .collect(),
        })
        .collect()
}

/// SHA-256 of the preview without its time estimates and digest (first 16 bytes, hex).
fn digest_of(preview: &RolloutPreview) -> String {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for key in [
                    "first_slot_ms",
                    "first_slot_local",
                    "earliest_start_ms",
                    "digest",
                ] {
                    map.remove(key);
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(preview).unwrap_or(Value::Null);
    strip(&mut value);
    Sha256::digest(value.to_string().as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_796_169_600_000; // 2026-12-02 00:00 UTC

    fn device(n: usize, model: &str, firmware: &str, latest: &str, site: &str) -> Device {
        serde_json::from_value(json!({
            "deviceId": rmm_api::DeviceId::new("Sharp", &format!("{n:08}")).unwrap().to_string(),
            "modelName": model, "firmwareVersion": firmware, "latestFirmwareVersion": latest,
            "updateStatus": "none", "otaMode": if n.is_multiple_of(2) { "auto" } else { "off" },
            "otaStartHour": 2, "otaEndHour": 4,
            "connectionStatus": if n.is_multiple_of(17) { "offline" } else { "online" },
            "location": format!("{site} / Floor 2"),
        }))
        .unwrap()
    }

    fn file(id: &str, title: &str) -> FirmwareFileView {
        FirmwareFileView::from(
            &serde_json::from_value::<rmm_api::FirmwareFile>(
                json!({"fileId": id, "fileTitle": title, "fileName": ""}),
            )
            .unwrap(),
        )
    }

    fn fleet() -> (Vec<Device>, Vec<FirmwareFileView>) {
        let mut devices = Vec::new();
        for n in 0..200 {
            let (model, fw, latest) = match n % 4 {
                0 => ("MX-3071", "1.2.3", "1.2.5"),
                1 => ("MX-3071", "1.1.0", "1.2.5"),
                2 => ("BP-50C26", "2.0.3", "2.1.7"),
                _ => ("MX-2651", "4.0.1", "4.1.0"),
            };
            let site = ["Osaka HQ", "Chicago Office", "London Office"][n % 3];
            devices.push(device(n, model, fw, latest, site));
        }
        let files = vec![
            file("f-mx", "MX-3071 Firmware v1.2.5"),
            file("f-bp", "BP-50C26 Firmware v2.1.7"),
            file("f-old", "MX-3071 Firmware v1.2.3"),
        ];
        (devices, files)
    }

    fn preview(plan: &RolloutPlan) -> RolloutPreview {
        let (devices, files) = fleet();
        preview_rollout(PlanInputs {
            plan,
            group_id: "g",
            devices: &devices,
            files: &files,
            now_ms: NOW,
        })
        .unwrap()
    }

    #[test]
    fn latest_targets_and_no_fitting_file() {
        let p = preview(&RolloutPlan::named("t"));
        let targets: Vec<(&str, &str)> = p
            .targets
            .iter()
            .map(|t| (t.model.as_str(), t.version.as_str()))
            .collect();
        assert_eq!(targets, vec![("BP-50C26", "2.1.7"), ("MX-3071", "1.2.5")]);
        // MX-2651 has no staged file: 50 devices left out, named.
        let missing: Vec<&Conflict> = p
            .conflicts
            .iter()
            .filter(|c| c.kind == ConflictKind::NoFittingFile)
            .collect();
        assert_eq!(missing.len(), 50);
        assert!(missing[0].message.contains("MX-2651") && !missing[0].included);
        assert_eq!(p.total_devices, 150);
    }

    #[test]
    fn the_canary_covers_every_model_firmware_and_site() {
        let mut plan = RolloutPlan::named("t");
        plan.canary.count = 2;
        let p = preview(&plan);
        let canary = &p.waves[0];
        assert_eq!(canary.label, "canary");
        let strata: BTreeSet<(&str, &str)> = canary
            .devices
            .iter()
            .map(|d| (d.model.as_str(), d.firmware.as_str()))
            .collect();
        assert_eq!(strata.len(), 3, "every model × firmware: {strata:?}");
        let sites: BTreeSet<&str> = canary.devices.iter().map(|d| d.site.as_str()).collect();
        assert_eq!(sites.len(), 3, "every site: {sites:?}");
        assert!(canary.devices.iter().all(|d| !d.offline), "online first");
        assert!(p.notes.iter().any(|n| n.contains("covers every model")));
    }

    #[test]
    fn waves_split_what_remains_and_every_device_is_in_one() {
        let mut plan = RolloutPlan::named("t");
        plan.canary.count = 10;
        plan.waves = vec![
            super::super::plan::WaveSpec {
                percent: Some(10.0),
                count: None,
                soak_minutes: 30,
            },
            super::super::plan::WaveSpec {
                percent: None,
                count: Some(50),
                soak_minutes: 30,
            },
            super::super::plan::WaveSpec {
                percent: Some(10.0),
                count: None,
                soak_minutes: 30,
            },
        ];
        let p = preview(&plan);
        let sizes: Vec<usize> = p.waves.iter().map(|w| w.devices.len()).collect();
        // 150 eligible: canary 10, then 14 (10% of 140, rounded up), 50, and the rest (76).
        assert_eq!(sizes, vec![10, 14, 50, 76]);
        let mut ids: Vec<&str> = p
            .waves
            .iter()
            .flat_map(|w| w.devices.iter().map(|d| d.device_id.as_str()))
            .collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "no device in two waves");
        assert!(p.waves[1].earliest_start_ms > p.waves[0].earliest_start_ms);
    }

    #[test]
    fn local_times_use_the_site_zone_and_windows() {
        let mut plan = RolloutPlan::named("t");
        plan.windows.hours = vec!["22-5".into()];
        plan.time_zones
            .sites
            .insert("Osaka HQ".into(), "UTC+09:00".into());
        let p = preview(&plan);
        let osaka = p
            .waves
            .iter()
            .flat_map(|w| &w.devices)
            .find(|d| d.site == "Osaka HQ")
            .unwrap();
        assert_eq!(osaka.time_zone, "UTC+09:00");
        assert!(
            osaka.first_slot_local.ends_with("22:00 UTC+09:00"),
            "{}",
            osaka.first_slot_local
        );
        // Windows that can never meet the devices' OTA windows leave them out.
        plan.windows.hours = vec!["9-10".into()];
        plan.windows.respect_ota_window = true;
        let none = preview(&plan);
        assert_eq!(none.total_devices, 0);
        assert!(
            none.conflicts
                .iter()
                .any(|c| c.kind == ConflictKind::OutsideEveryWindow)
        );
    }

    #[test]
    fn the_digest_follows_plan_and_fleet_but_not_the_clock() {
        let plan = RolloutPlan::named("t");
        let (mut devices, files) = fleet();
        let run = |devices: &[Device], plan: &RolloutPlan, now| {
            preview_rollout(PlanInputs {
                plan,
                group_id: "g",
                devices,
                files: &files,
                now_ms: now,
            })
            .unwrap()
            .digest
        };
        let a = run(&devices, &plan, NOW);
        assert_eq!(
            a,
            run(&devices, &plan, NOW + 3_600_000),
            "time estimates only"
        );
        let mut other = plan.clone();
        other.gates.success_share = 0.9;
        assert_ne!(a, run(&devices, &other, NOW));
        devices[0].firmware_version = "1.1.0".into();
        assert_ne!(a, run(&devices, &plan, NOW));
    }

    #[test]
    fn reservations_are_kept_out_or_replaced() {
        let (mut devices, files) = fleet();
        devices[0].reservation = Some(rmm_api::Reservation {
            file_id: "f-old".into(),
            ..Default::default()
        });
        devices[0].update_status = UpdateStatus::Reserved;
        let mut plan = RolloutPlan::named("t");
        let run = |plan: &RolloutPlan| {
            preview_rollout(PlanInputs {
                plan,
                group_id: "g",
                devices: &devices,
                files: &files,
                now_ms: NOW,
            })
            .unwrap()
        };
        let kept = run(&plan);
        assert_eq!(kept.total_devices, 149);
        plan.ota_guard.existing_reservations = ExistingReservations::Replace;
        let replaced = run(&plan);
        assert_eq!(replaced.total_devices, 150);
        let d = replaced
            .waves
            .iter()
            .flat_map(|w| &w.devices)
            .find(|d| d.device_id == devices[0].device_id.to_string())
            .unwrap();
        assert_eq!(d.replaces_reservation.as_deref(), Some("f-old"));
    }

    #[test]
    fn explicit_files_and_ids_are_checked_against_the_group() {
        let (devices, files) = fleet();
        let mut plan = RolloutPlan::named("t");
        plan.target.latest = false;
        plan.target.files.insert("MX-3071".into(), "f-bp".into());
        plan.target.files.insert("BP-50C26".into(), "nope".into());
        plan.devices.needs_update = true;
        plan.devices.ids = vec![
            rmm_api::DeviceId::new("Sharp", "99999999")
                .unwrap()
                .to_string(),
        ];
        let problems = preview_rollout(PlanInputs {
            plan: &plan,
            group_id: "g",
            devices: &devices,
            files: &files,
            now_ms: NOW,
        })
        .unwrap_err();
        for field in [
            "target.files.MX-3071",
            "target.files.BP-50C26",
            "devices.ids[0]",
        ] {
            assert!(problems.mentions(field), "{field}: {problems}");
        }
    }
}
