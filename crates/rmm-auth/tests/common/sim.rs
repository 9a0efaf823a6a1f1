//! A simulator plus the login settings that point at it.
#![allow(dead_code)] // each test binary uses a different part of these helpers

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rmm_auth::{BrowserMode, HeadlessLogin, LoginConfig, TokenValidator, ValidationRules};
use secrecy::SecretString;

pub const CHROMIUM: &str = "/usr/bin/chromium";

pub async fn start_sim() -> rmm_sim::Sim {
    assert!(
        Path::new(CHROMIUM).is_file(),
        "these tests drive real Chromium and need {CHROMIUM} (apt-get install chromium)"
    );
    rmm_sim::start(rmm_sim::SimConfig {
        devices: 20,
        token_ttl_secs: 3600,
        ..Default::default()
    })
    .await
    .expect("simulator starts")
}

pub fn validator(sim: &rmm_sim::Sim) -> Arc<TokenValidator> {
    let i = sim.info();
    Arc::new(TokenValidator::new(ValidationRules {
        issuer: Some(i.issuer.clone()),
        audience: Some(i.audience.clone()),
        jwks_url: Some(i.jwks_url.parse().unwrap()),
        clock_skew: Duration::from_secs(30),
        issuer_guessed: false,
        issuer_hosts: Vec::new(),
    }))
}

pub fn login_config(sim: &rmm_sim::Sim, profile_dir: &Path, password: Option<&str>) -> LoginConfig {
    let i = sim.info();
    LoginConfig {
        login_url: i.login_url.parse().unwrap(),
        api_base_url: i.api_base_url.parse().unwrap(),
        tenants_path: "api/v1/tenants".to_owned(),
        username: i.username.clone(),
        password: password.map(|p| SecretString::from(p.to_owned())),
        subscription_key: Some(SecretString::from(i.subscription_key.clone())),
        mode: BrowserMode::Headless,
        chromium_path: Some(CHROMIUM.into()),
        idp_origin: Some(i.idp_url.trim_end_matches('/').to_owned()),
        user_data_dir: profile_dir.join("chromium"),
        selectors: Default::default(),
        timeouts: rmm_auth::Timeouts {
            element: Duration::from_secs(20),
            dashboard: Duration::from_secs(60),
            api_trigger: Duration::from_secs(20),
        },
        viewport: (1280, 800),
        slow_mo: Duration::ZERO,
        debug_dir: Some(profile_dir.join("debug")),
    }
}

pub fn headless(sim: &rmm_sim::Sim, profile_dir: &Path, password: Option<&str>) -> HeadlessLogin {
    HeadlessLogin::new(login_config(sim, profile_dir, password), validator(sim))
}
