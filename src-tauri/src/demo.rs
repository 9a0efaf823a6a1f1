//! The demo: the simulator of the Sharp cloud (`rmm-sim`) running inside the app, so that it
//! works with no account and no network. It keeps running as long as this value lives.

use std::sync::{Arc, Mutex};

use rmm_core::rollout::AgentPolicy;

use crate::app_info::DemoInfo;

/// The profile name the demo's token is kept under in the keyring.
pub const DEMO_PROFILE: &str = "demo";

/// A running in-process simulator.
pub struct DemoSimulator {
    sim: Arc<rmm_sim::Sim>,
    /// The demo's envelope for agents (the demo is in no settings file).
    agent_policy: Arc<Mutex<AgentPolicy>>,
}

impl DemoSimulator {
    /// Derives the simulator's signing key on a thread of its own, so that `start`, called
    /// once the window is being made, finds it ready: the key is most of the simulator's
    /// start-up. A failure here shows again, and is reported, when `start` runs.
    pub fn prepare() {
        let seed = rmm_sim::SimConfig::default().seed;
        std::thread::spawn(move || {
            let _ = rmm_sim::prepare_key(seed);
        });
    }

    /// Starts the simulator (its default fleet: 250 printers, seed 1; or `devices` of them) on
    /// free loopback ports. Call it inside the app's async runtime: its servers are spawned on it.
    pub async fn start(devices: Option<usize>) -> Result<Self, String> {
        // The login pages show the demo account: a person signs in from what the screen shows.
        let mut config = rmm_sim::SimConfig {
            show_demo_account: true,
            ..rmm_sim::SimConfig::default()
        };
        if let Some(devices) = devices {
            config.devices = devices;
        }
        let sim = rmm_sim::start(config)
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
        Ok(Self {
            sim: Arc::new(sim),
            agent_policy: Arc::default(),
        })
    }

    /// The simulator's clock (its time moves on by itself, or as a test sets it).
    pub fn clock(&self) -> rmm_core::Clock {
        let sim = Arc::clone(&self.sim);
        Arc::new(move || sim.now_ms())
    }

    pub fn agent_policy(&self) -> Arc<Mutex<AgentPolicy>> {
        Arc::clone(&self.agent_policy)
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
            devices: u32::try_from(info.devices).unwrap_or(u32::MAX),
        }
    }

    /// The profile the app signs in with in demo mode: the simulator's login page, its API
    /// origin, its issuer's rules, and the OS keyring entry of profile `demo`.
    pub fn sign_in_profile(&self) -> Result<crate::session::SignInProfile, String> {
        let info = self.sim.info();
        let parse = |what: &str, text: &str| {
            url::Url::parse(text).map_err(|e| format!("the simulator's {what} is not a URL: {e}"))
        };
        let login_url = parse("login URL", &info.login_url)?;
        let api_origin = parse("API base", &info.api_base_url)?
            .origin()
            .ascii_serialization();
        let rules = rmm_auth::ValidationRules {
            issuer: Some(info.issuer.clone()),
            audience: Some(info.audience.clone()),
            jwks_url: Some(parse("JWKS URL", &info.jwks_url)?),
            ..rmm_auth::ValidationRules::default()
        };
        let dashboard = parse("dashboard URL", &info.dashboard_url)?;
        Ok(crate::session::SignInProfile {
            name: DEMO_PROFILE.to_string(),
            handover_origins: crate::login_window::expected_origins(&login_url, Some(&dashboard)),
            username: Some(info.username.clone()),
            login_url,
            api_origin,
            validator: std::sync::Arc::new(rmm_auth::TokenValidator::new(rules)),
            store: crate::session::keyring_store(DEMO_PROFILE),
            // The simulator names its audience.
            settings_path: None,
        })
    }

    /// The demo as a profile of rmm-core, for the fleet operations: the simulator's addresses
    /// and issuer, its subscription key given as if from the environment (it is the
    /// simulator's, never saved), and no password (the app signs in through its window).
    pub fn resolved_profile(&self) -> rmm_core::settings::ResolvedProfile {
        let info = self.sim.info();
        rmm_core::settings::ResolvedProfile {
            profile: rmm_core::settings::Profile {
                name: DEMO_PROFILE.to_owned(),
                login_url: Some(info.login_url.clone()),
                api_base_url: Some(info.api_base_url.clone()),
                dashboard_url: Some(info.dashboard_url.clone()),
                issuer: Some(info.issuer.clone()),
                audience: Some(info.audience.clone()),
                jwks_url: Some(info.jwks_url.clone()),
                username: Some(info.username.clone()),
                ..rmm_core::settings::Profile::default()
            },
            env_password: None,
            env_subscription_key: Some(secrecy::SecretString::from(info.subscription_key.clone())),
        }
    }

    /// The demo user's password, for the visible-Chromium sign-in to type (it never leaves
    /// the app's process).
    pub fn password(&self) -> secrecy::SecretString {
        secrecy::SecretString::from(self.sim.info().password.clone())
    }

    /// The password and subscription key, for tests that check they do not leak.
    #[cfg(test)]
    pub fn secrets_for_test(&self) -> (String, String) {
        let info = self.sim.info();
        (info.password.clone(), info.subscription_key.clone())
    }
}
