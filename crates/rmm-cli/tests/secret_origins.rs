//! Issue 13, finding 1, reproduced with an "evil" local server that records every byte it is
//! sent: a `.env` in the folder `rmm` runs in, exported variables, an absolute
//! `TENANT_LIST_ENDPOINT` and a settings file moved under the secrets must not send the saved
//! token, subscription key or password anywhere but the origins they were saved for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use common::Setup;
use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A loopback server that answers every request with an empty JSON object and keeps all it
/// was sent.
struct Evil {
    url: String,
    seen: Arc<Mutex<Vec<u8>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Evil {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let kept = seen.clone();
        let task = tokio::spawn(async move {
            // Bounded: a test makes a handful of connections at most.
            for _ in 0..64 {
                let Ok((mut conn, _)) = listener.accept().await else {
                    return;
                };
                let kept = kept.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    if let Ok(Ok(n)) =
                        tokio::time::timeout(std::time::Duration::from_secs(5), conn.read(&mut buf))
                            .await
                    {
                        kept.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                    let _ = conn
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
                        )
                        .await;
                });
            }
        });
        Self { url, seen, task }
    }

    fn received(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    /// Nothing at all reached the server (so no secret did).
    fn assert_untouched(&self, what: &str, secrets: &[&str]) {
        let got = self.received();
        for secret in secrets {
            assert!(
                !got.contains(secret),
                "{what}: the evil server received a secret"
            );
        }
        assert!(
            got.is_empty(),
            "{what}: the evil server was contacted: {got}"
        );
    }
}

impl Drop for Evil {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn secrets_of(s: &Setup) -> Vec<String> {
    vec![
        s.sim.valid_token(),
        s.sim.info().subscription_key.clone(),
        s.sim.info().password.clone(),
    ]
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn a_dotenv_in_the_current_folder_is_not_read() {
    let s = Setup::new(20, true).await;
    let evil = Evil::start().await;
    std::fs::write(
        s.home.path().join(".env"),
        format!(
            "API_BASE_URL={}\nAUTH0_LOGIN_URL={}/login\n",
            evil.url, evil.url
        ),
    )
    .unwrap();
    // `rmm` runs in the folder with the `.env` (Setup::rmm sets it as the current folder).
    let (code, _, err) = s.run(&["devices", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    evil.assert_untouched("rmm devices", &refs(&secrets_of(&s)));
    assert!(s.sim.stats().api_requests > 0);
}

#[tokio::test]
async fn a_dotenv_in_the_current_folder_is_not_read_by_mcp_stdio() {
    let s = Setup::new(20, true).await;
    let evil = Evil::start().await;
    std::fs::write(
        s.home.path().join(".env"),
        format!("API_BASE_URL={}\n", evil.url),
    )
    .unwrap();
    let command = tokio::process::Command::from(s.rmm(&["mcp", "--stdio", "--standalone"]));
    let client = ().serve(TokioChildProcess::new(command).unwrap()).await.unwrap();
    let page = client
        .call_tool(
            CallToolRequestParams::new("list_devices").with_arguments(
                serde_json::json!({"page_size": 5})
                    .as_object()
                    .cloned()
                    .unwrap(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(page.structured_content.unwrap()["summary"]["returned"], 5);
    client.cancel().await.unwrap();
    evil.assert_untouched("rmm mcp --stdio list_devices", &refs(&secrets_of(&s)));
}

#[tokio::test]
async fn exported_variables_cannot_move_a_saved_profile_and_a_named_env_file_neither() {
    let s = Setup::new(20, true).await;
    let evil = Evil::start().await;
    let mut command = s.rmm(&["devices"]);
    command
        .env("API_BASE_URL", &evil.url)
        .env("AUTH0_LOGIN_URL", format!("{}/login", evil.url))
        .stdin(std::process::Stdio::null());
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("API_BASE_URL") && err.contains("AUTH0_LOGIN_URL"),
        "{err}"
    );
    assert!(err.contains("on purpose"), "{err}");

    let env_file = s.home.path().join("project.env");
    std::fs::write(&env_file, format!("API_BASE_URL={}\n", evil.url)).unwrap();
    let (code, _, err) = s
        .run(&["--env-file", env_file.to_str().unwrap(), "devices"])
        .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("API_BASE_URL"), "{err}");
    evil.assert_untouched("rmm devices with API_BASE_URL", &refs(&secrets_of(&s)));
}

#[tokio::test]
async fn an_absolute_tenants_endpoint_is_refused_before_any_login() {
    let s = Setup::new(5, false).await;
    let evil = Evil::start().await;
    let i = s.sim.info().clone();
    // An environment-only profile (no --profile, no saved default), as the old tool ran.
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_rmm"));
    command
        .args(["login", "--headless"])
        .env("RMM_CONFIG_DIR", s.home.path().join("empty-config"))
        .env("TOKEN_FILE", s.home.path().join("env-secrets.json"))
        .env("AUTH0_LOGIN_URL", &i.login_url)
        .env("API_BASE_URL", &i.api_base_url)
        .env("USERNAME_1", &i.username)
        .env("PASSWORD_1", &i.password)
        .env("OCP_APIM_SUBSCRIPTION_KEY", &i.subscription_key)
        .env("TENANT_LIST_ENDPOINT", format!("{}/x", evil.url))
        .env("RUST_LOG", "error")
        .current_dir(s.home.path())
        .stdin(std::process::Stdio::null());
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("tenants_path") && err.contains("under the API base"),
        "{err}"
    );
    evil.assert_untouched(
        "rmm login with TENANT_LIST_ENDPOINT",
        &refs(&secrets_of(&s)),
    );
}

#[tokio::test]
async fn secrets_stay_with_the_origins_they_were_saved_for_whatever_the_settings_file_says() {
    let s = Setup::new(20, true).await;
    // A first use binds the saved secrets to the profile's addresses.
    let (code, _, err) = s.run(&["devices"]).await;
    assert_eq!(code, 0, "{err}");
    let kept = std::fs::read_to_string(s.secrets()).unwrap();
    assert!(kept.contains("origins"), "no origins kept with the secrets");

    // The settings file now points the same profile elsewhere (another config folder, a
    // hand edit): the token, key and password must not follow. Here the API and the login
    // page move; there is no valid token, so a re-login would type the saved password.
    let evil = Evil::start().await;
    let mut contents: serde_json::Value = serde_json::from_str(&kept).unwrap();
    contents["password"] = serde_json::json!(s.sim.info().password);
    contents.as_object_mut().unwrap().remove("token");
    std::fs::write(s.secrets(), contents.to_string()).unwrap();
    let settings = s.config_dir().join("settings.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    let i = s.sim.info();
    let moved = text
        .replace(&i.api_base_url, &format!("{}/", evil.url))
        .replace(&i.login_url, &format!("{}/login", evil.url));
    assert_ne!(moved, text);
    std::fs::write(&settings, moved).unwrap();

    for args in [&["devices"][..], &["summary"][..]] {
        let (code, _, err) = s.run(args).await;
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("saved for other addresses"), "{err}");
        assert!(err.contains(&evil.url), "{err}");
    }
    evil.assert_untouched("a moved settings file", &refs(&secrets_of(&s)));
}

/// Issue 13: a profile without an audience (as the app's Settings or a hand-written file make
/// them) took any valid token of the issuer. `rmm login` now saves the first token's audience
/// into the profile, and the next sign-in checks it.
#[tokio::test]
async fn a_profile_without_an_audience_learns_it_at_login() {
    let s = Setup::new(5, false).await;
    let i = s.sim.info().clone();
    let mut secrets: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.secrets()).unwrap()).unwrap();
    secrets["password"] = serde_json::json!(i.password);
    std::fs::write(s.secrets(), secrets.to_string()).unwrap();
    let settings = s.config_dir().join("settings.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    let without: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("audience"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_ne!(without, text, "the fixture had an audience");
    std::fs::write(&settings, without).unwrap();

    let (code, _, err) = s.run(&["login"]).await;
    assert_eq!(code, 0, "{err}");
    let learned = rmm_core::settings::SettingsFile::load(&settings).unwrap();
    assert_eq!(
        learned
            .profile(common::PROFILE)
            .unwrap()
            .audience
            .as_deref(),
        Some(i.audience.as_str())
    );
}
