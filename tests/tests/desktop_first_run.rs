//! End-to-end: `mcp-rmm` started without `--demo` in fresh XDG folders shows the first-run
//! screen. "Try the demo" starts the simulator inside the running app; signing in through the
//! embedded login window then shows the demo fleet. "Set up a real profile" opens Settings: a
//! bad time zone comes back from rmm-core beside its field with what was typed kept, the
//! saved profile's subscription key is in the OS keyring and in no file under the XDG folders,
//! and switching from it back to the demo at runtime signs in to the demo's fleet.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use rmm_e2e::demo_app::testid;
use rmm_e2e::desktop::Desktop;
use rmm_e2e::webdriver::Session;
use rmm_e2e::{artifacts_dir, binaries, demo_sign_in};

const LIMIT: Duration = Duration::from_secs(60);

/// One app at a time: each brings its own X server and WebKit, on a small machine.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn start_without_demo(desktop: &Desktop) -> Session {
    let app = binaries::desktop_app().unwrap_or_else(|e| panic!("{e}"));
    let session = Session::start_tauri_app(desktop.webdriver(), &app, &[])
        .await
        .unwrap_or_else(|e| panic!("the app did not start: {e}"));
    session
        .wait_for_text(&testid("first-run-title"), LIMIT, |t| t.contains("Welcome"))
        .await
        .unwrap_or_else(|e| panic!("no first-run screen: {e}"));
    session
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_run_screen_starts_the_demo_and_the_demo_signs_in_to_its_fleet() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let desktop = Desktop::start().unwrap_or_else(|e| panic!("{e}"));
    let (username, password) = demo_sign_in::demo_credentials().await.unwrap();
    let session = start_without_demo(&desktop).await;
    let shown = session
        .wait_for_text(&testid("session-user"), LIMIT, |t| !t.is_empty())
        .await
        .unwrap();
    assert_eq!(shown, "No profile set up");
    let _ = session
        .screenshot(&artifacts_dir().join("desktop-first-run.png"))
        .await;

    let demo = session
        .wait_for(&testid("first-run-demo"), LIMIT)
        .await
        .unwrap();
    session.click(&demo).await.unwrap();
    // The simulator runs inside the app now: the About line says where.
    session
        .wait_for_text(&testid("demo-status"), LIMIT, |t| {
            t.starts_with("Demo simulator running at http://127.0.0.1:")
        })
        .await
        .unwrap();

    demo_sign_in::sign_in(&session, &username, &password)
        .await
        .unwrap_or_else(|e| panic!("sign-in to the demo chosen at first run: {e}"));
    let count = session
        .wait_for_text(&testid("fleet-count"), LIMIT, |t| t.contains("devices"))
        .await
        .unwrap_or_else(|e| panic!("no fleet after sign-in: {e}"));
    assert!(count.starts_with("250 devices"), "{count}");
    session.close().await.unwrap();
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        {
            found.push(path.display().to_string());
        }
    }
    found
}

async fn type_into(session: &Session, id: &str, text: &str) {
    let input = session.wait_for(&testid(id), LIMIT).await.unwrap();
    session.type_into(&input, text).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_set_up_at_first_run_keeps_its_key_in_the_keyring_only() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let desktop = Desktop::start().unwrap_or_else(|e| panic!("{e}"));
    let session = start_without_demo(&desktop).await;
    let set_up = session
        .wait_for(&testid("first-run-setup"), LIMIT)
        .await
        .unwrap();
    session.click(&set_up).await.unwrap();

    let key = "e2e-key-5f1c9a7d3b";
    type_into(&session, "profile-name", "office").await;
    type_into(
        &session,
        "profile-login-url",
        "https://login.example.com/authorize",
    )
    .await;
    type_into(&session, "profile-api-base", "https://api.example.com/rmm/").await;
    type_into(&session, "profile-subscription-key", key).await;
    type_into(&session, "profile-time-zone", "UTC+5").await;
    let save = session
        .wait_for(&testid("profile-save"), LIMIT)
        .await
        .unwrap();
    session.click(&save).await.unwrap();

    // rmm-core's rule, beside the field; what was typed stays.
    let rule = session
        .wait_for_text(&testid("problem-time_zone"), LIMIT, |t| !t.is_empty())
        .await
        .unwrap();
    assert!(rule.contains("UTC±hh:mm"), "{rule}");
    session
        .screenshot(&artifacts_dir().join("desktop-profile-form.png"))
        .await
        .unwrap();
    let kept = rmm_e2e::demo_app::script(
        &session,
        "done(document.querySelector('[data-testid=\"profile-time-zone\"]').value);",
    )
    .await
    .unwrap();
    assert_eq!(kept, "UTC+5");

    // Fixed: saved, and as the first profile it is the one in use.
    rmm_e2e::demo_app::script(
        &session,
        "document.querySelector('[data-testid=\"profile-time-zone\"]').value = ''; done(true);",
    )
    .await
    .unwrap();
    type_into(&session, "profile-time-zone", "UTC+05:30").await;
    session.click(&save).await.unwrap();
    session
        .wait_for_text(&testid("profile-row-active"), LIMIT, |t| t == "in use")
        .await
        .unwrap_or_else(|e| panic!("the saved profile is not in use: {e}"));
    let key_state = session
        .wait_for_text(&testid("profile-row-key"), LIMIT, |t| !t.is_empty())
        .await
        .unwrap();
    assert_eq!(key_state, "key stored");
    session
        .wait_for_text(&testid("session-user"), LIMIT, |t| t == "Not signed in")
        .await
        .unwrap();
    let _ = session
        .screenshot(&artifacts_dir().join("desktop-settings.png"))
        .await;

    // The key is in the keyring, under the profile.
    let stored = desktop
        .keyring_secret("mcp-rmm:office", "subscription-key")
        .unwrap();
    assert!(
        stored.trim_end() == key,
        "the key is not in the keyring under the profile: {:?}",
        desktop.keyring_items("mcp-rmm:office")
    );

    // And in no file of the app's folders (config: settings.toml, the remembered choice).
    let home = desktop.data_home().parent().unwrap().to_owned();
    let config = home.join("config");
    let settings = std::fs::read_to_string(config.join("mcp-rmm/settings.toml")).unwrap();
    assert!(
        settings.contains("https://api.example.com/rmm/"),
        "{settings}"
    );
    assert!(settings.contains("+05:30"), "{settings}");
    for dir in [config, desktop.data_home()] {
        let leaked = files_containing(&dir, key);
        assert!(leaked.is_empty(), "the key is in {leaked:?}");
    }

    // Back to the demo at runtime, from Settings: it starts, signs in, and shows its fleet.
    let (username, password) = demo_sign_in::demo_credentials().await.unwrap();
    let use_demo = session
        .wait_for(&testid("settings-use-demo"), LIMIT)
        .await
        .unwrap();
    session.click(&use_demo).await.unwrap();
    session
        .wait_for(&testid("profile-demo-active"), LIMIT)
        .await
        .unwrap_or_else(|e| panic!("the demo is not in use: {e}"));
    demo_sign_in::sign_in(&session, &username, &password)
        .await
        .unwrap_or_else(|e| panic!("sign-in to the demo after a real profile: {e}"));
    let fleet = session.wait_for(&testid("nav-fleet"), LIMIT).await.unwrap();
    session.click(&fleet).await.unwrap();
    let count = session
        .wait_for_text(&testid("fleet-count"), LIMIT, |t| t.contains("devices"))
        .await
        .unwrap_or_else(|e| panic!("no demo fleet after switching: {e}"));
    assert!(count.starts_with("250 devices"), "{count}");
    session.close().await.unwrap();
}
