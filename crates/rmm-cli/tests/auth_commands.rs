//! `rmm login | status | token | logout` as a user runs them, one process after another, against
//! `rmm sim --profile demo` and real headless Chromium: the token is captured and kept, status
//! tells who without showing it, `token` prints it for scripts, logout removes it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// Kills the simulator when the test ends, pass or fail.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Every command of the test sees the same private settings folder and explicit file store.
struct Home {
    _dir: tempfile::TempDir,
    config: PathBuf,
    secrets: PathBuf,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Home {
            config: dir.path().join("config"),
            secrets: dir.path().join("secrets.json"),
            _dir: dir,
        }
    }

    fn rmm(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rmm"));
        command
            .args(args)
            .env("RMM_CONFIG_DIR", &self.config)
            .env("TOKEN_FILE", &self.secrets)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.rmm(args).output().unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn start_sim(home: &Home) -> (Running, serde_json::Value) {
    let mut running = Running(
        home.rmm(&["sim", "--devices", "10", "--profile", "demo"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(running.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (running, serde_json::from_str(line.trim()).unwrap())
}

fn assert_secret_free(what: &str, output: &Output, secrets: &[&str]) {
    for stream in [text(&output.stdout), text(&output.stderr)] {
        for secret in secrets {
            assert!(!stream.contains(secret), "{what} showed a secret: {stream}");
        }
    }
}

#[test]
fn login_status_token_logout_round_trip_through_the_real_binary() {
    assert!(
        Path::new("/usr/bin/chromium").exists() || which_chromium(),
        "these tests need Chromium (scripts/setup installs it)"
    );
    let home = Home::new();
    let (_sim, info) = start_sim(&home);
    let password = info["password"].as_str().unwrap();
    let key = info["subscription_key"].as_str().unwrap();

    let login = home.run(&["--profile", "demo", "login", "--headless"]);
    assert!(
        login.status.success(),
        "login failed: {}",
        text(&login.stderr)
    );
    assert!(text(&login.stdout).contains(info["username"].as_str().unwrap()));

    let token = home.run(&["--profile", "demo", "token"]);
    assert!(token.status.success(), "{}", text(&token.stderr));
    let jwt = text(&token.stdout).trim().to_owned();
    assert_eq!(jwt.split('.').count(), 3, "not a JWT: {jwt}");
    assert_secret_free("login", &login, &[&jwt, password, key]);

    // The captured token is the real thing: the API accepts it.
    let tenants = tenants_status(&info, &jwt);
    assert_eq!(tenants, 200);

    let status = home.run(&["--profile", "demo", "status", "--json"]);
    assert!(status.status.success(), "{}", text(&status.stderr));
    assert_secret_free("status", &status, &[&jwt, password, key]);
    let shown: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(shown["signedIn"], true);
    assert_eq!(shown["user"], info["username"]);
    assert_eq!(shown["tenant"], info["group_id"]);
    assert!(shown["expiresInSecs"].as_u64().unwrap() > 3000, "{shown}");

    // The settings file names the profile but holds none of the secrets.
    let settings = std::fs::read_dir(&home.config)
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default())
        .collect::<String>();
    for secret in [jwt.as_str(), password, key] {
        assert!(
            !settings.contains(secret),
            "the settings file holds a secret"
        );
    }

    let logout = home.run(&["--profile", "demo", "logout"]);
    assert!(logout.status.success(), "{}", text(&logout.stderr));
    let after = home.run(&["--profile", "demo", "status", "--json"]);
    assert!(!after.status.success(), "status succeeded after logout");
    let shown: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
    assert_eq!(shown["signedIn"], false);
    let no_token = home.run(&["--profile", "demo", "token"]);
    assert!(!no_token.status.success());
    assert!(
        no_token.stdout.is_empty(),
        "token printed something after logout"
    );
    assert!(
        text(&no_token.stderr).contains("rmm login"),
        "{}",
        text(&no_token.stderr)
    );
}

#[test]
fn a_wrong_password_fails_with_the_identity_providers_words_and_stores_nothing() {
    let home = Home::new();
    let (_sim, info) = start_sim(&home);
    let login = home
        .rmm(&["--profile", "demo", "login", "--headless"])
        .env("PASSWORD_1", "not-the-password")
        .output()
        .unwrap();
    assert!(!login.status.success(), "a wrong password signed in");
    // The README: 3 means sign-in needed or refused.
    assert_eq!(login.status.code(), Some(3), "{}", text(&login.stderr));
    let stderr = text(&login.stderr);
    assert!(stderr.contains("Login Failed"), "{stderr}");
    assert_secret_free(
        "failed login",
        &login,
        &["not-the-password", info["password"].as_str().unwrap()],
    );
    let status = home.run(&["--profile", "demo", "status", "--json"]);
    assert!(!status.status.success());
}

/// Every file under `dir`.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            files_under(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

#[test]
fn a_password_sign_in_at_trace_level_logs_no_secret_and_leaves_owner_only_files() {
    // Issue 13, finding 2: `RUST_LOG=trace rmm login` logged the typed password (inside
    // `Input.insertText`), the token and the key through the websocket crate's log bridge.
    let home = Home::new();
    let (_sim, info) = start_sim(&home);
    let password = info["password"].as_str().unwrap();
    let key = info["subscription_key"].as_str().unwrap();
    let login = home
        .rmm(&["-vvv", "--profile", "demo", "login", "--headless"])
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    let stderr = text(&login.stderr);
    assert!(login.status.success(), "login failed: {stderr}");
    // The log saw the login (so the scan means something), below info level.
    assert!(
        stderr.contains("bearer header captured") && stderr.contains("DEBUG"),
        "too little logged: {stderr}"
    );
    let token = home.run(&["--profile", "demo", "token"]);
    let jwt = text(&token.stdout).trim().to_owned();
    assert_eq!(jwt.split('.').count(), 3, "not a JWT");
    let signature = jwt.rsplit('.').next().unwrap().to_owned();
    let secrets = [jwt.as_str(), signature.as_str(), password, key];
    for secret in secrets {
        assert!(!stderr.contains(secret), "a secret reached the trace log");
    }
    // A fleet command at trace level too (the token and key on every request).
    let devices = home
        .rmm(&["-vvv", "--profile", "demo", "devices"])
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    assert!(devices.status.success(), "{}", text(&devices.stderr));
    for secret in secrets {
        assert!(
            !text(&devices.stderr).contains(secret),
            "a secret reached the trace log of `rmm devices`"
        );
    }

    // No file the runs wrote holds a secret, but the file store asked for.
    let mut files = Vec::new();
    files_under(&home.config, &mut files);
    assert!(files.len() > 3, "too few files written: {files:?}");
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        for secret in secrets {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a secret was written to {}",
                f.display()
            );
        }
    }

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&home.config.join("settings.toml")), 0o600);
        assert_eq!(mode(&home.config), 0o700);
        let profiles = home.config.join("data").join("browser-profiles");
        assert_eq!(mode(&profiles), 0o700, "browser profiles folder");
        assert_eq!(mode(&profiles.join("demo")), 0o700, "browser profile");
        let audit = home.config.join("data").join("audit.sqlite");
        assert_eq!(mode(&audit), 0o600, "audit database");
    }
}

#[cfg(unix)]
#[test]
fn a_password_typed_on_a_terminal_is_not_echoed() {
    // Issue 13, finding 6: `rmm login --save-credentials` echoed the password as it was typed.
    use std::io::{Read, Write};
    let home = Home::new();
    let (_sim, info) = start_sim(&home);
    let password = info["password"].as_str().unwrap();
    let forget = home.run(&["--profile", "demo", "logout", "--all"]);
    assert!(forget.status.success(), "{}", text(&forget.stderr));

    // `script` gives the command a terminal and copies what it shows to our pipe.
    let command_line = format!(
        "{} --profile demo login --headless --save-credentials",
        env!("CARGO_BIN_EXE_rmm")
    );
    let mut child = Command::new("script")
        .args(["-qec", &command_line, "/dev/null"])
        .env("RMM_CONFIG_DIR", &home.config)
        .env("TOKEN_FILE", &home.secrets)
        .env(
            "OCP_APIM_SUBSCRIPTION_KEY",
            info["subscription_key"].as_str().unwrap(),
        )
        .env_remove("PASSWORD_1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script (util-linux) runs");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        // Until the prompt, then the rest.
        let mut seen = Vec::new();
        let mut byte = [0u8; 1];
        while !String::from_utf8_lossy(&seen).contains("Password for") {
            match stdout.read(&mut byte) {
                Ok(1) => seen.push(byte[0]),
                _ => return (seen, None),
            }
        }
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let rest = std::thread::spawn(move || {
            let mut rest = Vec::new();
            let _ = stdout.read_to_end(&mut rest);
            drop(tx);
            rest
        });
        (seen, Some((rx, rest)))
    });
    // Typed only once the prompt is there, so the terminal's echo (if on) would show it.
    let (prompt, rest) = reader.join().unwrap();
    let (done, rest) =
        rest.unwrap_or_else(|| panic!("no prompt: {}", String::from_utf8_lossy(&prompt)));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{password}\n").as_bytes()).unwrap();
    let status = child.wait().unwrap();
    drop(stdin);
    let _ = done.recv_timeout(std::time::Duration::from_secs(5));
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&prompt),
        String::from_utf8_lossy(&rest.join().unwrap())
    );
    assert!(status.success(), "login failed: {shown}");
    assert!(shown.contains("Signed in as"), "{shown}");
    assert!(
        !shown.contains(password),
        "the password was echoed: {shown}"
    );
}

fn which_chromium() -> bool {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .any(|name| {
            Command::new("which")
                .arg(name)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        })
}

/// The API's answer to `GET /api/v1/tenants` with `jwt`.
fn tenants_status(info: &serde_json::Value, jwt: &str) -> u16 {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        reqwest::Client::new()
            .get(format!(
                "{}/api/v1/tenants",
                info["api_base_url"].as_str().unwrap()
            ))
            .bearer_auth(jwt)
            .header(
                "ocp-apim-subscription-key",
                info["subscription_key"].as_str().unwrap(),
            )
            // As the dashboard asks it: a cloud may answer this endpoint only to the browser
            // (the simulator's `tenants-need-browser` mode).
            .header(
                "origin",
                info["dashboard_url"]
                    .as_str()
                    .unwrap()
                    .trim_end_matches('/'),
            )
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

/// A profile that names no issuer, whose login page is not on the issuer's origin (a custom
/// Auth0 domain: here the same server under another name): the sign-in succeeds through the
/// token's own discovery document, and the issuer and its keys are pinned in the profile.
#[test]
fn an_issuer_learned_at_sign_in_is_pinned_in_the_profile() {
    let home = Home::new();
    let (_sim, info) = start_sim(&home);
    let settings = home.config.join("settings.toml");
    let mut file = rmm_core::settings::SettingsFile::load(&settings).unwrap();
    let profile = file.profiles.get_mut("demo").unwrap();
    profile.issuer = None;
    profile.jwks_url = None;
    profile.login_url = Some(
        info["login_url"]
            .as_str()
            .unwrap()
            .replace("127.0.0.1", "localhost"),
    );
    file.save(&settings).unwrap();
    // The secrets `rmm sim` saved are bound to its addresses, which this profile no longer
    // names: start without them, the password and key from the environment.
    std::fs::remove_file(&home.secrets).unwrap();

    let login = home
        .rmm(&["--profile", "demo", "login", "--headless"])
        .env("PASSWORD_1", info["password"].as_str().unwrap())
        .env(
            "OCP_APIM_SUBSCRIPTION_KEY",
            info["subscription_key"].as_str().unwrap(),
        )
        .output()
        .unwrap();
    assert!(
        login.status.success(),
        "login failed: {}",
        text(&login.stderr)
    );
    let pinned = rmm_core::settings::SettingsFile::load(&settings).unwrap();
    let profile = &pinned.profiles["demo"];
    assert_eq!(profile.issuer.as_deref(), info["issuer"].as_str());
    assert_eq!(profile.jwks_url.as_deref(), info["jwks_url"].as_str());
    // The token saved at sign-in is still this profile's, now that its issuer is pinned.
    let status = home
        .rmm(&["--profile", "demo", "status"])
        .env(
            "OCP_APIM_SUBSCRIPTION_KEY",
            info["subscription_key"].as_str().unwrap(),
        )
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", text(&status.stderr));
    assert!(
        text(&status.stdout).contains(info["username"].as_str().unwrap()),
        "{}",
        text(&status.stdout)
    );
}
