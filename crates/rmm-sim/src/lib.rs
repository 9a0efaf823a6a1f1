//! A loopback simulator of the Sharp cloud: Auth0-like login, Sharp-Start IdP, the admin
//! dashboard SPA and the RMM API, as `docs/sim-contract.md` describes. `start` serves all four
//! origins on 127.0.0.1 in background tasks and returns a [`Sim`] handle to steer and inspect it.

mod api;
mod app;
mod changes;
mod clock;
mod config;
mod conn;
mod control;
mod dashboard;
mod device;
mod faults;
mod fleet;
mod guard;
mod html;
mod idp;
mod login;
mod modes;
mod problems;
mod query;
mod rollout_faults;
mod sessions;
mod tokens;
mod world;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use app::{SimInfo, SimStats};
pub use config::{DropPhase, Faults, MAX_DEVICES, SimConfig};
pub use modes::{MODE_ENV, Modes};
pub use rollout_faults::{BadFirmware, ReservationRecord, RolloutFaults, UpdateFate};
pub use tokens::TokenSpec;

use app::{AUDIENCE, Counters, Origins, Shared, USERNAME, lock};
use clock::SimClock;
use conn::{ConnectionCut, CuttableListener, bind_loopback};
use sessions::AuthState;
use world::{STREAM_FAULTS, STREAM_SECRETS, World, seeded};

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid simulator setting {field}: {rule}")]
    Config { field: &'static str, rule: String },
    #[error("cannot listen on 127.0.0.1:{port} for the {origin} origin: {source}")]
    Bind {
        origin: &'static str,
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("signing key: {0}")]
    Key(String),
    #[error("simulator start-up task failed: {0}")]
    Startup(String),
}

fn check_config(config: &SimConfig) -> Result<(), SimError> {
    let bad = |field, rule: &str| {
        Err(SimError::Config {
            field,
            rule: rule.to_string(),
        })
    };
    if config.devices > MAX_DEVICES {
        return bad("devices", "must be at most 100000");
    }
    for (field, share) in [
        ("failure_share", config.failure_share),
        ("error_share", config.error_share),
        ("drop_share", config.drop_share),
    ] {
        if !(0.0..=1.0).contains(&share) {
            return bad(field, "must be between 0 and 1");
        }
    }
    if !(config.clock_speed.is_finite() && config.clock_speed >= 0.0) {
        return bad("clock_speed", "must be a number >= 0");
    }
    if config.session_ttl_secs <= 0 {
        return bad("session_ttl_secs", "must be positive");
    }
    if config.base_port > u16::MAX - 3 {
        return bad(
            "base_port",
            "must leave room for four ports (at most 65532)",
        );
    }
    Ok(())
}

/// Deterministic secrets of a seed: password, subscription key, user id.
fn secrets(seed: u64) -> (String, String, String) {
    use rand::Rng;
    const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = seeded(seed, STREAM_SECRETS);
    let mut pick = |n: usize, alphabet: &[u8]| -> String {
        (0..n)
            .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
            .collect()
    };
    let password = format!("Sim-{}!{}", pick(10, ALNUM), pick(2, b"0123456789"));
    let subscription_key = pick(32, b"0123456789abcdef");
    let user_id = pick(24, b"0123456789abcdef");
    (password, subscription_key, user_id)
}

/// Derives the signing key of `seed` now, on the calling thread, so that a later [`start`] with
/// that seed finds it ready: the key is most of a simulator's start-up time, and a caller can
/// derive it while it does something else (the desktop app, while its window is being made).
pub fn prepare_key(seed: u64) -> Result<(), SimError> {
    tokens::signing_key(seed).map(drop)
}

/// Binds all four origins, starts serving them and returns once they accept connections.
pub async fn start(mut config: SimConfig) -> Result<Sim, SimError> {
    check_config(&config)?;
    let from_env = Modes::from_env().map_err(|rule| SimError::Config {
        field: MODE_ENV,
        rule,
    })?;
    config.modes = config.modes.union(from_env);
    let ports: [u16; 4] = if config.base_port == 0 {
        [0; 4]
    } else {
        let p = config.base_port;
        [p, p + 1, p + 2, p + 3]
    };
    let names = ["login", "idp", "dashboard", "api"];
    let mut listeners = Vec::with_capacity(4);
    for (origin, port) in names.into_iter().zip(ports) {
        let listener = bind_loopback(port).map_err(|source| SimError::Bind {
            origin,
            port,
            source,
        })?;
        let bound = listener
            .local_addr()
            .map_err(|source| SimError::Bind {
                origin,
                port,
                source,
            })?
            .port();
        listeners.push((listener, bound));
    }
    let origin = |i: usize| format!("http://127.0.0.1:{}", listeners[i].1);
    let origins = Origins {
        login: origin(0),
        idp: origin(1),
        dashboard: origin(2),
        api: origin(3),
    };

    // RSA key generation and a large fleet take CPU time: keep them off the async workers.
    let seed = config.seed;
    let (devices, failure_share, outdated) =
        (config.devices, config.failure_share, config.outdated_share);
    // Both at once: on a machine with more than one core the start takes the longer of the two.
    let (key, world) = tokio::join!(
        tokio::task::spawn_blocking(move || tokens::signing_key(seed)),
        tokio::task::spawn_blocking(move || match outdated {
            Some(share) => World::generate_outdated(seed, devices, failure_share, share),
            None => World::generate(seed, devices, failure_share),
        }),
    );
    let key = key.map_err(|e| SimError::Startup(e.to_string()))??;
    let world = world.map_err(|e| SimError::Startup(e.to_string()))?;

    let (password, subscription_key, user_id) = secrets(seed);
    let info = SimInfo {
        login_url: format!("{}/login", origins.login),
        dashboard_url: format!("{}/", origins.dashboard),
        api_base_url: origins.api.clone(),
        jwks_url: format!("{}/.well-known/jwks.json", origins.login),
        issuer: format!("{}/", origins.login),
        audience: AUDIENCE.to_string(),
        idp_url: format!("{}/", origins.idp),
        control_url: format!("{}/__sim", origins.api),
        username: USERNAME.to_string(),
        password,
        subscription_key,
        group_id: world.tenants[0].id.clone(),
        other_group_id: world.tenants[1].id.clone(),
        devices,
        seed,
    };
    let shared = Arc::new(Shared {
        info,
        origins,
        key,
        verified_tokens: tokens::VerifiedTokens::default(),
        user_id,
        world: Mutex::new(world),
        clock: Mutex::new(SimClock::new(config.clock_speed)),
        auth: Mutex::new(AuthState::default()),
        faults: Mutex::new(Faults::from_config(&config)),
        modes: Mutex::new(config.modes),
        fault_rng: Mutex::new(seeded(seed, STREAM_FAULTS)),
        rate: Mutex::new(faults::RateWindow::default()),
        counters: Counters::default(),
        config,
    });

    let routers = [
        login::router(shared.clone()),
        idp::router(shared.clone()),
        dashboard::router(shared.clone()),
        api::router(shared.clone()).merge(control::router(shared.clone())),
    ];
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::with_capacity(4);
    for ((listener, _), router) in listeners.into_iter().zip(routers) {
        tasks.push(tokio::spawn(serve(listener, router, stopped.clone())));
    }
    tracing::info!(
        login = %shared.origins.login,
        dashboard = %shared.origins.dashboard,
        api = %shared.origins.api,
        devices = shared.info.devices,
        seed = shared.info.seed,
        "simulator serving"
    );
    Ok(Sim {
        shared,
        stop,
        tasks,
    })
}

async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    mut stopped: watch::Receiver<bool>,
) {
    let service = router.into_make_service_with_connect_info::<ConnectionCut>();
    let result = axum::serve(CuttableListener(listener), service)
        .with_graceful_shutdown(async move {
            // Either a stop signal or the handle being gone ends serving.
            let _ = stopped.wait_for(|stop| *stop).await;
        })
        .await;
    if let Err(error) = result {
        tracing::warn!(%error, "simulator origin stopped with an error");
    }
}

/// A running simulator. Dropping it (or `shutdown().await`) stops serving.
pub struct Sim {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("info", &self.shared.info)
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// How to reach and sign in to this simulator.
    pub fn info(&self) -> &SimInfo {
        &self.shared.info
    }

    /// Signs a JWT directly, so client tests need no browser.
    pub fn mint_token(&self, spec: &TokenSpec) -> String {
        self.shared.mint(spec).unwrap_or_else(|error| {
            // Signing with a key that was already used at start-up cannot fail in practice.
            tracing::error!(%error, "minting a token failed");
            String::new()
        })
    }

    /// A token with the default claims, valid for the configured token lifetime.
    pub fn valid_token(&self) -> String {
        self.mint_token(&TokenSpec {
            ttl_secs: self.shared.config.token_ttl_secs,
            ..TokenSpec::default()
        })
    }

    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.shared.faults) = faults;
    }

    pub fn faults(&self) -> Faults {
        lock(&self.shared.faults).clone()
    }

    /// Switches behaviour modes at runtime (as `POST /__sim/modes` does).
    pub fn set_modes(&self, modes: Modes) {
        *lock(&self.shared.modes) = modes;
    }

    pub fn modes(&self) -> Modes {
        *lock(&self.shared.modes)
    }

    /// Moves simulated time forward (negative values are ignored).
    pub fn advance_clock(&self, secs: i64) {
        lock(&self.shared.clock).advance(secs.max(0));
    }

    pub fn set_clock_speed(&self, speed: f64) {
        lock(&self.shared.clock).set_speed(speed);
    }

    /// Simulated now, Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.shared.now_ms()
    }

    pub fn stats(&self) -> SimStats {
        self.shared.counters.snapshot()
    }

    /// Ends every Auth0 and IdP session (the next `prompt=none` gets `login_required`).
    pub fn end_sessions(&self) {
        lock(&self.shared.auth).end_all_sessions();
    }

    /// A device of any tenant, as the API shows it.
    pub fn device(&self, device_id: &str) -> Option<serde_json::Value> {
        let now = self.now_ms();
        lock(&self.shared.world).device_json(device_id, now, &self.shared.modes())
    }

    /// A device of any tenant, found by any id it goes by, with every field the simulator
    /// keeps (`connectionStatus` too) whatever the modes: what a test checks the truth with.
    pub fn device_truth(&self, device_id: &str) -> Option<serde_json::Value> {
        let now = self.now_ms();
        lock(&self.shared.world).device_json(device_id, now, &Modes::default())
    }

    /// Every reservation still in progress, with its `groupId` and `updateStatus`.
    pub fn reservations(&self) -> Vec<serde_json::Value> {
        let now = self.now_ms();
        lock(&self.shared.world).reservations_json(now, &self.shared.modes())
    }

    /// Replaces the rollout faults (failure shares per model and file, bad firmware, offline
    /// mid-download, stuck downloads, busy printers, lying `completed`); the first bad field
    /// is named.
    pub fn set_rollout_faults(&self, faults: RolloutFaults) -> Result<(), String> {
        faults.check()?;
        lock(&self.shared.world).rollout_faults = faults;
        Ok(())
    }

    pub fn rollout_faults(&self) -> RolloutFaults {
        lock(&self.shared.world).rollout_faults.clone()
    }

    /// Every reservation the simulator accepted, in order.
    pub fn reservation_log(&self) -> Vec<ReservationRecord> {
        lock(&self.shared.world).reservation_log.clone()
    }

    /// Every staged firmware file of every tenant, with its `groupId`.
    pub fn firmware_files(&self) -> Vec<serde_json::Value> {
        lock(&self.shared.world).firmware_files_json()
    }

    /// Stops serving and waits until the ports are free again.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(3), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
