//! `rmm sim`: starts the simulator of the Sharp cloud, prints its connection details as one JSON
//! line on stdout once it is ready, and serves until interrupted. With `--profile NAME` it also
//! records those details as a named profile (secrets in the profile's store, never in the
//! settings file), so later commands reach it with `--profile NAME`.

use clap::Args;

use crate::{Failure, GlobalArgs};

/// Flags of `rmm sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// How many devices the demo fleet has (1 to 100,000).
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub devices: u32,
    /// The seed that makes the fleet, the users' secrets and the signing key.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Added latency per API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Random extra latency per API request, up to this many milliseconds.
    #[arg(long, default_value_t = 0)]
    pub jitter_ms: u64,
    /// Lifetime of the access tokens it issues, in seconds.
    #[arg(long = "token-ttl", default_value_t = 3600, value_parser = clap::value_parser!(i64).range(1..))]
    pub token_ttl: i64,
    /// First of four consecutive ports (login, identity provider, dashboard, API); 0 picks free ones.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Share (0 to 1) of reserved updates that fail.
    #[arg(long, default_value_t = 0.1)]
    pub failure_share: f64,
    /// Behaviour modes, comma-separated or repeated: `strict`, `all`, or single modes such as
    /// `refusals-200`, `odd-device-ids` (see docs/sim-contract.md). `RMM_SIM_MODE` adds to them.
    #[arg(long = "mode", value_name = "MODE", value_delimiter = ',')]
    pub modes: Vec<String>,
}

impl SimArgs {
    /// Checks what clap cannot, so the simulator never sees a nonsensical setting.
    fn to_config(&self) -> Result<rmm_sim::SimConfig, Failure> {
        if !(0.0..=1.0).contains(&self.failure_share) {
            return Err(Failure::BadInput(format!(
                "--failure-share must be between 0 and 1, got {}",
                self.failure_share
            )));
        }
        if self.port != 0 && self.port > u16::MAX - 3 {
            return Err(Failure::BadInput(format!(
                "--port must leave room for four consecutive ports (at most {}), got {}",
                u16::MAX - 3,
                self.port
            )));
        }
        let modes = rmm_sim::Modes::default()
            .with_list(&self.modes.join(","))
            .map_err(|error| Failure::BadInput(format!("--mode: {error}")))?;
        Ok(rmm_sim::SimConfig {
            modes,
            devices: self.devices as usize,
            seed: self.seed,
            latency_ms: self.latency_ms,
            jitter_ms: self.jitter_ms,
            token_ttl_secs: self.token_ttl,
            base_port: self.port,
            failure_share: self.failure_share,
            ..rmm_sim::SimConfig::default()
        })
    }
}

/// Runs the simulator until Ctrl-C (or SIGTERM on Unix).
pub async fn run(args: SimArgs, global: &GlobalArgs) -> Result<(), Failure> {
    let config = args.to_config()?;
    if let Some(name) = &global.profile {
        rmm_core::settings::check_profile_name(name)
            .map_err(|error| Failure::BadInput(format!("--profile: {error}")))?;
    }
    let sim = rmm_sim::start(config)
        .await
        .map_err(|error| Failure::Local(format!("the simulator could not start: {error}")))?;
    if let Some(name) = &global.profile {
        let profile = profile_of(name, sim.info());
        rmm_core::settings::save_profile(&profile).map_err(|error| {
            Failure::Local(format!(
                "cannot record the simulator as profile {name}: {error}"
            ))
        })?;
        tracing::info!(profile = %name, "simulator recorded as a profile");
    }
    let line = serde_json::to_string(sim.info())
        .map_err(|error| Failure::Local(format!("cannot print the connection details: {error}")))?;
    // The one line on stdout is the contract with scripts and tests; logs go to stderr.
    out!("{line}");
    tracing::info!(api = %sim.info().api_base_url, "simulator ready");
    wait_for_interrupt().await;
    sim.shutdown().await;
    Ok(())
}

/// The simulator's connection details as a profile; the password and subscription key go to
/// the profile's secret store.
fn profile_of(name: &str, info: &rmm_sim::SimInfo) -> rmm_core::settings::NewProfile {
    rmm_core::settings::NewProfile {
        name: name.to_owned(),
        login_url: info.login_url.clone(),
        dashboard_url: info.dashboard_url.clone(),
        api_base_url: info.api_base_url.clone(),
        jwks_url: info.jwks_url.clone(),
        issuer: info.issuer.clone(),
        audience: info.audience.clone(),
        idp_url: Some(info.idp_url.clone()),
        username: info.username.clone(),
        password: Some(info.password.clone().into()),
        subscription_key: Some(info.subscription_key.clone().into()),
        group_id: Some(info.group_id.clone()),
    }
}

async fn wait_for_interrupt() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
