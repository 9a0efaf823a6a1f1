//! End-to-end, issue 13 finding 2: the desktop app at `RUST_LOG=trace` signs in with
//! "Sign in with Chromium" (rmm-auth drives Chromium over DevTools and types the demo user's
//! password), then reads the fleet (the token and subscription key on every request). Neither
//! the password, the token nor the key is in the app's stderr or in any file the run wrote
//! (the keyring's own encrypted file aside). Before the shared filter the app's log held the
//! bearer token at debug and the password at trace.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use rmm_e2e::demo_app::testid;
use rmm_e2e::desktop::Desktop;
use rmm_e2e::webdriver::Session;
use rmm_e2e::{binaries, demo_sign_in};

const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread")]
async fn a_chromium_sign_in_at_trace_level_leaves_no_secret_in_logs_or_files() {
    let app = binaries::desktop_app().unwrap_or_else(|e| panic!("{e}"));
    let desktop =
        Desktop::start_with(&[("RUST_LOG", "trace")], true).unwrap_or_else(|e| panic!("{e}"));
    let (username, password) = demo_sign_in::demo_credentials().await.unwrap();
    let session = Session::start_tauri_app(desktop.webdriver(), &app, &["--demo"])
        .await
        .unwrap_or_else(|e| panic!("the app did not start: {e}"));
    let button = session
        .wait_for(&testid("session-sign-in-chromium"), LIMIT)
        .await
        .unwrap();
    session.click(&button).await.unwrap();
    session
        .wait_for_text(&testid("session-user"), LIMIT, |t| t == username)
        .await
        .unwrap_or_else(|e| panic!("not signed in through Chromium: {e}"));
    // The grid read the fleet: requests with the token and the key went out.
    let count = session
        .wait_for_text(&testid("fleet-count"), LIMIT, |t| t.contains("devices"))
        .await
        .unwrap_or_else(|e| panic!("no fleet after sign-in: {e}"));
    assert!(count.starts_with("250 devices"), "{count}");

    let stored = desktop.keyring_secret("mcp-rmm:demo", "token").unwrap();
    let stored: serde_json::Value = serde_json::from_str(&stored)
        .unwrap_or_else(|e| panic!("the keyring's token is not JSON ({e})"));
    let jwt = stored["jwt"].as_str().unwrap_or_default().to_owned();
    assert_eq!(jwt.split('.').count(), 3, "no JWT in the keyring");
    let signature = jwt.rsplit('.').next().unwrap_or_default().to_owned();
    // The demo simulator's secrets derive from its seed: a twin has the same key.
    let twin = rmm_sim::start(rmm_sim::SimConfig::default()).await.unwrap();
    let key = twin.info().subscription_key.clone();
    twin.shutdown().await;
    session.close().await.unwrap();

    let secrets = [
        ("the password", password.as_str()),
        ("the token", jwt.as_str()),
        ("the token's signature", signature.as_str()),
        ("the subscription key", key.as_str()),
    ];
    let stderr = std::fs::read_to_string(desktop.stderr_path()).unwrap();
    // The scan means something only if trace events were written.
    assert!(
        stderr.contains("TRACE") && stderr.contains("DEBUG"),
        "too little logged at trace: {} bytes",
        stderr.len()
    );
    for (what, secret) in secrets {
        assert!(!secret.is_empty(), "{what} is unknown to the test");
        assert!(!stderr.contains(secret), "{what} reached the app's stderr");
    }
    let mut files = Vec::new();
    files_under(desktop.root(), &mut files);
    let keyring = desktop.root().join("data").join("keyrings");
    let scanned: Vec<&PathBuf> = files
        .iter()
        .filter(|f| !f.starts_with(&keyring) && f.as_path() != desktop.stderr_path())
        .collect();
    assert!(
        scanned.iter().any(|f| f.to_string_lossy().contains("logs")),
        "no log file among {} files",
        scanned.len()
    );
    for file in scanned {
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        for (what, secret) in secrets {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{what} was written to {}",
                file.display()
            );
        }
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_symlink() {
            continue;
        }
        if path.is_dir() {
            files_under(&path, out);
        } else if path.is_file() {
            out.push(path);
        }
    }
}
