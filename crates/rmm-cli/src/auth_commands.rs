//! `rmm login | status | token | logout`: signing in (headless or in a visible browser),
//! showing who is signed in (never the token), printing the token for scripts, and signing
//! out. The rules live in `rmm-auth` and `rmm_core::settings`; this only talks to the terminal.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use rmm_auth::{AccessToken, HeadlessLogin, SecretKind, TokenManager, TokenStore, TokenValidator};
use rmm_core::settings::{EnvVars, ProfileFlags, ResolvedProfile, SettingsFile, resolve_profile};
use secrecy::SecretString;

use crate::{Failure, GlobalArgs};

/// Signing in and out.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Sign in to the Sharp cloud and keep the token in the OS keyring.
    Login(LoginArgs),
    /// Who is signed in, the tenant, when the token expires and where it is kept (never the token).
    Status(StatusArgs),
    /// Print the stored token on stdout, for scripts (like `gh auth token`).
    Token(StoreArgs),
    /// Remove the stored token; `--all` also removes saved credentials and the browser session.
    Logout(LogoutArgs),
}

/// Where the token is kept.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Keep secrets in this plain file (owner-only) instead of the OS keyring (also TOKEN_FILE).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
}

/// `rmm login`.
#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// Sign in without a window (the default).
    #[arg(long, conflicts_with = "browser")]
    pub headless: bool,
    /// Sign in in a visible Chromium window (for logins that need a person, e.g. MFA).
    #[arg(long)]
    pub browser: bool,
    /// Save the password (PASSWORD_1 or read from stdin) and the subscription key in the keyring.
    #[arg(long)]
    pub save_credentials: bool,
    /// Sign in to a simulator started inside this command (for trying the tool, and the benchmark).
    #[arg(long)]
    pub demo: bool,
    /// The Auth0 login page (overrides AUTH0_LOGIN_URL and the profile).
    #[arg(long, value_name = "URL")]
    pub login_url: Option<String>,
    /// The RMM API base (overrides API_BASE_URL and the profile).
    #[arg(long, value_name = "URL")]
    pub api_base_url: Option<String>,
    /// The Sharp-Start username (overrides USERNAME_1 and the profile).
    #[arg(long)]
    pub username: Option<String>,
    /// Save a screenshot of a failed login step in this folder.
    #[arg(long, value_name = "DIR")]
    pub debug_dir: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `rmm status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// One JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `rmm logout`.
#[derive(Debug, Clone, Args)]
pub struct LogoutArgs {
    /// Also remove the saved password, subscription key and browser session.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Runs one of the commands.
pub async fn run(cmd: AuthCommand, global: &GlobalArgs) -> Result<(), Failure> {
    match cmd {
        AuthCommand::Login(args) if args.demo => login_demo(&args).await,
        AuthCommand::Login(args) => login(&args, global).await,
        AuthCommand::Status(args) => status(&args, global).await,
        AuthCommand::Token(args) => token(&args, global).await,
        AuthCommand::Logout(args) => logout(&args, global).await,
    }
}

fn resolve(global: &GlobalArgs, flags: ProfileFlags) -> Result<ResolvedProfile, Failure> {
    let path = SettingsFile::default_path().map_err(|e| Failure::Local(e.to_string()))?;
    let file = SettingsFile::load(&path).map_err(|e| Failure::BadInput(e.to_string()))?;
    let env = crate::fleet_connection::env_vars(global, &file)?;
    let flags = ProfileFlags {
        profile: global.profile.clone(),
        ..flags
    };
    resolve_profile(&flags, &env, &file).map_err(|e| Failure::BadInput(e.to_string()))
}

fn store_of(resolved: &ResolvedProfile) -> Result<Arc<dyn TokenStore>, Failure> {
    let store = resolved
        .token_store()
        .map_err(|e| Failure::Local(e.to_string()))?;
    if resolved.profile.token_file.is_some() {
        eprintln!("rmm: note: secrets are kept in {}", store.describe());
    }
    Ok(store)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, rmm_auth::StoreError> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| Failure::Local("the token store task failed".to_owned()))?
        .map_err(|e| Failure::Local(e.to_string()))
}

async fn login(args: &LoginArgs, global: &GlobalArgs) -> Result<(), Failure> {
    let resolved = resolve(
        global,
        ProfileFlags {
            login_url: args.login_url.clone(),
            api_base_url: args.api_base_url.clone(),
            username: args.username.clone(),
            token_file: args.store.token_file.clone(),
            headless: if args.browser {
                Some(false)
            } else if args.headless {
                Some(true)
            } else {
                None
            },
            debug_dir: args.debug_dir.clone(),
            ..Default::default()
        },
    )?;
    let store = store_of(&resolved)?;
    // The saved secrets go only where they were saved for; --login-url/--api-base-url move
    // the profile on purpose (and forget its token).
    let moved = args.login_url.is_some() || args.api_base_url.is_some();
    let (s, r) = (store.clone(), resolved.clone());
    tokio::task::spawn_blocking(move || {
        if moved {
            let path = SettingsFile::default_path()?;
            rmm_core::settings::move_profile_to(&path, &r, s.as_ref())
        } else {
            r.check_secret_origins(s.as_ref())
        }
    })
    .await
    .map_err(|_| Failure::Local("the token store task failed".to_owned()))?
    .map_err(|e| match e {
        rmm_core::settings::SettingsError::Store(s) => Failure::Local(s.to_string()),
        other => Failure::BadInput(other.to_string()),
    })?;
    let s = store.clone();
    let r = resolved.clone();
    let (mut password, subscription_key) = blocking(move || {
        let pw = r.password(s.as_ref()).map_err(settings_to_store)?;
        let key = r.subscription_key(s.as_ref()).map_err(settings_to_store)?;
        Ok((pw, key))
    })
    .await?;
    if args.save_credentials && password.is_none() {
        password = Some(read_password_from_stdin(
            resolved.profile.username.as_deref(),
        )?);
    }
    let config = resolved
        .login_config(password.clone(), subscription_key.clone())
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    let rules = resolved
        .validation_rules()
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    let validator = Arc::new(TokenValidator::new(rules));
    let login = Arc::new(HeadlessLogin::new(config, validator.clone()));
    let manager = TokenManager::new(login, Some(store.clone()), TokenManager::DEFAULT_MARGIN);
    let token = manager.login_now().await.map_err(|e| login_failure(&e))?;
    let learned_issuer = validator.learned_issuer().await;
    // A profile without an audience learns it now; one with another audience refuses the
    // token (and forgets it: the manager has already stored it).
    let (name, audiences, s) = (
        resolved.profile.name.clone(),
        token.claims().audiences(),
        store.clone(),
    );
    tokio::task::spawn_blocking(move || {
        let local = |e: &dyn std::fmt::Display| Failure::Local(e.to_string());
        let path = SettingsFile::default_path().map_err(|e| local(&e))?;
        let check =
            rmm_core::settings::learn_audience(&path, &name, &audiences).map_err(|e| local(&e))?;
        if let Some(refusal) = check.refusal() {
            s.delete_token().map_err(|e| local(&e))?;
            return Err(Failure::Auth(refusal));
        }
        if let Some(learned) = &learned_issuer {
            rmm_core::settings::pin_issuer(&path, &name, learned).map_err(|e| local(&e))?;
        }
        Ok(())
    })
    .await
    .map_err(|_| Failure::Local("the settings task failed".to_owned()))??;
    if args.save_credentials {
        let s = store.clone();
        blocking(move || {
            if let Some(pw) = &password {
                s.save_secret(SecretKind::Password, pw)?;
            }
            if let Some(key) = &subscription_key {
                s.save_secret(SecretKind::SubscriptionKey, key)?;
            }
            Ok(())
        })
        .await?;
        eprintln!("rmm: credentials saved in {}", store.describe());
    }
    print_signed_in(&token, &store.describe());
    Ok(())
}

async fn login_demo(args: &LoginArgs) -> Result<(), Failure> {
    let sim = rmm_sim::start(rmm_sim::SimConfig {
        devices: 50,
        ..Default::default()
    })
    .await
    .map_err(|e| Failure::Local(format!("cannot start the demo simulator: {e}")))?;
    let i = sim.info().clone();
    let file = rmm_core::settings::Profile {
        name: "demo".to_owned(),
        login_url: Some(i.login_url.clone()),
        api_base_url: Some(i.api_base_url.clone()),
        dashboard_url: Some(i.dashboard_url.clone()),
        issuer: Some(i.issuer.clone()),
        audience: Some(i.audience.clone()),
        jwks_url: Some(i.jwks_url.clone()),
        username: Some(i.username.clone()),
        group_id: Some(i.group_id.clone()),
        token_file: args.store.token_file.clone(),
        headless: Some(!args.browser),
        debug_dir: args.debug_dir.clone(),
        ..Default::default()
    };
    let mut settings = SettingsFile::default();
    settings.profiles.insert("demo".to_owned(), file);
    let resolved = resolve_profile(
        &ProfileFlags {
            profile: Some("demo".to_owned()),
            ..Default::default()
        },
        &EnvVars::default(),
        &settings,
    )
    .map_err(|e| Failure::BadInput(e.to_string()))?;
    let store = store_of(&resolved)?;
    let started = std::time::Instant::now();
    let config = resolved
        .login_config(
            Some(SecretString::from(i.password.clone())),
            Some(SecretString::from(i.subscription_key.clone())),
        )
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    let rules = resolved
        .validation_rules()
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    let login = Arc::new(HeadlessLogin::new(
        config,
        Arc::new(TokenValidator::new(rules)),
    ));
    let manager = TokenManager::new(
        login.clone(),
        Some(store.clone()),
        TokenManager::DEFAULT_MARGIN,
    );
    let outcome = manager.login_now().await;
    let elapsed = started.elapsed();
    sim.shutdown().await;
    let token = outcome.map_err(|e| login_failure(&e))?;
    print_signed_in(&token, &store.describe());
    let figures = login.last_figures();
    eprintln!(
        "rmm: demo login took {} ms with {} page loads",
        elapsed.as_millis(),
        figures.page_loads
    );
    Ok(())
}

fn settings_to_store(e: rmm_core::settings::SettingsError) -> rmm_auth::StoreError {
    match e {
        rmm_core::settings::SettingsError::Store(s) => s,
        other => rmm_auth::StoreError::Keyring {
            action: "read",
            item: "settings",
            detail: other.to_string(),
        },
    }
}

fn read_password_from_stdin(user: Option<&str>) -> Result<SecretString, Failure> {
    let mut line = String::new();
    {
        // On a terminal the password is not shown as it is typed: the echo goes off before
        // the prompt, so nothing typed after the prompt appears.
        #[cfg(unix)]
        let _quiet = EchoOff::on_stdin();
        eprint!(
            "Password for {}: ",
            user.unwrap_or("the Sharp-Start account")
        );
        let _ = std::io::stderr().flush();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::Local(format!("cannot read the password from stdin: {e}")))?;
    }
    let pw = line.trim_end_matches(['\r', '\n']).to_owned();
    if pw.is_empty() {
        return Err(Failure::BadInput(
            "password: must not be empty (give it on stdin or with PASSWORD_1)".to_owned(),
        ));
    }
    Ok(SecretString::from(pw))
}

/// The terminal's echo turned off while it lives (and nothing when stdin is no terminal);
/// the newline the person types is still shown.
#[cfg(unix)]
struct EchoOff(Option<rustix::termios::Termios>);

#[cfg(unix)]
impl EchoOff {
    fn on_stdin() -> Self {
        use rustix::termios::{LocalModes, OptionalActions, isatty, tcgetattr, tcsetattr};
        let stdin = std::io::stdin();
        if !isatty(&stdin) {
            return Self(None);
        }
        let Ok(saved) = tcgetattr(&stdin) else {
            return Self(None);
        };
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        quiet.local_modes.insert(LocalModes::ECHONL);
        match tcsetattr(&stdin, OptionalActions::Now, &quiet) {
            Ok(()) => Self(Some(saved)),
            Err(_) => Self(None),
        }
    }
}

#[cfg(unix)]
impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ = rustix::termios::tcsetattr(
                std::io::stdin(),
                rustix::termios::OptionalActions::Now,
                saved,
            );
        }
    }
}

fn print_signed_in(token: &AccessToken, where_kept: &str) {
    let c = token.claims();
    out!(
        "Signed in as {} (tenant {}); token {}; kept in {}",
        c.email
            .as_deref()
            .or(c.sub.as_deref())
            .unwrap_or("unknown user"),
        c.tenant_id.as_deref().unwrap_or("unknown"),
        expiry_text(token),
        where_kept
    );
}

fn expiry_text(token: &AccessToken) -> String {
    match token.remaining_at(SystemTime::now()) {
        Some(left) => format!("expires in {}", human(left)),
        None => "has expired".to_owned(),
    }
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h {}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m {}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

async fn load_token(
    args: &StoreArgs,
    global: &GlobalArgs,
) -> Result<(Option<AccessToken>, Arc<dyn TokenStore>), Failure> {
    let resolved = resolve(
        global,
        ProfileFlags {
            token_file: args.token_file.clone(),
            ..Default::default()
        },
    )?;
    let store = store_of(&resolved)?;
    let s = store.clone();
    let token = blocking(move || s.load_token()).await?;
    Ok((token, store))
}

async fn status(args: &StatusArgs, global: &GlobalArgs) -> Result<(), Failure> {
    let (token, store) = load_token(&args.store, global).await?;
    let Some(token) = token else {
        if args.json {
            out!(
                "{}",
                serde_json::json!({"signedIn": false, "store": store.describe()})
            );
        }
        return Err(Failure::Local("not signed in; run `rmm login`".to_owned()));
    };
    let c = token.claims();
    let expires_at = token
        .expires_at()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let left = token.remaining_at(SystemTime::now());
    if args.json {
        out!(
            "{}",
            serde_json::json!({
                "signedIn": true,
                "valid": left.is_some(),
                "user": c.email,
                "subject": c.sub,
                "tenant": c.tenant_id,
                "issuer": c.iss,
                "expiresAt": expires_at,
                "expiresInSecs": left.map(|d| d.as_secs()).unwrap_or(0),
                "source": token.origin(),
                "store": store.describe(),
            })
        );
    } else {
        out!(
            "user:    {}\ntenant:  {}\ntoken:   {}\nsource:  {}\nstored:  {}",
            c.email.as_deref().or(c.sub.as_deref()).unwrap_or("unknown"),
            c.tenant_id.as_deref().unwrap_or("unknown"),
            expiry_text(&token),
            token.origin(),
            store.describe()
        );
    }
    Ok(())
}

async fn token(args: &StoreArgs, global: &GlobalArgs) -> Result<(), Failure> {
    let (token, _) = load_token(args, global).await?;
    match token {
        Some(t) if t.remaining_at(SystemTime::now()).is_some() => {
            out!("{}", t.expose_jwt());
            Ok(())
        }
        Some(_) => Err(Failure::Local(
            "the stored token has expired; run `rmm login`".to_owned(),
        )),
        None => Err(Failure::Local("not signed in; run `rmm login`".to_owned())),
    }
}

async fn logout(args: &LogoutArgs, global: &GlobalArgs) -> Result<(), Failure> {
    let resolved = resolve(
        global,
        ProfileFlags {
            token_file: args.store.token_file.clone(),
            ..Default::default()
        },
    )?;
    let store = store_of(&resolved)?;
    let s = store.clone();
    let all = args.all;
    blocking(move || {
        s.delete_token()?;
        if all {
            s.delete_secret(SecretKind::Password)?;
            s.delete_secret(SecretKind::SubscriptionKey)?;
            s.delete_secret(SecretKind::Origins)?;
        }
        Ok(())
    })
    .await?;
    if all {
        let dir = resolved
            .browser_profile_dir()
            .map_err(|e| Failure::Local(e.to_string()))?;
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| {
                Failure::Local(format!(
                    "cannot remove the browser session {}: {e}",
                    dir.display()
                ))
            })?;
        }
        out!(
            "Signed out of profile {}: token, saved credentials and browser session removed",
            resolved.profile.name
        );
    } else {
        out!(
            "Signed out of profile {}: token removed",
            resolved.profile.name
        );
    }
    Ok(())
}

/// A sign-in the identity provider or the validation refused exits 3 (sign-in needed), as the
/// README says; a missing setting 2; anything that merely failed on this machine 1.
fn login_failure(error: &rmm_auth::LoginError) -> Failure {
    use rmm_auth::LoginError as E;
    match error {
        E::Refused { .. } | E::Rejected(_) | E::ApiCheck(_) => Failure::Auth(error.to_string()),
        E::NotConfigured(_) => Failure::BadInput(error.to_string()),
        _ => Failure::Local(error.to_string()),
    }
}
