//! Secrets never leak: a failed login, a successful one, status-like output and API calls run
//! with known token, password and subscription-key values, while every log line (at trace
//! level, with the filter directives every face must use), every file written under the
//! temporary home and every message shown is collected; none may contain a secret.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common {
    pub mod sim;
}

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use common::sim::{headless, login_config, start_sim, validator};
use rmm_auth::{
    AccessToken, SECRET_SAFE_LOG_DIRECTIVES, SecretKind, StoreError, TokenManager, TokenOrigin,
    TokenStore,
};
use secrecy::{ExposeSecret, SecretString};

/// Collects log output.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stands in for the OS keyring (the one place secrets may go), so the scan of files covers
/// everything else.
#[derive(Default)]
struct MemoryStore {
    token: Mutex<Option<AccessToken>>,
    secrets: Mutex<HashMap<&'static str, String>>,
}

impl TokenStore for MemoryStore {
    fn describe(&self) -> String {
        "memory".into()
    }
    fn load_token(&self) -> Result<Option<AccessToken>, StoreError> {
        Ok(self.token.lock().unwrap().clone())
    }
    fn save_token(&self, token: &AccessToken) -> Result<(), StoreError> {
        *self.token.lock().unwrap() = Some(token.clone());
        Ok(())
    }
    fn delete_token(&self) -> Result<(), StoreError> {
        *self.token.lock().unwrap() = None;
        Ok(())
    }
    fn load_secret(&self, kind: SecretKind) -> Result<Option<SecretString>, StoreError> {
        Ok(self
            .secrets
            .lock()
            .unwrap()
            .get(kind.name())
            .cloned()
            .map(SecretString::from))
    }
    fn save_secret(&self, kind: SecretKind, value: &SecretString) -> Result<(), StoreError> {
        self.secrets
            .lock()
            .unwrap()
            .insert(kind.name(), value.expose_secret().to_owned());
        Ok(())
    }
    fn delete_secret(&self, kind: SecretKind) -> Result<(), StoreError> {
        self.secrets.lock().unwrap().remove(kind.name());
        Ok(())
    }
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            files_under(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_logs_files_or_messages() {
    let logs = LogBuffer::default();
    let sink = logs.clone();
    let filter = tracing_subscriber::EnvFilter::new(format!(
        "trace,{}",
        SECRET_SAFE_LOG_DIRECTIVES.join(",")
    ));
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish(),
    )
    .unwrap();

    let home = tempfile::tempdir().unwrap();
    let sim = start_sim().await;
    let password = sim.info().password.clone();
    let key = sim.info().subscription_key.clone();
    let wrong = "Wrong-Known-Pass-9";
    let mut shown: Vec<String> = Vec::new();

    // A refused login.
    let bad = headless(&sim, &home.path().join("bad"), Some(wrong));
    let e = bad.run().await.unwrap_err();
    shown.push(e.to_string());
    shown.push(format!("{e:?}"));
    shown.push(format!(
        "{:?}",
        login_config(&sim, home.path(), Some(&password))
    ));

    // A good login through the manager, as `rmm login` does.
    let store = Arc::new(MemoryStore::default());
    let login = Arc::new(headless(&sim, &home.path().join("good"), Some(&password)));
    let manager = TokenManager::new(login, Some(store.clone()), TokenManager::DEFAULT_MARGIN);
    let token = manager.login_now().await.unwrap();
    let jwt = token.expose_jwt().to_owned();
    shown.push(format!("{token:?} {:?}", token.claims()));
    shown.push(format!("{:?}", store.load_token().unwrap()));

    // API calls with the manager as the client's token source.
    let config = rmm_api::ApiConfig::new(
        &sim.info().api_base_url,
        SecretString::from(key.clone()),
        "+05:30",
    )
    .unwrap();
    shown.push(format!("{config:?}"));
    let client = rmm_api::ApiClient::new(config, Arc::new(manager.clone())).unwrap();
    let tenants = client.tenants().await.unwrap();
    shown.push(format!("{tenants:?}"));

    // A broken copy of the token is refused without being repeated.
    let v = validator(&sim);
    let e = v
        .validate(&format!("{jwt}x"), TokenOrigin::Pasted)
        .await
        .unwrap_err();
    shown.push(e.to_string());
    let e = v
        .validate(&jwt[..jwt.len() / 2], TokenOrigin::Pasted)
        .await
        .unwrap_err();
    shown.push(e.to_string());
    sim.shutdown().await;

    let secrets = [jwt.as_str(), password.as_str(), key.as_str(), wrong];
    // The signature alone is as secret as the token.
    let signature = jwt.rsplit('.').next().unwrap().to_owned();

    let log_text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        log_text.lines().count() > 5,
        "the log capture saw too little to mean anything:\n{log_text}"
    );
    for s in secrets.iter().chain([&signature.as_str()]) {
        assert!(!log_text.contains(s), "a secret reached the log");
        for m in &shown {
            assert!(!m.contains(s), "a secret reached a message: {m}");
        }
    }

    let mut files = Vec::new();
    files_under(home.path(), &mut files);
    assert!(
        !files.is_empty(),
        "the browser profile should have written files"
    );
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        for s in secrets.iter().chain([&signature.as_str()]) {
            assert!(
                !contains(&bytes, s),
                "a secret was written to {}",
                f.display()
            );
        }
    }
}
