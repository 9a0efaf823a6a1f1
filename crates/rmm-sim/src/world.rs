//! The simulator's mutable fleet state: tenants, simulated clock and updates in progress.

use std::collections::{BTreeSet, HashSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::Value;

use crate::fleet::{Tenant, generate_tenant, outdate};
use crate::modes::Modes;
use crate::rollout_faults::{ReservationRecord, RolloutFaults, UpdateFate};

/// Devices in the tenant the user cannot see.
pub const OTHER_TENANT_DEVICES: usize = 30;
pub const USER_TENANT_NAME: &str = "Sharp Demo Fleet";
pub const OTHER_TENANT_NAME: &str = "Northwind Print Services";

/// RNG streams, so that each purpose draws the same numbers whatever the others do.
pub const STREAM_FLEET: u64 = 1;
pub const STREAM_SECRETS: u64 = 2;
pub const STREAM_FAILURES: u64 = 3;
pub const STREAM_FAULTS: u64 = 4;
pub const STREAM_ROLLOUT_FAULTS: u64 = 5;
pub const STREAM_OUTDATED: u64 = 6;

pub fn seeded(seed: u64, stream: u64) -> ChaCha20Rng {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

pub struct World {
    /// `[0]` is the user's tenant, `[1]` the one the user cannot see.
    pub tenants: Vec<Tenant>,
    /// Per tenant, the devices with a reservation still in progress (so settling is cheap).
    pub active: Vec<BTreeSet<usize>>,
    failure_rng: ChaCha20Rng,
    failure_share: f64,
    /// What real fleets do to rollouts (`/__sim/rollout-faults`).
    pub rollout_faults: RolloutFaults,
    rollout_rng: ChaCha20Rng,
    /// Every reservation accepted, in order (`/__sim/reservation-log`).
    pub reservation_log: Vec<ReservationRecord>,
}

impl World {
    /// As `generate`, then about `share` of the user's devices on their newest firmware put on
    /// an older one.
    pub fn generate_outdated(seed: u64, devices: usize, failure_share: f64, share: f64) -> Self {
        let mut world = Self::generate(seed, devices, failure_share);
        let mut rng = seeded(seed, STREAM_OUTDATED);
        if let Some(user) = world.tenants.first_mut() {
            outdate(user, &mut rng, share.clamp(0.0, 1.0));
        }
        world
    }

    pub fn generate(seed: u64, devices: usize, failure_share: f64) -> Self {
        let mut rng = seeded(seed, STREAM_FLEET);
        let mut serials = HashSet::new();
        let user = generate_tenant(&mut rng, USER_TENANT_NAME, devices, &mut serials);
        let other = generate_tenant(
            &mut rng,
            OTHER_TENANT_NAME,
            OTHER_TENANT_DEVICES,
            &mut serials,
        );
        Self {
            tenants: vec![user, other],
            active: vec![BTreeSet::new(), BTreeSet::new()],
            failure_rng: seeded(seed, STREAM_FAILURES),
            failure_share: failure_share.clamp(0.0, 1.0),
            rollout_faults: RolloutFaults::default(),
            rollout_rng: seeded(seed, STREAM_ROLLOUT_FAULTS),
            reservation_log: Vec::new(),
        }
    }

    pub fn tenant_index(&self, tenant_id: &str) -> Option<usize> {
        self.tenants.iter().position(|t| t.id == tenant_id)
    }

    pub fn draw_failure(&mut self) -> bool {
        self.failure_rng.r#gen::<f64>() < self.failure_share
    }

    /// The fate of a new reservation (see `rollout_faults.rs`).
    pub fn draw_fate(&mut self, file_id: &str, model: &str, default_fail: bool) -> UpdateFate {
        self.rollout_faults
            .draw(&mut self.rollout_rng, file_id, model, default_fail)
    }

    /// Brings every update in progress of tenant `t` up to the simulated `now`.
    pub fn settle(&mut self, t: usize, now: i64) {
        let (Some(tenant), Some(active)) = (self.tenants.get_mut(t), self.active.get_mut(t)) else {
            return;
        };
        active.retain(|&i| match tenant.devices.get_mut(i) {
            Some(device) => {
                device.settle(now);
                device.reservation.is_some()
            }
            None => false,
        });
    }

    pub fn settle_all(&mut self, now: i64) {
        for t in 0..self.tenants.len() {
            self.settle(t, now);
        }
    }

    /// A device of any tenant as the API shows it in these modes, found by either of its ids.
    pub fn device_json(&mut self, device_id: &str, now: i64, modes: &Modes) -> Option<Value> {
        self.settle_all(now);
        self.tenants.iter().find_map(|tenant| {
            let device = tenant.devices.get(tenant.lookup_any(device_id)?)?;
            serde_json::to_value(device.view(now, modes)).ok()
        })
    }

    /// Every reservation of every tenant (device ids as these modes show them; `executeAt` is
    /// the execute time as the simulator read it, Unix ms).
    pub fn reservations_json(&mut self, now: i64, modes: &Modes) -> Vec<Value> {
        self.settle_all(now);
        let mut out = Vec::new();
        for (tenant, active) in self.tenants.iter().zip(&self.active) {
            for &i in active {
                let Some(device) = tenant.devices.get(i) else {
                    continue;
                };
                if let Some(r) = &device.reservation {
                    out.push(serde_json::json!({
                        "groupId": tenant.id,
                        "deviceId": device.shown_id(modes),
                        "fileId": r.file_id,
                        "fileTransferTimestamp": r.transfer_ms,
                        "fileTransferTimeZone": r.time_zone,
                        "executeUpdateDateTime": r.execute,
                        "executeAt": r.execute_ms,
                        "updateStatus": device.update_status,
                    }));
                }
            }
        }
        out
    }

    pub fn firmware_files_json(&self) -> Vec<Value> {
        self.tenants
            .iter()
            .flat_map(|tenant| {
                tenant.files.iter().filter_map(|file| {
                    let mut value = serde_json::to_value(file).ok()?;
                    if let Some(object) = value.as_object_mut() {
                        object.insert("groupId".into(), Value::String(tenant.id.clone()));
                    }
                    Some(value)
                })
            })
            .collect()
    }
}
