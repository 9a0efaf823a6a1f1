//! Generates the deterministic fleet of a seed: tenants, their devices and staged firmware files.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;
use serde::Serialize;

use crate::device::{Device, OtaMode, UpdateStatus, device_id_for, odd_device_id};
use crate::modes::Modes;

/// A Sharp model and its firmware history (oldest first; the last is the newest).
pub struct ModelSpec {
    pub name: &'static str,
    pub versions: &'static [&'static str],
}

pub const MODELS: &[ModelSpec] = &[
    ModelSpec {
        name: "MX-3071",
        versions: &["1.1.0", "1.2.3", "1.2.5"],
    },
    ModelSpec {
        name: "MX-3571",
        versions: &["1.1.2", "1.2.5", "1.3.0"],
    },
    ModelSpec {
        name: "MX-4071",
        versions: &["1.0.8", "1.2.0", "1.2.4"],
    },
    ModelSpec {
        name: "MX-5071",
        versions: &["1.0.8", "1.2.0", "1.2.4"],
    },
    ModelSpec {
        name: "MX-6071",
        versions: &["1.1.0", "1.2.1"],
    },
    ModelSpec {
        name: "BP-50C26",
        versions: &["2.0.3", "2.1.0", "2.1.7"],
    },
    ModelSpec {
        name: "BP-70C45",
        versions: &["2.0.1", "2.1.2"],
    },
    ModelSpec {
        name: "MX-M3071",
        versions: &["1.3.0", "1.4.2"],
    },
    ModelSpec {
        name: "MX-B467F",
        versions: &["3.0.5", "3.1.0", "3.2.1"],
    },
    ModelSpec {
        name: "MX-2651",
        versions: &["4.0.1", "4.1.0"],
    },
    ModelSpec {
        name: "BP-B537WR",
        versions: &["1.0.0", "1.0.4"],
    },
];

/// The three documentation address blocks (RFC 5737): the only addresses the fleet uses.
pub const IP_BLOCKS: [[u8; 3]; 3] = [[192, 0, 2], [198, 51, 100], [203, 0, 113]];

/// Share of devices on an older firmware, and of devices offline.
const NEEDS_UPDATE_SHARE: f64 = 0.35;
const OFFLINE_SHARE: f64 = 0.08;

const SITES: &[&str] = &[
    "Osaka HQ",
    "Tokyo Branch",
    "Chicago Office",
    "Hamburg Office",
    "London Office",
    "Sydney Office",
    "Toronto Office",
    "Singapore Hub",
];
const ROOMS: &[&str] = &[
    "Copy Room",
    "Reception",
    "Finance",
    "HR",
    "Mail Room",
    "Engineering",
    "Sales",
    "Print Hub",
    "Legal",
    "Warehouse",
];

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FirmwareFile {
    pub file_id: String,
    pub file_title: String,
    pub file_name: String,
    pub file_size: u64,
    pub upload_date: String,
    #[serde(skip)]
    pub model: &'static str,
    #[serde(skip)]
    pub version: &'static str,
}

/// A group of devices; the user may see only some tenants.
#[derive(Debug)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub devices: Vec<Device>,
    pub index: HashMap<String, usize>,
    /// `odd-device-ids` mode: the odd id of a device to its index.
    pub odd_index: HashMap<String, usize>,
    /// The default order in `shuffled-order` / `moving-devices` mode: device indices by
    /// position, and each device's position.
    pub order: Vec<u32>,
    pub rank: Vec<u32>,
    /// List requests seen in `moving-devices` mode (decides which device moves next).
    pub moves: u64,
    pub files: Vec<FirmwareFile>,
}

impl Tenant {
    /// The device an id names in these modes: in `odd-device-ids` mode a device showing an odd
    /// id is found only by it, as a cloud that knows only that id would.
    pub fn lookup(&self, id: &str, modes: &Modes) -> Option<usize> {
        if !modes.odd_device_ids {
            return self.index.get(id).copied();
        }
        if let Some(&n) = self.odd_index.get(id) {
            return Some(n);
        }
        let n = *self.index.get(id)?;
        self.devices
            .get(n)
            .is_some_and(|d| d.odd_id.is_none())
            .then_some(n)
    }

    /// Index by either id, for the control endpoint.
    pub fn lookup_any(&self, id: &str) -> Option<usize> {
        self.index
            .get(id)
            .or_else(|| self.odd_index.get(id))
            .copied()
    }

    /// `moving-devices` mode: one device (another each time) moves to the front of the order.
    pub fn move_one(&mut self) {
        let n = self.order.len();
        if n < 2 {
            return;
        }
        self.moves = self.moves.wrapping_add(1);
        // A fixed odd multiplier walks through positions without repeating soon.
        let from = usize::try_from(self.moves.wrapping_mul(7919) % n as u64).unwrap_or(0);
        let device = self.order.remove(from);
        self.order.insert(0, device);
        for (position, &i) in self.order.iter().enumerate().take(from + 1) {
            if let Some(rank) = self.rank.get_mut(i as usize) {
                *rank = u32::try_from(position).unwrap_or(u32::MAX);
            }
        }
    }
    pub fn file(&self, file_id: &str) -> Option<&FirmwareFile> {
        self.files.iter().find(|f| f.file_id == file_id)
    }
}

pub fn uuid_from(rng: &mut ChaCha20Rng) -> String {
    let bytes: [u8; 16] = rng.r#gen();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Builds one tenant; `serials` keeps serial numbers unique across tenants.
pub fn generate_tenant(
    rng: &mut ChaCha20Rng,
    name: &str,
    device_count: usize,
    serials: &mut HashSet<String>,
) -> Tenant {
    let id = uuid_from(rng);
    let mut devices: Vec<Device> = (0..device_count)
        .map(|n| generate_device(rng, n, serials))
        .collect();
    // Stored in deviceId order: the list's default order and its sort tie-break.
    devices.sort_unstable_by(|a, b| a.device_id.cmp(&b.device_id));
    let index = devices
        .iter()
        .enumerate()
        .map(|(n, d)| (d.device_id.clone(), n))
        .collect();
    let odd_index = devices
        .iter()
        .enumerate()
        .filter_map(|(n, d)| Some((d.odd_id.clone()?, n)))
        .collect();
    // Another fixed order: by a hash of the serial (not by deviceId).
    let mut order: Vec<u32> = (0..devices.len())
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
        .collect();
    order.sort_by_cached_key(|&n| {
        devices
            .get(n as usize)
            .map(|d| shuffle_key(&d.serial))
            .unwrap_or(0)
    });
    let mut rank = vec![0u32; devices.len()];
    for (position, &n) in order.iter().enumerate() {
        if let Some(slot) = rank.get_mut(n as usize) {
            *slot = u32::try_from(position).unwrap_or(u32::MAX);
        }
    }
    let files = generate_files(rng);
    Tenant {
        id,
        name: name.to_string(),
        devices,
        index,
        odd_index,
        order,
        rank,
        moves: 0,
        files,
    }
}

/// Puts about `share` of the tenant's devices that run their model's newest firmware on an
/// older one (`SimConfig::outdated_share`: a fleet where most printers need an update).
pub fn outdate(tenant: &mut Tenant, rng: &mut ChaCha20Rng, share: f64) {
    for device in &mut tenant.devices {
        let Some(spec) = MODELS.iter().find(|m| m.name == device.model) else {
            continue;
        };
        if device.firmware == device.newest && spec.versions.len() > 1 && rng.gen_bool(share) {
            device.firmware = spec.versions[rng.gen_range(0..spec.versions.len() - 1)];
        }
    }
}

/// FNV-1a of the serial: a deterministic order unrelated to `deviceId`.
fn shuffle_key(serial: &str) -> u64 {
    serial.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn generate_device(rng: &mut ChaCha20Rng, n: usize, serials: &mut HashSet<String>) -> Device {
    let spec = &MODELS[rng.gen_range(0..MODELS.len())];
    let serial = loop {
        let candidate = format!("{:08}", rng.gen_range(10_000_000u32..100_000_000));
        if serials.insert(candidate.clone()) {
            break candidate;
        }
    };
    let newest = spec.versions[spec.versions.len() - 1];
    let firmware = if rng.gen_bool(NEEDS_UPDATE_SHARE) && spec.versions.len() > 1 {
        spec.versions[rng.gen_range(0..spec.versions.len() - 1)]
    } else {
        newest
    };
    let block = IP_BLOCKS[rng.gen_range(0..IP_BLOCKS.len())];
    let host: u8 = rng.gen_range(1..=254);
    let ip = Ipv4Addr::new(block[0], block[1], block[2], host);
    let site = SITES[rng.gen_range(0..SITES.len())];
    let floor = rng.gen_range(1..=12);
    let room = ROOMS[rng.gen_range(0..ROOMS.len())];
    let online = !rng.gen_bool(OFFLINE_SHARE);
    let (ota_mode, ota_start, ota_end) = match rng.gen_range(0..20) {
        0..=10 => (OtaMode::Auto, 2, 4),
        11..=12 => (OtaMode::Auto, -1, -1),
        13..=17 => (OtaMode::Confirmation, 1, 5),
        _ => (OtaMode::Off, -1, -1),
    };
    // Some offline devices still carry an OTA change they never received.
    let ota_changed_at = (!online && rng.gen_bool(0.5)).then_some(0);
    let friendly_name = format!("{room} {floor}F #{:03}", n % 1000);
    let location = format!("{site} / Floor {floor}");
    let ip_text = ip.to_string();
    let search_text = format!(
        "{friendly_name}\u{1f}{}\u{1f}{serial}\u{1f}{ip_text}",
        spec.name
    )
    .to_lowercase();
    Device {
        device_id: device_id_for("Sharp", &serial),
        odd_id: odd_device_id(&serial),
        model: spec.name,
        serial,
        friendly_name,
        ip: ip_text,
        ip_num: u32::from(ip),
        firmware,
        newest,
        update_status: UpdateStatus::None,
        ota_mode,
        ota_start,
        ota_end,
        ota_changed_at,
        online,
        location,
        reservation: None,
        search_text,
    }
}

/// One file per model for its newest firmware, and for some models the one before.
fn generate_files(rng: &mut ChaCha20Rng) -> Vec<FirmwareFile> {
    let mut files = Vec::new();
    for spec in MODELS {
        let staged = if rng.gen_bool(0.4) && spec.versions.len() > 1 {
            &spec.versions[spec.versions.len() - 2..]
        } else {
            &spec.versions[spec.versions.len() - 1..]
        };
        for version in staged {
            let compact_model: String = spec
                .name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_lowercase();
            let compact_version: String = version.chars().filter(|c| *c != '.').collect();
            files.push(FirmwareFile {
                file_id: uuid_from(rng),
                file_title: format!("{} Firmware v{version}", spec.name),
                file_name: format!("{compact_model}_v{compact_version}.bin"),
                file_size: rng.gen_range(40u64..300) * 1024 * 1024,
                upload_date: format!(
                    "2025-{:02}-{:02}T{:02}:{:02}:00Z",
                    rng.gen_range(1..=9),
                    rng.gen_range(1..=28),
                    rng.gen_range(0..24),
                    rng.gen_range(0..60)
                ),
                model: spec.name,
                version,
            });
        }
    }
    files.shuffle(rng);
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn tenant(seed: u64, n: usize) -> Tenant {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        generate_tenant(&mut rng, "t", n, &mut HashSet::new())
    }

    #[test]
    fn same_seed_same_fleet_other_seed_other_fleet() {
        let a = tenant(7, 50);
        let b = tenant(7, 50);
        let c = tenant(8, 50);
        let ids = |t: &Tenant| {
            t.devices
                .iter()
                .map(|d| d.device_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&a), ids(&b));
        assert_eq!(a.id, b.id);
        assert_ne!(ids(&a), ids(&c));
    }

    #[test]
    fn an_outdated_fleet_has_every_model_with_an_older_firmware_on_one() {
        let mut t = tenant(7, 400);
        let newest_before = t.devices.iter().filter(|d| d.firmware == d.newest).count();
        assert!(newest_before > 100, "{newest_before}");
        outdate(&mut t, &mut ChaCha20Rng::seed_from_u64(1), 1.0);
        for d in &t.devices {
            let older = MODELS
                .iter()
                .find(|m| m.name == d.model)
                .is_some_and(|m| m.versions.len() > 1);
            assert_eq!(d.firmware == d.newest, !older, "{} {}", d.model, d.firmware);
        }
    }

    #[test]
    fn moves_keep_the_order_a_permutation_with_matching_ranks() {
        let mut t = tenant(2, 300);
        let before = t.order.clone();
        assert_ne!(before, (0..300).collect::<Vec<u32>>(), "shuffled");
        for _ in 0..50 {
            t.move_one();
        }
        assert_ne!(t.order, before);
        let mut sorted = t.order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..300).collect::<Vec<u32>>());
        for (position, &n) in t.order.iter().enumerate() {
            assert_eq!(t.rank[n as usize] as usize, position);
        }
    }

    #[test]
    fn odd_ids_are_found_only_in_odd_mode_and_hide_the_canonical_one() {
        let t = tenant(4, 300);
        let odd = Modes {
            odd_device_ids: true,
            ..Modes::default()
        };
        let (n, device) = t
            .devices
            .iter()
            .enumerate()
            .find(|(_, d)| d.odd_id.is_some())
            .unwrap();
        let odd_id = device.odd_id.clone().unwrap();
        assert_eq!(t.lookup(&odd_id, &odd), Some(n));
        assert_eq!(t.lookup(&odd_id, &Modes::default()), None);
        assert_eq!(t.lookup(&device.device_id, &odd), None);
        assert_eq!(t.lookup(&device.device_id, &Modes::default()), Some(n));
        assert_eq!(t.lookup_any(&odd_id), Some(n));
        let share = t.odd_index.len() as f64 / 300.0;
        assert!((0.2..0.45).contains(&share), "{share}");
    }

    #[test]
    fn addresses_only_from_documentation_blocks() {
        for device in tenant(3, 2000).devices {
            let octets: Ipv4Addr = device.ip.parse().unwrap();
            let prefix = [octets.octets()[0], octets.octets()[1], octets.octets()[2]];
            assert!(IP_BLOCKS.contains(&prefix), "{}", device.ip);
        }
    }

    #[test]
    fn fleet_has_a_realistic_mix() {
        let t = tenant(1, 1000);
        let needing = t
            .devices
            .iter()
            .filter(|d| !d.latest_shown().is_empty())
            .count();
        let offline = t.devices.iter().filter(|d| !d.online).count();
        assert!((200..450).contains(&needing), "{needing}");
        assert!((30..150).contains(&offline), "{offline}");
        assert_eq!(t.index.len(), 1000, "device ids are unique");
    }

    #[test]
    fn every_model_has_a_file_for_its_newest_firmware_named_after_it() {
        let t = tenant(1, 1);
        for spec in MODELS {
            let newest = spec.versions[spec.versions.len() - 1];
            let file = t
                .files
                .iter()
                .find(|f| f.model == spec.name && f.version == newest)
                .unwrap();
            assert!(file.file_title.contains(spec.name));
        }
        let mx = t
            .files
            .iter()
            .find(|f| f.model == "MX-3071" && f.version == "1.2.5")
            .unwrap();
        assert_eq!(mx.file_name, "mx3071_v125.bin");
    }
}
