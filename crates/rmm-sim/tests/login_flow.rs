//! The whole login without a browser: pages, selectors, DNN form, PKCE exchange, sessions, JWKS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use reqwest::StatusCode;
use rmm_sim::{SimConfig, start};

#[tokio::test]
async fn full_login_walk_reaches_the_api() {
    let sim = sim().await;
    let info = sim.info().clone();
    let client = browser();

    // The login URL without a state sends the browser to the dashboard, which starts PKCE.
    let response = client.get(&info.login_url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), format!("{}login", info.dashboard_url));
    let page = client
        .get(format!("{}login", info.dashboard_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("code_challenge_method: 'S256'") && page.contains("sessionStorage"));

    // Lock page with the real selectors.
    let pkce = pkce("walk");
    let response = client
        .get(authorize_url(&sim, &pkce, "S1", None))
        .send()
        .await
        .unwrap();
    let lock_url = location(&response);
    assert!(
        lock_url.starts_with(&format!("{}login?state=", info.issuer)),
        "{lock_url}"
    );
    let lock = client
        .get(&lock_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        r#"type="email" id="1-email" inputmode="email" name="email""#,
        r#"class="auth0-lock-submit" type="submit""#,
        r#"class="auth0-lock-social-button auth0-lock-social-big-button" data-provider="oauth2""#,
        "Sign in with Sharp-Start",
    ] {
        assert!(lock.contains(needle), "Lock page lacks {needle}");
    }

    // The rest of the walk, then the exchange and an API call.
    let Walk::Code(code) = walk_login(&client, &sim, &pkce, &info.password).await else {
        panic!("login failed");
    };
    let (status, tokens) = exchange(&client, &sim, &code, &pkce.verifier).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert!(tokens["id_token"].as_str().unwrap().split('.').count() == 3);
    let token = tokens["access_token"].as_str().unwrap();
    let (status, tenants) = api(&sim, token, "/api/v1/tenants", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tenants["tenantList"][0]["tenantId"], info.group_id.as_str());
    assert_eq!(tenants["totalCount"], 1);

    // A code works once.
    let (status, again) = exchange(&client, &sim, &code, &pkce.verifier).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(again["error"], "invalid_grant");

    let stats = sim.stats();
    assert_eq!(
        (stats.logins, stats.password_logins, stats.token_exchanges),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn idp_form_has_the_dnn_field_names() {
    let sim = sim().await;
    let client = browser();
    let url = format!(
        "{}Login?ReturnUrl=%2Foauth%2Fauthorize%3Fx%3D1",
        sim.info().idp_url
    );
    let html = client.get(url).send().await.unwrap().text().await.unwrap();
    for needle in [
        r#"name="dnn$ctr752$CustomLogin_View$txtUsername""#,
        r#"name="dnn$ctr752$CustomLogin_View$txtPassword" type="password""#,
        r#"type="submit" name="dnn$ctr752$CustomLogin_View$cmdLogin""#,
    ] {
        assert!(html.contains(needle), "DNN form lacks {needle}");
    }
}

#[tokio::test]
async fn the_demo_account_is_shown_only_when_asked_for() {
    let form_of = |sim: &rmm_sim::Sim| {
        format!(
            "{}Login?ReturnUrl=%2Foauth%2Fauthorize%3Fx%3D1",
            sim.info().idp_url
        )
    };
    let client = browser();
    let plain = sim().await;
    let html = client
        .get(form_of(&plain))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("sim-demo-account"),
        "a plain simulator shows the account"
    );
    assert!(!html.contains(&plain.info().password));

    let demo = sim_with(SimConfig {
        show_demo_account: true,
        ..SimConfig::default()
    })
    .await;
    let html = client
        .get(form_of(&demo))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let info = demo.info();
    assert!(html.contains("id=\"sim-demo-account\""), "{html}");
    assert!(
        html.contains(&info.username) && html.contains(&info.password),
        "{html}"
    );
}

#[tokio::test]
async fn wrong_password_shows_dnn_error_and_gives_no_session() {
    let sim = sim().await;
    let client = browser();
    let pkce = pkce("wrong");
    let Walk::Form(html) = walk_login(&client, &sim, &pkce, "not-the-password").await else {
        panic!("a wrong password must not log in");
    };
    assert!(html.contains(
        r#"<span class="dnnFormMessage dnnFormValidationSummary">Login Failed. Please remember that passwords are case sensitive.</span>"#
    ));
    // No session: a silent attempt is refused.
    let response = client
        .get(authorize_url(&sim, &pkce, "S2", Some("none")))
        .send()
        .await
        .unwrap();
    let target = location(&response);
    assert_eq!(
        query_param(&target, "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(sim.stats().failed_logins, 1);
    assert_eq!(sim.stats().logins, 0);
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account() {
    let sim = sim().await;
    let client = browser();
    let pkce = pkce("lock");
    for attempt in 1..=5 {
        let Walk::Form(html) = walk_login(&client, &sim, &pkce, "bad").await else {
            panic!("attempt {attempt} logged in");
        };
        let locked = html.contains(
            "This account has been locked out after too many unsuccessful login attempts.",
        );
        assert_eq!(locked, attempt == 5, "attempt {attempt}");
    }
    // Even the right password is refused while locked.
    let Walk::Form(html) = walk_login(&client, &sim, &pkce, &sim.info().password.clone()).await
    else {
        panic!("locked account logged in");
    };
    assert!(html.contains("dnnFormValidationSummary\">This account has been locked out"));
    // After the lockout period it works again.
    sim.advance_clock(11 * 60);
    assert!(matches!(
        walk_login(&client, &sim, &pkce, &sim.info().password.clone()).await,
        Walk::Code(_)
    ));
}

#[tokio::test]
async fn silent_login_while_session_lasts_then_login_required() {
    let sim = sim().await;
    let client = browser();
    login(&client, &sim).await;

    let pkce = pkce("silent");
    let response = client
        .get(authorize_url(&sim, &pkce, "S9", Some("none")))
        .send()
        .await
        .unwrap();
    let target = location(&response);
    assert!(
        target.starts_with(&format!("{}callback?", sim.info().dashboard_url)),
        "{target}"
    );
    assert_eq!(query_param(&target, "state").as_deref(), Some("S9"));
    let code = query_param(&target, "code").unwrap();
    let (status, _) = exchange(&client, &sim, &code, &pkce.verifier).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sim.stats().silent_logins, 1);

    sim.end_sessions();
    let response = client
        .get(authorize_url(&sim, &pkce, "S10", Some("none")))
        .send()
        .await
        .unwrap();
    let target = location(&response);
    assert_eq!(
        query_param(&target, "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(
        query_param(&target, "error_description").as_deref(),
        Some("Login required")
    );
    assert_eq!(query_param(&target, "state").as_deref(), Some("S10"));
}

#[tokio::test]
async fn sessions_expire_in_simulated_time() {
    let sim = sim().await;
    let client = browser();
    login(&client, &sim).await;
    sim.advance_clock(8 * 3600 + 1);
    let response = client
        .get(authorize_url(&sim, &pkce("late"), "S", Some("none")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        query_param(&location(&response), "error").as_deref(),
        Some("login_required")
    );
}

#[tokio::test]
async fn idp_session_alone_logs_in_without_password() {
    let sim = sim().await;
    let client = browser();
    login(&client, &sim).await;
    // Auth0 logout ends only the Auth0 session; the IdP still knows the user.
    let logout = format!(
        "{}v2/logout?returnTo={}",
        sim.info().issuer,
        sim.info().dashboard_url
    );
    let response = client.get(logout).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let pkce = pkce("idp");
    let Walk::Code(code) = walk_login(&client, &sim, &pkce, "password not needed").await else {
        panic!("the IdP session should have logged in");
    };
    assert_eq!(
        exchange(&client, &sim, &code, &pkce.verifier).await.0,
        StatusCode::OK
    );
    assert_eq!(sim.stats().password_logins, 1);
    assert_eq!(sim.stats().silent_logins, 1);
}

#[tokio::test]
async fn pkce_wrong_verifier_and_expired_code_are_refused() {
    let sim = sim().await;
    let client = browser();
    login(&client, &sim).await;
    let pkce = pkce("v");
    let response = client
        .get(authorize_url(&sim, &pkce, "S", None))
        .send()
        .await
        .unwrap();
    let code = query_param(&location(&response), "code").unwrap();
    let (status, body) = exchange(
        &client,
        &sim,
        &code,
        "some-other-verifier-that-is-long-enough-000000",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");

    let response = client
        .get(authorize_url(&sim, &pkce, "S", None))
        .send()
        .await
        .unwrap();
    let code = query_param(&location(&response), "code").unwrap();
    sim.advance_clock(6 * 60);
    let (status, body) = exchange(&client, &sim, &code, &pkce.verifier).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn token_endpoint_accepts_form_bodies() {
    let sim = sim().await;
    let client = browser();
    login(&client, &sim).await;
    let pkce = pkce("form");
    let response = client
        .get(authorize_url(&sim, &pkce, "S", None))
        .send()
        .await
        .unwrap();
    let code = query_param(&location(&response), "code").unwrap();
    let redirect_uri = format!("{}callback", sim.info().dashboard_url);
    let response = client
        .post(format!("{}oauth/token", sim.info().issuer))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "rmm-dashboard"),
            ("code", code.as_str()),
            ("code_verifier", pkce.verifier.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn implicit_flow_puts_the_token_in_the_fragment() {
    let sim = sim().await;
    let client = browser();
    login(&client, &sim).await;
    let info = sim.info();
    let url = format!(
        "{}authorize?response_type=token&client_id=rmm-dashboard&redirect_uri={}callback&state=ST&audience={}",
        info.issuer, info.dashboard_url, info.audience
    );
    let response = client.get(url).send().await.unwrap();
    let target = location(&response);
    let fragment = target.split_once('#').unwrap().1;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect();
    let token = &pairs.iter().find(|(k, _)| k == "access_token").unwrap().1;
    assert!(pairs.contains(&("state".into(), "ST".into())));
    assert_eq!(
        api(&sim, token, "/api/v1/tenants", None).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn foreign_redirect_uri_is_refused() {
    let sim = sim().await;
    let url = authorize_url(&sim, &pkce("x"), "S", None);
    let dashboard = sim.info().dashboard_url.trim_end_matches('/').to_string();
    let encoded: String = url::form_urlencoded::byte_serialize(dashboard.as_bytes()).collect();
    let evil = url.replace(&encoded, "http%3A%2F%2Fevil.example");
    assert_ne!(evil, url);
    let response = browser().get(evil).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Callback URL mismatch")
    );
}

#[tokio::test]
async fn tokens_survive_a_restart_and_verify_against_jwks() {
    let base = free_base_port();
    let config = SimConfig {
        seed: 5,
        devices: 20,
        base_port: base,
        ..SimConfig::default()
    };
    let first = start(config.clone()).await.unwrap();
    assert_eq!(first.info().issuer, format!("http://127.0.0.1:{base}/"));
    let token = first.valid_token();
    first.shutdown().await;
    let second = start(config).await.unwrap();
    assert_eq!(
        api(&second, &token, "/api/v1/tenants", None).await.0,
        StatusCode::OK
    );

    let jwks: jsonwebtoken::jwk::JwkSet = reqwest::get(&second.info().jwks_url)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    assert_eq!(kid.len(), 16);
    let jwk = jwks.find(&kid).expect("kid is in the JWKS");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[&second.info().audience]);
    validation.set_issuer(&[&second.info().issuer]);
    let data = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation).unwrap();
    assert_eq!(data.claims["sspTenantId"], second.info().group_id.as_str());
    assert_eq!(data.claims["email"], "fleet.admin@example.com");
    assert!(
        data.claims["sub"]
            .as_str()
            .unwrap()
            .starts_with("oauth2|sharp-start|")
    );
    assert_eq!(
        data.claims["exp"].as_i64().unwrap() - data.claims["iat"].as_i64().unwrap(),
        3600
    );

    let config: serde_json::Value = reqwest::get(format!(
        "{}.well-known/openid-configuration",
        second.info().issuer
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(config["jwks_uri"], second.info().jwks_url.as_str());
    assert_eq!(config["issuer"], second.info().issuer.as_str());
}

fn free_base_port() -> u16 {
    for base in (20_000..60_000).step_by(97) {
        let all_free = (0..4).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok());
        if all_free {
            return base;
        }
    }
    panic!("no four free ports in a row");
}

#[tokio::test]
async fn same_seed_same_secrets_and_info_serializes_snake_case() {
    let a = sim_with(SimConfig {
        seed: 9,
        devices: 10,
        ..SimConfig::default()
    })
    .await;
    let b = sim_with(SimConfig {
        seed: 9,
        devices: 10,
        ..SimConfig::default()
    })
    .await;
    assert_eq!(a.info().password, b.info().password);
    assert_eq!(a.info().subscription_key, b.info().subscription_key);
    assert_eq!(a.info().group_id, b.info().group_id);
    assert_ne!(a.info().group_id, a.info().other_group_id);
    let json = serde_json::to_value(a.info()).unwrap();
    for key in [
        "login_url",
        "dashboard_url",
        "api_base_url",
        "jwks_url",
        "control_url",
        "subscription_key",
        "other_group_id",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    let debug = format!("{:?}", a.info());
    assert!(!debug.contains(&a.info().password) && !debug.contains(&a.info().subscription_key));
}
