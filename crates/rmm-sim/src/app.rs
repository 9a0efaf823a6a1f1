//! The state every origin's handlers share: connection details, fleet, login state, faults, counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::clock::{SimClock, wall_ms};
use crate::config::{Faults, SimConfig};
use crate::faults::RateWindow;
use crate::modes::Modes;
use crate::sessions::AuthState;
use crate::tokens::{
    Claims, SigningKey, Subject, TokenSpec, VerifiedTokens, access_claims, foreign_key,
};
use crate::world::World;

/// How to reach and sign in to a running simulator (printed by `rmm sim` as one JSON line).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SimInfo {
    pub login_url: String,
    pub dashboard_url: String,
    pub api_base_url: String,
    pub jwks_url: String,
    pub issuer: String,
    pub audience: String,
    pub idp_url: String,
    pub control_url: String,
    pub username: String,
    pub password: String,
    pub subscription_key: String,
    pub group_id: String,
    pub other_group_id: String,
    pub devices: usize,
    pub seed: u64,
}

impl std::fmt::Debug for SimInfo {
    // The password and subscription key stay out of Debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimInfo")
            .field("login_url", &self.login_url)
            .field("dashboard_url", &self.dashboard_url)
            .field("api_base_url", &self.api_base_url)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("subscription_key", &"<redacted>")
            .field("group_id", &self.group_id)
            .field("other_group_id", &self.other_group_id)
            .field("devices", &self.devices)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

/// Counters read through `/__sim/stats` and `Sim::stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimStats {
    /// Completed logins: password and silent.
    pub logins: u64,
    /// DNN form posts with the right password.
    pub password_logins: u64,
    /// DNN form posts refused (wrong password or locked out).
    pub failed_logins: u64,
    /// Logins completed from a live Auth0 or IdP session, without a password.
    pub silent_logins: u64,
    /// Successful `/oauth/token` exchanges.
    pub token_exchanges: u64,
    /// Requests to API endpoints (preflights and the control endpoint not counted).
    pub api_requests: u64,
    /// Change requests (reservation, removal, OTA) that were applied.
    pub change_requests: u64,
}

#[derive(Debug, Default)]
pub struct Counters {
    pub logins: AtomicU64,
    pub password_logins: AtomicU64,
    pub failed_logins: AtomicU64,
    pub silent_logins: AtomicU64,
    pub token_exchanges: AtomicU64,
    pub api_requests: AtomicU64,
    pub change_requests: AtomicU64,
}

pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub fn snapshot(&self) -> SimStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SimStats {
            logins: get(&self.logins),
            password_logins: get(&self.password_logins),
            failed_logins: get(&self.failed_logins),
            silent_logins: get(&self.silent_logins),
            token_exchanges: get(&self.token_exchanges),
            api_requests: get(&self.api_requests),
            change_requests: get(&self.change_requests),
        }
    }
}

/// `http://127.0.0.1:<port>` of each origin, without a trailing slash.
#[derive(Debug, Clone)]
pub struct Origins {
    pub login: String,
    pub idp: String,
    pub dashboard: String,
    pub api: String,
}

pub const CLIENT_ID: &str = "rmm-dashboard";
pub const AUDIENCE: &str = "https://rmm-api.sharp-sim.invalid";
pub const USERNAME: &str = "fleet.admin@example.com";

pub struct Shared {
    pub info: SimInfo,
    pub origins: Origins,
    pub config: SimConfig,
    pub key: Arc<SigningKey>,
    pub verified_tokens: VerifiedTokens,
    pub user_id: String,
    pub world: Mutex<World>,
    pub clock: Mutex<SimClock>,
    pub auth: Mutex<AuthState>,
    pub faults: Mutex<Faults>,
    pub modes: Mutex<Modes>,
    pub fault_rng: Mutex<ChaCha20Rng>,
    pub rate: Mutex<RateWindow>,
    pub counters: Counters,
}

/// A poisoned lock only means another request panicked; the data is still usable.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub fn modes(&self) -> Modes {
        *lock(&self.modes)
    }

    pub fn now_ms(&self) -> i64 {
        lock(&self.clock).now_ms()
    }

    fn subject(&self) -> Subject<'_> {
        Subject {
            email: &self.info.username,
            user_id: &self.user_id,
            tenant_id: &self.info.group_id,
        }
    }

    pub fn access_token(&self) -> Result<String, SimError> {
        let claims = access_claims(
            &self.subject(),
            &self.info.issuer,
            &self.info.audience,
            self.config.token_ttl_secs,
        );
        self.key.sign(&claims, &self.key.kid)
    }

    pub fn id_token(&self, nonce: Option<String>) -> Result<String, SimError> {
        let mut claims = access_claims(
            &self.subject(),
            &self.info.issuer,
            CLIENT_ID,
            self.config.token_ttl_secs,
        );
        claims.nonce = nonce;
        self.key.sign(&claims, &self.key.kid)
    }

    pub fn mint(&self, spec: &TokenSpec) -> Result<String, SimError> {
        let subject = Subject {
            email: spec.email.as_deref().unwrap_or(&self.info.username),
            user_id: &self.user_id,
            tenant_id: spec.tenant_id.as_deref().unwrap_or(&self.info.group_id),
        };
        let mut claims: Claims = access_claims(
            &subject,
            spec.issuer.as_deref().unwrap_or(&self.info.issuer),
            spec.audience.as_deref().unwrap_or(&self.info.audience),
            spec.ttl_secs,
        );
        if spec.ttl_secs < 0 {
            // An expired token was still issued before it expired.
            claims.iat = claims.exp - 3600;
        }
        claims.nbf = spec
            .not_before_offset_secs
            .map(|offset| wall_ms() / 1000 + offset);
        let kid = spec.kid.as_deref().unwrap_or(&self.key.kid);
        if spec.sign_with_foreign_key {
            foreign_key(self.config.seed)?.sign(&claims, kid)
        } else {
            self.key.sign(&claims, kid)
        }
    }

    /// Claims of a token this simulator would accept now.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        self.verified_tokens
            .get_or_verify(token, wall_ms() / 1000, || {
                self.key
                    .verify(token, &self.info.audience, &self.info.issuer)
            })
    }
}
