//! A simulator and a profile for it in a temporary config folder, with its secrets in a file
//! store: what the `rmm` fleet and MCP commands run against in these tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use rmm_core::settings::{Profile, SettingsFile};
use rmm_sim::{Sim, SimConfig};
use serde_json::json;

pub const PROFILE: &str = "testfleet";

pub struct Setup {
    pub sim: Sim,
    pub home: tempfile::TempDir,
}

impl Setup {
    /// A simulator of `devices` and a profile for it; `signed_in` puts a valid token in the store.
    pub async fn new(devices: usize, signed_in: bool) -> Self {
        let sim = rmm_sim::start(SimConfig {
            devices,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let home = tempfile::tempdir().unwrap();
        let setup = Self { sim, home };
        let i = setup.sim.info();
        let mut contents = json!({"subscription_key": i.subscription_key});
        if signed_in {
            contents["token"] =
                json!({"jwt": setup.sim.valid_token(), "origin": "headless-browser"});
        }
        std::fs::write(setup.secrets(), contents.to_string()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(setup.secrets(), std::fs::Permissions::from_mode(0o600))
                .unwrap();
        }
        let mut file = SettingsFile::default();
        file.profiles.insert(
            PROFILE.to_owned(),
            Profile {
                name: PROFILE.to_owned(),
                login_url: Some(i.login_url.clone()),
                api_base_url: Some(i.api_base_url.clone()),
                dashboard_url: Some(i.dashboard_url.clone()),
                issuer: Some(i.issuer.clone()),
                audience: Some(i.audience.clone()),
                jwks_url: Some(i.jwks_url.clone()),
                username: Some(i.username.clone()),
                token_file: Some(setup.secrets()),
                ..Profile::default()
            },
        );
        std::fs::create_dir_all(setup.config_dir()).unwrap();
        file.save(&setup.config_dir().join("settings.toml"))
            .unwrap();
        setup
    }

    pub fn config_dir(&self) -> PathBuf {
        self.home.path().join("config")
    }

    /// The runtime folder `rmm` sees (where the desktop app's socket would be).
    pub fn runtime_dir(&self) -> PathBuf {
        self.home.path().join("run")
    }

    pub fn secrets(&self) -> PathBuf {
        self.home.path().join("secrets.json")
    }

    /// `rmm --profile testfleet ARGS` in this setup's config folder.
    pub fn rmm(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rmm"));
        command
            .args(["--profile", PROFILE])
            .args(args)
            .env("RMM_CONFIG_DIR", self.config_dir())
            .env_remove("TOKEN_FILE")
            .env_remove("PASSWORD_1")
            .env_remove("OCP_APIM_SUBSCRIPTION_KEY")
            .env_remove("API_BASE_URL")
            .env("USER", "test-user")
            // Its own runtime folder: no desktop app's socket (or another test's) is found.
            .env("XDG_RUNTIME_DIR", self.runtime_dir())
            .env("RUST_LOG", "error")
            .current_dir(self.home.path());
        command
    }

    /// Runs `rmm ARGS` with stdin closed: (exit code, stdout, stderr).
    pub async fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut command = self.rmm(args);
        command.stdin(std::process::Stdio::null());
        let out = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}
