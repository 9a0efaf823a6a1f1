//! The demo: the simulator of the Sharp cloud (`rmm-sim`) running inside the app, so that it
//! works with no account and no network. It keeps running as long as this value lives.

use crate::app_info::DemoInfo;

/// A running in-process simulator.
pub struct DemoSimulator {
    sim: rmm_sim::Sim,
}

impl DemoSimulator {
    /// Starts the simulator with its default fleet (250 printers, seed 1) on free loopback ports.
    /// Call it inside the app's async runtime: the simulator's servers are spawned on it.
    pub async fn start() -> Result<Self, String> {
        let sim = rmm_sim::start(rmm_sim::SimConfig::default())
            .await
            .map_err(|error| format!("cannot start the demo simulator: {error}"))?;
        let info = sim.info();
        // Addresses only: the password and the subscription key never go to the log.
        tracing::info!(
            api_base_url = %info.api_base_url,
            dashboard_url = %info.dashboard_url,
            login_url = %info.login_url,
            devices = info.devices,
            "demo simulator running"
        );
        Ok(Self { sim })
    }

    /// What the UI may be told about the simulator.
    pub fn public_info(&self) -> DemoInfo {
        let info = self.sim.info();
        DemoInfo {
            login_url: info.login_url.clone(),
            dashboard_url: info.dashboard_url.clone(),
            api_base_url: info.api_base_url.clone(),
            group_id: info.group_id.clone(),
            username: info.username.clone(),
            devices: info.devices,
        }
    }

    /// The password and subscription key, for tests that check they do not leak.
    #[cfg(test)]
    pub fn secrets_for_test(&self) -> (String, String) {
        let info = self.sim.info();
        (info.password.clone(), info.subscription_key.clone())
    }
}
