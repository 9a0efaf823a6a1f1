//! The token stores: a round trip through a real gnome-keyring (Secret Service) that this
//! test starts under its own D-Bus session, the clear error when no keyring can be reached,
//! and the plain-file store's owner-only permissions.
//!
//! The keyring tests re-run this test binary as a child process (marked by an environment
//! variable) inside the prepared environment, because the keyring library binds to the
//! session bus once per process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common {
    pub mod keys;
}

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::keys::{AUDIENCE, ISSUER, JwksServer, TestKey, claims};
use rmm_auth::{
    AccessToken, FileStore, KeyringStore, SecretKind, StoreError, TokenOrigin, TokenStore,
    TokenValidator, ValidationRules,
};
use secrecy::{ExposeSecret, SecretString};

const CHILD: &str = "RMM_AUTH_STORE_TEST_CHILD";
const PASSED: &str = "STORE-CHILD-PASSED";

async fn a_token() -> AccessToken {
    let key = TestKey::generate("k1");
    let server = JwksServer::start(vec![key.jwk.clone()]).await;
    let v = TokenValidator::new(ValidationRules {
        issuer: Some(ISSUER.into()),
        audience: Some(AUDIENCE.into()),
        jwks_url: Some(server.url.clone()),
        clock_skew: Duration::from_secs(30),
        issuer_guessed: false,
        issuer_hosts: Vec::new(),
    });
    v.validate(&key.sign(&claims()), TokenOrigin::HeadlessBrowser)
        .await
        .unwrap()
}

/// Runs the named test of this binary as a child with `env`, through `wrapper` if given.
fn run_child(test: &str, mode: &str, wrapper: &[&str], env: &[(&str, &Path)]) -> String {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = if wrapper.is_empty() {
        Command::new(&exe)
    } else {
        let mut c = Command::new(wrapper[0]);
        c.args(&wrapper[1..]).arg(&exe);
        c
    };
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, mode);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child failed:\n{text}");
    text
}

#[test]
fn keyring_round_trip_against_a_real_secret_service() {
    if std::env::var(CHILD).as_deref() == Ok("keyring") {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let token = rt.block_on(a_token());
        KeyringStore::check_available().unwrap();
        let store = KeyringStore::new("round-trip");
        assert!(store.load_token().unwrap().is_none());
        store.save_token(&token).unwrap();
        let back = store.load_token().unwrap().unwrap();
        assert_eq!(back.expose_jwt(), token.expose_jwt());
        assert_eq!(back.origin(), TokenOrigin::HeadlessBrowser);
        assert_eq!(back.claims(), token.claims());
        let pw = SecretString::from("Known-Pa55word!".to_owned());
        store.save_secret(SecretKind::Password, &pw).unwrap();
        store
            .save_secret(
                SecretKind::SubscriptionKey,
                &SecretString::from("0123abcd".to_owned()),
            )
            .unwrap();
        assert_eq!(
            store
                .load_secret(SecretKind::Password)
                .unwrap()
                .unwrap()
                .expose_secret(),
            "Known-Pa55word!"
        );
        // Profiles do not see each other's items.
        assert!(KeyringStore::new("other").load_token().unwrap().is_none());
        store.delete_token().unwrap();
        store.delete_token().unwrap(); // deleting twice is fine
        assert!(store.load_token().unwrap().is_none());
        store.delete_secret(SecretKind::Password).unwrap();
        assert!(store.load_secret(SecretKind::Password).unwrap().is_none());
        assert!(
            store
                .load_secret(SecretKind::SubscriptionKey)
                .unwrap()
                .is_some()
        );
        println!("{PASSED}");
        return;
    }
    for tool in ["dbus-run-session", "gnome-keyring-daemon"] {
        assert!(
            Command::new("sh")
                .args(["-c", &format!("command -v {tool} >/dev/null")])
                .status()
                .unwrap()
                .success(),
            "this test needs {tool} (apt-get install dbus gnome-keyring)"
        );
    }
    let home = tempfile::tempdir().unwrap();
    let runtime = home.path().join("run");
    std::fs::create_dir_all(&runtime).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let out = run_child(
        "keyring_round_trip_against_a_real_secret_service",
        "keyring",
        &[
            "dbus-run-session",
            "--",
            "sh",
            "-c",
            "echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec \"$@\"",
            "sh",
        ],
        &[
            ("HOME", home.path()),
            ("XDG_DATA_HOME", &home.path().join("data")),
            ("XDG_CONFIG_HOME", &home.path().join("config")),
            ("XDG_CACHE_HOME", &home.path().join("cache")),
            ("XDG_RUNTIME_DIR", &runtime),
        ],
    );
    assert!(
        out.contains(PASSED),
        "the child did not run the round trip:\n{out}"
    );
}

#[test]
fn no_reachable_keyring_gives_a_clear_error() {
    if std::env::var(CHILD).as_deref() == Ok("no-keyring") {
        let err = KeyringStore::check_available().unwrap_err();
        assert!(matches!(err, StoreError::NoKeyring { .. }), "{err}");
        let store = KeyringStore::new("nowhere");
        let err = store
            .save_secret(SecretKind::Password, &SecretString::from("x".to_owned()))
            .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, StoreError::NoKeyring { .. }), "{msg}");
        assert!(msg.contains("no OS keyring"), "{msg}");
        assert!(
            msg.contains("--token-file"),
            "the error must say how to choose the file store: {msg}"
        );
        println!("{PASSED}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("no-bus-here");
    let mut addr = std::ffi::OsString::from("unix:path=");
    addr.push(&nowhere);
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args([
            "--exact",
            "no_reachable_keyring_gives_a_clear_error",
            "--nocapture",
        ])
        .env(CHILD, "no-keyring")
        .env("DBUS_SESSION_BUS_ADDRESS", addr)
        .env("XDG_RUNTIME_DIR", dir.path())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains(PASSED),
        "child failed:\n{text}"
    );
}

#[tokio::test]
async fn the_file_store_is_owner_only_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("token.json");
    let store = FileStore::new(&path);
    assert!(
        store.describe().contains("plain file"),
        "{}",
        store.describe()
    );
    assert!(store.load_token().unwrap().is_none());
    let token = a_token().await;
    store.save_token(&token).unwrap();
    store
        .save_secret(
            SecretKind::SubscriptionKey,
            &SecretString::from("k-123".to_owned()),
        )
        .unwrap();
    assert_eq!(
        store.load_token().unwrap().unwrap().expose_jwt(),
        token.expose_jwt()
    );
    assert_eq!(
        store
            .load_secret(SecretKind::SubscriptionKey)
            .unwrap()
            .unwrap()
            .expose_secret(),
        "k-123"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "token file mode {mode:o}");
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700, "folder mode {dir_mode:o}");
        // A file that was readable by others is narrowed on the next write.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        store.delete_secret(SecretKind::SubscriptionKey).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "token file mode after rewrite {mode:o}");
    }
    store.delete_token().unwrap();
    assert!(store.load_token().unwrap().is_none());
    assert!(
        store
            .load_secret(SecretKind::SubscriptionKey)
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_damaged_token_file_is_reported_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token.json");
    std::fs::write(
        &path,
        r#"{"token": {"jwt": "garbage", "origin": "pasted"}}"#,
    )
    .unwrap();
    let err = FileStore::new(&path).load_token().unwrap_err();
    assert!(matches!(err, StoreError::Damaged { .. }), "{err}");
    assert!(err.to_string().contains("rmm logout"));
}
