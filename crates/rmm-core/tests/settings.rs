//! Profiles and settings: flags over environment over file, the old variables and a named
//! `.env` (the environment never moving a saved profile),
//! clear errors naming the field, and secrets kept out of the settings file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rmm_auth::{FileStore, SecretKind, TokenStore};
use rmm_core::settings::{
    EnvVars, NewProfile, ProfileFlags, SettingsError, SettingsFile, resolve_profile,
    save_profile_to,
};
use secrecy::{ExposeSecret, SecretString};

const FILE: &str = r#"
default_profile = "work"
[profiles.work]
login_url = "https://tenant.auth0.example/login"
api_base_url = "https://file-api.example"
username = "file.user@example.com"
element_timeout_ms = 5000
time_zone = "+05:30"
[profiles.work.selectors]
email = "input#mail"
"#;

fn file() -> SettingsFile {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.toml");
    std::fs::write(&path, FILE).unwrap();
    SettingsFile::load(&path).unwrap()
}

#[test]
fn flags_win_over_environment_which_wins_over_the_file() {
    let f = file();
    let none = resolve_profile(&ProfileFlags::default(), &EnvVars::default(), &f).unwrap();
    assert_eq!(none.profile.name, "work");
    assert_eq!(
        none.profile.api_base_url.as_deref(),
        Some("https://file-api.example")
    );

    // What changes no address may come from the environment; an address repeated as saved
    // (even written another way) is no change.
    let env = EnvVars::from_pairs([
        ("API_BASE_URL", "https://file-api.example/"),
        ("USERNAME_1", " file.user@example.com"),
        ("ELEMENT_TIMEOUT", "7000"),
        ("HEADLESS", "false"),
        ("PASSWORD_1", "env-password"),
    ]);
    let r = resolve_profile(&ProfileFlags::default(), &env, &f).unwrap();
    assert_eq!(r.profile.element_timeout_ms, Some(7000));
    assert_eq!(r.profile.headless, Some(false));
    assert_eq!(
        r.env_password.as_ref().unwrap().expose_secret(),
        "env-password"
    );
    assert_eq!(
        r.profile.login_url.as_deref(),
        Some("https://tenant.auth0.example/login")
    );

    let flags = ProfileFlags {
        api_base_url: Some("https://flag-api.example".into()),
        headless: Some(true),
        ..Default::default()
    };
    let r = resolve_profile(&flags, &env, &f).unwrap();
    assert_eq!(
        r.profile.api_base_url.as_deref(),
        Some("https://flag-api.example")
    );
    assert_eq!(r.profile.headless, Some(true));
}

#[test]
fn the_environment_cannot_move_a_saved_profile() {
    // Finding 1 of issue 13: an exported API_BASE_URL (or one in a project's `.env`) sent a
    // saved profile's token and key to another host. Every such variable is refused, named,
    // with how to change the profile on purpose.
    let env = EnvVars::from_pairs([
        ("API_BASE_URL", "http://127.0.0.1:9/evil"),
        ("AUTH0_LOGIN_URL", "http://127.0.0.1:9/login"),
        ("TENANT_LIST_ENDPOINT", "http://127.0.0.1:9/x"),
        ("USERNAME_1", "someone.else@example.com"),
        ("TOKEN_FILE", "/tmp/elsewhere.json"),
    ]);
    let e = resolve_profile(&ProfileFlags::default(), &env, &file()).unwrap_err();
    assert!(matches!(e, SettingsError::EnvOverride { .. }), "{e}");
    let text = e.to_string();
    for var in [
        "API_BASE_URL",
        "AUTH0_LOGIN_URL",
        "TENANT_LIST_ENDPOINT",
        "USERNAME_1",
        "TOKEN_FILE",
    ] {
        assert!(text.contains(var), "{var} not named: {text}");
    }
    assert!(text.contains("\"work\""), "{text}");
    assert!(text.contains("--api-base-url"), "{text}");
    assert!(text.contains("on purpose"), "{text}");

    // A named profile too.
    let e = resolve_profile(
        &ProfileFlags {
            profile: Some("work".into()),
            ..Default::default()
        },
        &EnvVars::from_pairs([("API_BASE_URL", "http://127.0.0.1:9/evil")]),
        &file(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("API_BASE_URL"), "{e}");
}

#[test]
fn the_tenants_endpoint_is_a_path_under_the_api_base() {
    let base = [
        ("AUTH0_LOGIN_URL", "https://t.auth0.example/login"),
        ("API_BASE_URL", "https://alt-rmm-api.example"),
    ];
    for evil in [
        "http://127.0.0.1:9/x",
        "//127.0.0.1:9/x",
        "api/../../x",
        "@127.0.0.1:9/x",
    ] {
        let mut vars = base.to_vec();
        vars.push(("TENANT_LIST_ENDPOINT", evil));
        let e = resolve_profile(
            &ProfileFlags::default(),
            &EnvVars::from_pairs(vars),
            &SettingsFile::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("tenants_path") && e.contains("under the API base"),
            "{evil}: {e}"
        );
    }
    let mut vars = base.to_vec();
    vars.push(("TENANT_LIST_ENDPOINT", "/api/v2/tenants"));
    let r = resolve_profile(
        &ProfileFlags::default(),
        &EnvVars::from_pairs(vars),
        &SettingsFile::default(),
    )
    .unwrap();
    assert_eq!(r.profile.tenants_path.as_deref(), Some("/api/v2/tenants"));
}

#[test]
fn the_old_variables_alone_make_a_working_profile() {
    let env = EnvVars::from_pairs([
        ("AUTH0_LOGIN_URL", "https://t.auth0.example/login"),
        ("API_BASE_URL", "https://alt-rmm-api.example"),
        ("USERNAME_1", "me@example.com"),
        ("VIEWPORT_WIDTH", "1400"),
        ("VIEWPORT_HEIGHT", "900"),
        ("SLOW_MO", "0"),
        ("DASHBOARD_TIMEOUT", "45000"),
    ]);
    let r = resolve_profile(&ProfileFlags::default(), &env, &SettingsFile::default()).unwrap();
    assert_eq!(r.profile.name, "default");
    let cfg = r.login_config(None, None).unwrap();
    assert_eq!(cfg.viewport, (1400, 900));
    assert_eq!(cfg.timeouts.dashboard.as_millis(), 45000);
    assert_eq!(cfg.tenants_path, "api/v1/tenants");
    // The issuer defaults to the login page's origin, as Auth0 issues.
    let rules = r.validation_rules().unwrap();
    assert_eq!(rules.issuer.as_deref(), Some("https://t.auth0.example/"));
}

#[test]
fn a_named_env_file_is_read_for_known_variables() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleet.env");
    std::fs::write(&path, "API_TRIGGER_TIMEOUT=12345\nSOMETHING_ELSE=x\n").unwrap();
    let env = EnvVars::from_process_and_env_file(Some(&path)).unwrap();
    assert_eq!(env.get("API_TRIGGER_TIMEOUT"), Some("12345"));
    assert_eq!(env.get("SOMETHING_ELSE"), None);

    // A named file that is missing or broken is an error naming it, without its lines.
    let e = EnvVars::from_process_and_env_file(Some(&dir.path().join("missing.env")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("env_file") && e.contains("missing.env"), "{e}");
    std::fs::write(&path, "PASSWORD_1='Secret-Pass-1\n").unwrap();
    let e = EnvVars::from_process_and_env_file(Some(&path))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("fleet.env") && !e.contains("Secret-Pass-1"),
        "{e}"
    );
}

#[test]
fn no_env_file_is_read_unless_named() {
    // Finding 1 of issue 13: `./.env` was read on every run. The process's own variables are
    // the only source when no file is named; run in a child so the folder is ours.
    const CHILD: &str = "RMM_SETTINGS_TEST_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let env = EnvVars::from_process_and_env_file(None).unwrap();
        assert_eq!(env.get("API_BASE_URL"), None, "./.env was read");
        assert_eq!(env.get("API_TRIGGER_TIMEOUT"), None, "./.env was read");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "API_BASE_URL=http://127.0.0.1:9/evil\nAPI_TRIGGER_TIMEOUT=5000\n",
    )
    .unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "no_env_file_is_read_unless_named", "--nocapture"])
        .env(CHILD, "1")
        .env_remove("API_BASE_URL")
        .env_remove("API_TRIGGER_TIMEOUT")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}

#[test]
fn selectors_and_timeouts_from_the_file_reach_the_login() {
    let r = resolve_profile(&ProfileFlags::default(), &EnvVars::default(), &file()).unwrap();
    let cfg = r.login_config(None, None).unwrap();
    assert_eq!(cfg.selectors.email, "input#mail");
    assert!(cfg.selectors.dnn_username.contains("txtUsername"));
    assert_eq!(cfg.timeouts.element.as_millis(), 5000);
}

/// The error of an environment-only profile with `env` laid over a working one.
fn err_of(env: &[(&str, &str)]) -> String {
    let mut vars = vec![
        ("AUTH0_LOGIN_URL", "https://t.auth0.example/login"),
        ("API_BASE_URL", "https://alt-rmm-api.example"),
    ];
    vars.retain(|(k, _)| !env.iter().any(|(e, _)| e == k));
    vars.extend(env.iter().copied());
    resolve_profile(
        &ProfileFlags::default(),
        &EnvVars::from_pairs(vars),
        &SettingsFile::default(),
    )
    .unwrap_err()
    .to_string()
}

#[test]
fn bad_values_are_refused_naming_the_field_and_rule() {
    let e = err_of(&[("HEADLESS", "maybe")]);
    assert!(e.contains("HEADLESS") && e.contains("true or false"), "{e}");
    let e = err_of(&[("ELEMENT_TIMEOUT", "soon")]);
    assert!(
        e.contains("ELEMENT_TIMEOUT") && e.contains("whole number"),
        "{e}"
    );
    let e = err_of(&[("API_BASE_URL", "not a url")]);
    assert!(
        e.contains("api_base_url") && e.contains("absolute URL"),
        "{e}"
    );
    let e = err_of(&[("AUTH0_LOGIN_URL", "ftp://x.example/")]);
    assert!(e.contains("login_url") && e.contains("http(s)"), "{e}");
    let e = err_of(&[("ELEMENT_TIMEOUT", "5")]);
    assert!(
        e.contains("element_timeout_ms") && e.contains("between"),
        "{e}"
    );

    let e = resolve_profile(
        &ProfileFlags {
            profile: Some("../etc".into()),
            ..Default::default()
        },
        &EnvVars::default(),
        &file(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("profile"), "{e}");
    let e = resolve_profile(
        &ProfileFlags {
            profile: Some("missing".into()),
            ..Default::default()
        },
        &EnvVars::default(),
        &file(),
    )
    .unwrap_err();
    assert!(matches!(e, SettingsError::UnknownProfile { .. }), "{e}");
    assert!(e.to_string().contains("work"), "{e}");
}

#[test]
fn bad_file_contents_are_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.toml");
    std::fs::write(&path, "[profiles.a]\nlogin_ulr = \"https://x.example\"\n").unwrap();
    let e = SettingsFile::load(&path).unwrap_err().to_string();
    assert!(e.contains("login_ulr"), "{e}");
    std::fs::write(&path, "[profiles.a]\ntime_zone = \"5:30\"\n").unwrap();
    let f = SettingsFile::load(&path).unwrap();
    let e = resolve_profile(
        &ProfileFlags {
            profile: Some("a".into()),
            ..Default::default()
        },
        &EnvVars::default(),
        &f,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("time_zone") && e.contains("+05:30"), "{e}");
}

#[test]
fn saving_a_profile_keeps_secrets_out_of_the_settings_file() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("config").join("settings.toml");
    let store = FileStore::new(dir.path().join("secrets.json"));
    let new = NewProfile {
        name: "demo".into(),
        login_url: "http://127.0.0.1:4000/login".into(),
        dashboard_url: "http://127.0.0.1:4002/".into(),
        api_base_url: "http://127.0.0.1:4003".into(),
        jwks_url: "http://127.0.0.1:4000/.well-known/jwks.json".into(),
        issuer: "http://127.0.0.1:4000/".into(),
        audience: "https://rmm-api.sharp-sim.invalid".into(),
        idp_url: Some("http://127.0.0.1:4001/".into()),
        username: "fleet.admin@example.com".into(),
        password: Some(SecretString::from("Sim-Known-Pass!42".to_owned())),
        subscription_key: Some(SecretString::from("feedfacefeedface".to_owned())),
        group_id: Some("6d167a66-9c03-b981-6e37-8770c76676be".into()),
    };
    let saved = save_profile_to(&settings, &new, &store).unwrap();
    let text = std::fs::read_to_string(&settings).unwrap();
    assert!(
        !text.contains("Sim-Known-Pass!42") && !text.contains("feedfacefeedface"),
        "{text}"
    );
    assert!(text.contains("[profiles.demo]"), "{text}");
    let back = SettingsFile::load(&settings).unwrap();
    assert_eq!(back.profile("demo").unwrap(), &saved);
    assert_eq!(
        store
            .load_secret(SecretKind::Password)
            .unwrap()
            .unwrap()
            .expose_secret(),
        "Sim-Known-Pass!42"
    );
    assert!(!format!("{new:?}").contains("Sim-Known-Pass!42"));

    let mut bad = new.clone();
    bad.name = "has space".into();
    let e = save_profile_to(&settings, &bad, &store)
        .unwrap_err()
        .to_string();
    assert!(e.contains("profile"), "{e}");
}
