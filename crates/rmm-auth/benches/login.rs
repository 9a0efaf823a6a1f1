//! Benchmark: the time from the start of a headless demo login (`rmm login --headless --demo`
//! as the command runs it: Chromium start, the three login pages, capture, validation, the
//! tenants check) to the token stored, median of 5, with the page loads; and the cost of
//! getting a cached valid token from the manager. Prints figures; asserts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use rmm_auth::{
    BrowserMode, FileStore, HeadlessLogin, Login, LoginConfig, LoginError, TokenManager,
    TokenStore, TokenValidator, ValidationRules,
};
use secrecy::SecretString;

const CHROMIUM: &str = "/usr/bin/chromium";

fn config(sim: &rmm_sim::Sim, dir: &std::path::Path) -> LoginConfig {
    let i = sim.info();
    LoginConfig {
        login_url: i.login_url.parse().unwrap(),
        api_base_url: i.api_base_url.parse().unwrap(),
        tenants_path: "api/v1/tenants".into(),
        username: i.username.clone(),
        password: Some(SecretString::from(i.password.clone())),
        subscription_key: Some(SecretString::from(i.subscription_key.clone())),
        mode: BrowserMode::Headless,
        chromium_path: std::path::Path::new(CHROMIUM)
            .is_file()
            .then(|| CHROMIUM.into()),
        idp_origin: Some(i.idp_url.trim_end_matches('/').to_owned()),
        user_data_dir: dir.join("chromium"),
        selectors: Default::default(),
        timeouts: Default::default(),
        viewport: (1280, 800),
        slow_mo: Duration::ZERO,
        debug_dir: None,
    }
}

fn validator(sim: &rmm_sim::Sim) -> Arc<TokenValidator> {
    let i = sim.info();
    Arc::new(TokenValidator::new(ValidationRules {
        issuer: Some(i.issuer.clone()),
        audience: Some(i.audience.clone()),
        jwks_url: Some(i.jwks_url.parse().unwrap()),
        ..Default::default()
    }))
}

/// A login that hands back one prepared token (for the cached-token figure).
struct Fixed(rmm_auth::AccessToken);

impl Login for Fixed {
    fn login(&self) -> BoxFuture<'_, Result<rmm_auth::AccessToken, LoginError>> {
        let t = self.0.clone();
        Box::pin(async move { Ok(t) })
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut times = Vec::new();
        let mut loads = Vec::new();
        let mut last_token = None;
        for run in 0..5 {
            // Each run is a fresh `--demo`: its own simulator and browser profile, so every
            // login walks all three pages with the password.
            let sim = rmm_sim::start(rmm_sim::SimConfig {
                devices: 50,
                ..Default::default()
            })
            .await
            .unwrap();
            let dir = tempfile::tempdir().unwrap();
            let store: Arc<dyn TokenStore> = Arc::new(FileStore::new(dir.path().join("token.json")));
            let started = Instant::now();
            let login = Arc::new(HeadlessLogin::new(config(&sim, dir.path()), validator(&sim)));
            let manager = TokenManager::new(login.clone(), Some(store.clone()), TokenManager::DEFAULT_MARGIN);
            let token = manager.login_now().await.unwrap();
            let took = started.elapsed();
            assert!(store.load_token().unwrap().is_some());
            let figures = login.last_figures();
            println!(
                "login run {run}: {:>6.0} ms to token stored, {} page loads",
                took.as_secs_f64() * 1000.0,
                figures.page_loads
            );
            times.push(took);
            loads.push(figures.page_loads);
            last_token = Some((*token).clone());
            sim.shutdown().await;
        }
        let m = median(times);
        println!(
            "headless demo login: median {:.0} ms over 5 runs (target < 3000 ms), page loads per login: {:?}",
            m.as_secs_f64() * 1000.0,
            loads
        );

        let token = last_token.unwrap();
        let manager = TokenManager::new(Arc::new(Fixed(token.clone())), None, TokenManager::DEFAULT_MARGIN);
        manager.set_current(token);
        let n = 200_000u32;
        let started = Instant::now();
        for _ in 0..n {
            let t = manager.token().await.unwrap();
            std::hint::black_box(t);
        }
        let per = started.elapsed() / n;
        println!(
            "cached token: {} ns per call over {n} calls (target < 10000 ns)",
            per.as_nanos()
        );
    });
}
