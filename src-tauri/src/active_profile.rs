//! Which profile the app works with now, and switching it at runtime, in one place: the
//! sign-in state, the fleet connection and the MCP endpoint's profile are built together for a
//! profile (the demo simulator or one of the settings file) and swapped together. The last
//! choice the user made is remembered in a small JSON file beside the app's config (no secret).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use rmm_core::settings::{
    EnvVars, ProfileEdit, ProfileFlags, ResolvedProfile, SettingsFile, resolve_profile,
};
use serde::{Deserialize, Serialize};

use crate::agent_policy_home::AgentPolicyHome;
use crate::app_files::{read_json, write_json};
use crate::app_info::DemoInfo;
use crate::command_error::{CommandError, ErrorCode};
use crate::demo::{DEMO_PROFILE, DemoSimulator};
use crate::fleet_commands::FleetConnection;
use crate::mcp_endpoint::{EndpointProfile, McpEndpoint};
use crate::session::{SessionState, SignInProfile};

/// What the user chose to work with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Choice {
    /// The built-in simulator.
    Demo,
    /// A profile of the settings file.
    Profile { name: String },
}

/// The sign-in state and the fleet connection of one profile (or of none).
pub struct Connected {
    /// The profile's name; none before the user chose one.
    pub choice: Option<Choice>,
    pub session: Arc<SessionState>,
    pub fleet: Arc<FleetConnection>,
    /// Where the agents' envelope of this profile is kept.
    pub agent_policy: Option<AgentPolicyHome>,
}

impl Connected {
    /// No profile yet: sign-in and the fleet answer `no_profile`.
    pub fn none() -> Self {
        Self {
            choice: None,
            session: Arc::new(SessionState::new(None, None)),
            fleet: Arc::new(FleetConnection::new(Err(no_profile()))),
            agent_policy: None,
        }
    }

    /// The agents' envelope of this profile, or `no_profile`.
    pub fn agent_policy(&self) -> Result<&AgentPolicyHome, CommandError> {
        self.agent_policy.as_ref().ok_or_else(no_profile)
    }

    /// The name of the profile, as the keyring and the header know it.
    pub fn name(&self) -> Option<&str> {
        match &self.choice {
            Some(Choice::Demo) => Some(DEMO_PROFILE),
            Some(Choice::Profile { name }) => Some(name),
            None => None,
        }
    }
}

fn no_profile() -> CommandError {
    CommandError::new(
        ErrorCode::NoProfile,
        "no profile: try the demo or set up a profile in Settings",
    )
}

/// Where the active profile's parts come from.
pub struct ActiveProfileConfig {
    /// The settings file with the profiles (shared with the `rmm` command line).
    pub settings_path: Result<PathBuf, CommandError>,
    /// Where the last choice is remembered (none: not remembered).
    pub choice_file: Option<PathBuf>,
    /// The audit log of the fleet operations.
    pub audit_path: Result<PathBuf, CommandError>,
    /// The demo's fleet size (its default when absent).
    pub demo_devices: Option<usize>,
}

/// The profile the app works with; the commands take its parts from here.
pub struct ActiveProfile {
    current: RwLock<Arc<Connected>>,
    endpoint: Arc<McpEndpoint>,
    /// The demo simulator, once started (it keeps running when another profile is chosen).
    demo: Mutex<Option<Arc<DemoSimulator>>>,
    config: ActiveProfileConfig,
    /// One switch at a time.
    switching: tokio::sync::Mutex<()>,
}

impl ActiveProfile {
    pub fn new(endpoint: Arc<McpEndpoint>, config: ActiveProfileConfig) -> Self {
        Self {
            current: RwLock::new(Arc::new(Connected::none())),
            endpoint,
            demo: Mutex::new(None),
            config,
            switching: tokio::sync::Mutex::new(()),
        }
    }

    /// The parts of the profile in use now.
    pub fn current(&self) -> Arc<Connected> {
        match self.current.read() {
            Ok(current) => Arc::clone(&current),
            Err(_) => Arc::new(Connected::none()),
        }
    }

    pub fn session(&self) -> Arc<SessionState> {
        Arc::clone(&self.current().session)
    }

    pub fn fleet(&self) -> Arc<FleetConnection> {
        Arc::clone(&self.current().fleet)
    }

    /// The running demo simulator, for the About line (no secret).
    pub fn demo_info(&self) -> Option<DemoInfo> {
        let demo = self.demo.lock().ok().and_then(|d| d.clone());
        demo.map(|sim| sim.public_info())
    }

    /// The settings file with the profiles.
    pub fn settings_path(&self) -> Result<&Path, CommandError> {
        self.config.settings_path.as_deref().map_err(Clone::clone)
    }

    /// The profiles of the settings file.
    pub fn profiles(&self) -> Result<SettingsFile, CommandError> {
        Ok(SettingsFile::load(self.settings_path()?)?)
    }

    /// At start-up: the demo with `--demo` (its failure stops the app, as before), else the
    /// remembered choice (its failure is logged and leaves no profile: the first-run screen),
    /// else no profile. The MCP endpoint starts when its saved settings say so.
    pub async fn restore(&self, demo_flag: bool) -> Result<(), CommandError> {
        if demo_flag {
            return self.switch_to(Choice::Demo, false).await.map(|_| ());
        }
        match self.config.choice_file.as_deref().and_then(read_choice) {
            Some(choice) => {
                if let Err(error) = self.switch_to(choice, false).await {
                    tracing::warn!(message = %error.message, "the last chosen profile cannot be used");
                    self.endpoint.switch_profile(None).await;
                }
            }
            None => self.endpoint.switch_profile(None).await,
        }
        Ok(())
    }

    /// Switches to `choice`: builds its sign-in state (with a token the keyring still holds),
    /// its fleet connection and the endpoint's profile, then swaps them in. On failure nothing
    /// changes. `remember`: the choice is kept for the next start.
    pub async fn switch_to(
        &self,
        choice: Choice,
        remember: bool,
    ) -> Result<Arc<Connected>, CommandError> {
        let _one_at_a_time = self.switching.lock().await;
        let (connected, endpoint_profile) = match &choice {
            Choice::Demo => {
                let sim = self.demo_simulator().await?;
                demo_parts(&sim, &self.config.audit_path)?
            }
            Choice::Profile { name } => {
                let resolved = self.resolve(name)?;
                let audit_path = self.config.audit_path.clone();
                let settings_path = self.settings_path()?.to_owned();
                tokio::task::spawn_blocking(move || {
                    profile_parts(&resolved, &audit_path, settings_path)
                })
                .await
                .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))??
            }
        };
        connected.session.load_saved().await;
        let connected = Arc::new(connected);
        if let Ok(mut current) = self.current.write() {
            *current = Arc::clone(&connected);
        }
        self.endpoint.switch_profile(endpoint_profile).await;
        tracing::info!(
            profile = connected.name().unwrap_or_default(),
            "profile in use"
        );
        if remember && let Some(path) = &self.config.choice_file {
            write_json(path, &choice, "profile choice");
        }
        Ok(connected)
    }

    /// Saves a profile from the Settings form (the subscription key to the keyring). The app
    /// switches to it when no profile is in use yet, or when it is the one in use (so that its
    /// new settings apply).
    pub async fn save_profile(&self, edit: ProfileEdit) -> Result<bool, CommandError> {
        let path = self.settings_path()?.to_owned();
        let name = edit.name.clone();
        tokio::task::spawn_blocking(move || rmm_core::settings::save_profile_edit_to(&path, &edit))
            .await
            .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))??;
        tracing::info!(profile = %name, "profile saved");
        let current = self.current();
        let in_use = current.choice == Some(Choice::Profile { name: name.clone() });
        if current.choice.is_none() || in_use {
            self.switch_to(Choice::Profile { name }, true).await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// What a sign-in through a visible Chromium (rmm-auth's capture, for IdPs that refuse
    /// embedded webviews) needs for the profile in use: rmm-core's login settings of the
    /// profile, with the password and subscription key from its store (the demo's own), and
    /// the token rules.
    pub async fn chromium_login(
        &self,
    ) -> Result<(rmm_auth::LoginConfig, rmm_auth::ValidationRules), CommandError> {
        let (resolved, password) = match self.current().choice.clone() {
            None => return Err(no_profile()),
            Some(Choice::Demo) => {
                let sim = self.demo_simulator().await?;
                (sim.resolved_profile(), Some(sim.password()))
            }
            Some(Choice::Profile { name }) => (self.resolve(&name)?, None),
        };
        tokio::task::spawn_blocking(move || {
            let (password, key) = match password {
                Some(password) => (Some(password), resolved.env_subscription_key.clone()),
                None => {
                    let store = resolved.token_store()?;
                    // The saved password and key go only where they were saved for.
                    resolved.check_secret_origins(store.as_ref())?;
                    (
                        resolved.password(store.as_ref())?,
                        resolved.subscription_key(store.as_ref())?,
                    )
                }
            };
            let mut config = resolved.login_config(password, key)?;
            config.mode = rmm_auth::BrowserMode::Visible;
            Ok((config, resolved.validation_rules()?))
        })
        .await
        .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))?
    }

    fn resolve(&self, name: &str) -> Result<ResolvedProfile, CommandError> {
        let file = self.profiles()?;
        let flags = ProfileFlags {
            profile: Some(name.to_owned()),
            ..ProfileFlags::default()
        };
        // The app uses the profile as Settings shows it: the environment variables are the
        // command line's.
        Ok(resolve_profile(&flags, &EnvVars::default(), &file)?)
    }

    async fn demo_simulator(&self) -> Result<Arc<DemoSimulator>, CommandError> {
        if let Some(sim) = self.demo.lock().ok().and_then(|d| d.clone()) {
            return Ok(sim);
        }
        let sim = DemoSimulator::start(self.config.demo_devices)
            .await
            .map(Arc::new)
            .map_err(|message| CommandError::new(ErrorCode::Local, message))?;
        if let Ok(mut slot) = self.demo.lock() {
            *slot = Some(Arc::clone(&sim));
        }
        Ok(sim)
    }
}

/// The demo's parts: its sign-in profile must work; without a fleet connection (no audit log)
/// the app still runs and says why.
fn demo_parts(
    sim: &DemoSimulator,
    audit_path: &Result<PathBuf, CommandError>,
) -> Result<(Connected, Option<EndpointProfile>), CommandError> {
    let sign_in = sim
        .sign_in_profile()
        .map_err(|message| CommandError::new(ErrorCode::Internal, message))?;
    // The demo's time is its simulator's: a rollout there follows the simulator's clock.
    let connection = audit_path
        .clone()
        .and_then(|path| connect_fleet(&sim.resolved_profile(), &path))
        .map(|mut c| {
            c.operations = c.operations.clone().with_clock(sim.clock());
            c
        });
    let policy = AgentPolicyHome::Demo(sim.agent_policy());
    Ok(parts(Choice::Demo, Some(sign_in), connection, policy))
}

/// A settings-file profile's parts: its login URL, API origin, token rules and store.
fn profile_parts(
    resolved: &ResolvedProfile,
    audit_path: &Result<PathBuf, CommandError>,
    settings_path: PathBuf,
) -> Result<(Connected, Option<EndpointProfile>), CommandError> {
    let connection = connect_fleet(resolved, audit_path.as_ref().map_err(Clone::clone)?)?;
    let login_url = resolved.login_url()?;
    let dashboard = resolved.dashboard_url()?;
    let sign_in = SignInProfile {
        name: resolved.profile.name.clone(),
        handover_origins: crate::login_window::expected_origins(&login_url, dashboard.as_ref()),
        username: resolved.profile.username.clone(),
        login_url,
        api_origin: resolved.api_base_url()?.origin().ascii_serialization(),
        validator: Arc::new(rmm_auth::TokenValidator::new(resolved.validation_rules()?)),
        store: connection.store.clone(),
        settings_path: Some(settings_path),
    };
    let policy = AgentPolicyHome::Settings {
        path: sign_in.settings_path.clone().unwrap_or_default(),
        profile: resolved.profile.name.clone(),
    };
    Ok(parts(
        Choice::Profile {
            name: resolved.profile.name.clone(),
        },
        Some(sign_in),
        Ok(connection),
        policy,
    ))
}

fn parts(
    choice: Choice,
    sign_in: Option<SignInProfile>,
    connection: Result<rmm_core::ProfileConnection, CommandError>,
    agent_policy: AgentPolicyHome,
) -> (Connected, Option<EndpointProfile>) {
    let name = match &choice {
        Choice::Demo => DEMO_PROFILE.to_owned(),
        Choice::Profile { name } => name.clone(),
    };
    let tokens = connection.as_ref().ok().map(|c| c.tokens.clone());
    let endpoint_profile = connection.as_ref().ok().map(|c| EndpointProfile {
        name,
        operations: c.operations.clone(),
        store: c.store.clone(),
        rollouts: rmm_mcp::RolloutAccess::with_policy(agent_policy.source()),
    });
    let connected = Connected {
        choice: Some(choice),
        session: Arc::new(SessionState::new(sign_in, tokens)),
        fleet: Arc::new(FleetConnection::new(connection)),
        agent_policy: Some(agent_policy),
    };
    (connected, endpoint_profile)
}

/// The profile's fleet operations, with tokens from the app's own sign-in (never a browser
/// started behind the user's back) and the audit log at `audit_path`.
fn connect_fleet(
    resolved: &ResolvedProfile,
    audit_path: &Path,
) -> Result<rmm_core::ProfileConnection, CommandError> {
    let audit = rmm_core::AuditLog::open(audit_path).map_err(rmm_core::OperationError::from)?;
    Ok(rmm_core::connect_profile_with_login(
        resolved,
        Arc::new(crate::session::SignInWithTheApp),
        Arc::new(audit),
        rmm_core::OperationSettings::default(),
    )?)
}

fn read_choice(path: &Path) -> Option<Choice> {
    read_json(path, "profile choice")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp_endpoint::{McpSettings, Notify};

    struct Fixture {
        dir: tempfile::TempDir,
        active: ActiveProfile,
        endpoint: Arc<McpEndpoint>,
    }

    /// An app with a settings file holding profile `office` (secrets in a file store, so the
    /// test needs no keyring), the endpoint on at a free port.
    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let settings_path = dir.path().join("settings.toml");
        let mut file = SettingsFile::default();
        file.profiles.insert(
            "office".into(),
            rmm_core::settings::Profile {
                name: "office".into(),
                login_url: Some("https://login.example.com/authorize".into()),
                api_base_url: Some("https://api.example.com/rmm/".into()),
                token_file: Some(dir.path().join("office-tokens.json")),
                ..Default::default()
            },
        );
        file.save(&settings_path).unwrap();
        let endpoint_file = dir.path().join("mcp.json");
        app_over(dir, Some(endpoint_file))
    }

    /// The app over the settings and the profile choice in `dir`, keeping its audit log there.
    fn app_over(dir: tempfile::TempDir, endpoint_file: Option<PathBuf>) -> Fixture {
        let notify: Notify = Arc::new(|_| {});
        let ports_dir = Some(dir.path().join("mcp-endpoint"));
        let endpoint = McpEndpoint::new(None, endpoint_file, ports_dir, notify);
        let active = ActiveProfile::new(
            endpoint.clone(),
            ActiveProfileConfig {
                settings_path: Ok(dir.path().join("settings.toml")),
                choice_file: Some(dir.path().join("active-profile.json")),
                audit_path: Ok(dir.path().join("audit.sqlite")),
                demo_devices: Some(5),
            },
        );
        Fixture {
            dir,
            active,
            endpoint,
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn without_a_choice_there_is_no_profile() {
        let f = fixture();
        f.active.restore(false).await.unwrap();
        let current = f.active.current();
        assert_eq!(current.choice, None);
        assert_eq!(
            f.active.fleet().operations().err().unwrap().code,
            ErrorCode::NoProfile
        );
        assert_eq!(f.endpoint.profile_name(), None);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn choosing_a_profile_switches_session_fleet_and_endpoint_and_is_remembered() {
        let f = fixture();
        f.active.restore(false).await.unwrap();
        f.endpoint
            .configure(McpSettings {
                enabled: true,
                port: None,
                read_only: false,
            })
            .await
            .unwrap_err();

        f.active
            .switch_to(
                Choice::Profile {
                    name: "office".into(),
                },
                true,
            )
            .await
            .unwrap();
        assert_eq!(f.active.current().name(), Some("office"));
        assert!(f.active.fleet().operations().is_ok());
        assert_eq!(f.endpoint.profile_name().as_deref(), Some("office"));
        // The endpoint was on but had nothing to serve; now it runs over the new profile.
        let status = f.endpoint.status().await;
        assert!(status.running, "{status:?}");
        f.endpoint.shutdown().await;

        // The next start, over the same folder, takes the same profile without being told.
        drop(f.active);
        let again = app_over(f.dir, None);
        again.active.restore(false).await.unwrap();
        assert_eq!(again.active.current().name(), Some("office"));
        again.endpoint.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_endpoint_serves_the_profiles_saved_port_and_refuses_a_taken_one() {
        let f = fixture();
        let office = Choice::Profile {
            name: "office".into(),
        };
        f.active.switch_to(office, false).await.unwrap();
        let on = McpSettings {
            enabled: true,
            port: None,
            read_only: false,
        };
        let status = f.endpoint.configure(on).await.unwrap();
        let url = status.url.clone().unwrap();
        // The port `rmm --profile office mcp --http` and its --print-config would take.
        let saved = rmm_mcp::port_path_in(&f.dir.path().join("mcp-endpoint"), "office");
        let port: u16 = std::fs::read_to_string(&saved)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(url, format!("http://127.0.0.1:{port}/mcp"));
        assert!(!url.contains(":8765/"), "no fixed port: {url}");
        let configs = f.endpoint.client_configs().await.unwrap();
        assert!(configs.cursor.contains(&url), "{}", configs.cursor);

        // Off, then someone else takes the port: the endpoint says so and does not start, and
        // no configuration points at a port it does not hold.
        f.endpoint
            .configure(McpSettings {
                enabled: false,
                ..on
            })
            .await
            .unwrap();
        let squatter = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let error = f.endpoint.configure(on).await.unwrap_err();
        assert!(
            error
                .message
                .contains(&format!("port {port} is already taken")),
            "{}",
            error.message
        );
        assert!(
            error.message.contains("Apply"),
            "in the Agents tab's words: {}",
            error.message
        );
        let status = f.endpoint.status().await;
        assert!(!status.running && status.url.is_none(), "{status:?}");
        assert_eq!(status.error.as_deref(), Some(error.message.as_str()));
        let refused = f.endpoint.client_configs().await.unwrap_err();
        assert!(
            refused.message.contains("endpoint is off"),
            "{}",
            refused.message
        );
        drop(squatter);

        // A port the person typed is taken as it is.
        let chosen = std::net::TcpListener::bind(("127.0.0.1", 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let status = f
            .endpoint
            .configure(McpSettings {
                port: Some(chosen),
                ..on
            })
            .await
            .unwrap();
        assert_eq!(status.port, Some(chosen));
        assert_eq!(status.url, Some(format!("http://127.0.0.1:{chosen}/mcp")));
        f.endpoint.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn an_unknown_profile_changes_nothing() {
        let f = fixture();
        f.active
            .switch_to(
                Choice::Profile {
                    name: "office".into(),
                },
                false,
            )
            .await
            .unwrap();
        let error = f
            .active
            .switch_to(
                Choice::Profile {
                    name: "nowhere".into(),
                },
                true,
            )
            .await
            .err()
            .unwrap();
        assert_eq!(error.code, ErrorCode::NoProfile);
        assert_eq!(f.active.current().name(), Some("office"));
        assert!(!f.dir.path().join("active-profile.json").exists());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn chromium_sign_in_takes_the_profile_in_use_in_a_visible_browser() {
        let f = fixture();
        let none = f.active.chromium_login().await.err().unwrap();
        assert_eq!(none.code, ErrorCode::NoProfile);

        // `office` has no user name: the field is named.
        f.active
            .switch_to(
                Choice::Profile {
                    name: "office".into(),
                },
                false,
            )
            .await
            .unwrap();
        let missing = f.active.chromium_login().await.err().unwrap();
        assert_eq!(missing.code, ErrorCode::BadInput);
        assert_eq!(missing.problems[0].field, "username");

        f.active.switch_to(Choice::Demo, false).await.unwrap();
        let (config, rules) = f.active.chromium_login().await.unwrap();
        let demo = f.active.demo_info().unwrap();
        assert_eq!(config.mode, rmm_auth::BrowserMode::Visible);
        assert_eq!(config.username, demo.username);
        assert_eq!(config.login_url.as_str(), demo.login_url);
        assert!(config.password.is_some() && config.subscription_key.is_some());
        assert!(rules.issuer.is_some());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_demo_then_a_profile_then_the_same_demo_again() {
        let f = fixture();
        f.active.switch_to(Choice::Demo, true).await.unwrap();
        let first = f.active.demo_info().unwrap();
        assert_eq!(f.active.current().name(), Some(DEMO_PROFILE));
        assert_eq!(
            f.active.session().profile_name().as_deref(),
            Some(DEMO_PROFILE)
        );
        assert_eq!(first.devices, 5);

        f.active
            .switch_to(
                Choice::Profile {
                    name: "office".into(),
                },
                true,
            )
            .await
            .unwrap();
        assert_eq!(f.active.current().name(), Some("office"));
        f.active.switch_to(Choice::Demo, true).await.unwrap();
        assert_eq!(
            f.active.demo_info().unwrap().api_base_url,
            first.api_base_url,
            "the simulator started once"
        );
        assert_eq!(
            read_choice(&f.dir.path().join("active-profile.json")),
            Some(Choice::Demo)
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn saving_the_first_profile_switches_to_it_and_bad_input_does_not() {
        let f = fixture();
        let bad = ProfileEdit {
            name: "office".into(),
            login_url: "not a url".into(),
            api_base_url: "https://api.example.com/".into(),
            ..ProfileEdit::default()
        };
        let error = f.active.save_profile(bad).await.err().unwrap();
        assert_eq!(error.code, ErrorCode::BadInput);
        assert_eq!(error.problems[0].field, "login_url");
        assert_eq!(f.active.current().choice, None);

        let good = ProfileEdit {
            name: "office".into(),
            login_url: "https://login2.example.com/".into(),
            api_base_url: "https://api2.example.com/".into(),
            time_zone: "UTC-08:00".into(),
            subscription_key: Some(secrecy::SecretString::from("k-77".to_owned())),
            ..ProfileEdit::default()
        };
        assert!(f.active.save_profile(good).await.unwrap());
        assert_eq!(f.active.current().name(), Some("office"));
        let text = std::fs::read_to_string(f.dir.path().join("settings.toml")).unwrap();
        assert!(
            text.contains("api2.example.com") && !text.contains("k-77"),
            "{text}"
        );
        let profile = f.active.profiles().unwrap().profiles["office"].clone();
        assert!(rmm_core::settings::has_subscription_key(&profile).unwrap());
    }
}
