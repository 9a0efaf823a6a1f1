//! Shared helpers of the simulator's integration tests: starting it, HTTP clients, the login walk.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Client, Response, StatusCode, redirect::Policy};
use rmm_sim::{Sim, SimConfig, start};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub async fn sim_with(config: SimConfig) -> Sim {
    start(config).await.expect("simulator starts")
}

pub async fn sim() -> Sim {
    sim_with(SimConfig {
        failure_share: 0.0,
        ..SimConfig::default()
    })
    .await
}

/// A browser-like client: keeps cookies, does not follow redirects by itself.
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

pub fn location(response: &Response) -> String {
    let raw = response
        .headers()
        .get("location")
        .expect("a redirect has a Location")
        .to_str()
        .unwrap()
        .to_string();
    response.url().join(&raw).unwrap().to_string()
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(url).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce(seed: &str) -> Pkce {
    let verifier = format!("verifier-{seed}-0123456789abcdefghijklmnopqrstuvwxyz");
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

/// The URL the dashboard's /login page sends the browser to.
pub fn authorize_url(sim: &Sim, pkce: &Pkce, state: &str, prompt: Option<&str>) -> String {
    let info = sim.info();
    let mut url = url::Url::parse(&info.issuer)
        .unwrap()
        .join("authorize")
        .unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", "rmm-dashboard")
        .append_pair("redirect_uri", &format!("{}callback", info.dashboard_url))
        .append_pair("scope", "openid profile email")
        .append_pair("audience", &info.audience)
        .append_pair("state", state)
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256");
    if let Some(prompt) = prompt {
        url.query_pairs_mut().append_pair("prompt", prompt);
    }
    url.to_string()
}

/// Follows redirects until a non-redirect answer, or until a URL on `stop_at` origin.
pub async fn follow(client: &Client, mut url: String, stop_at: &str) -> (String, Response) {
    for _ in 0..10 {
        let response = client.get(&url).send().await.unwrap();
        if !response.status().is_redirection() {
            return (url, response);
        }
        let next = location(&response);
        if next.starts_with(stop_at) {
            return (next, response);
        }
        url = next;
    }
    panic!("too many redirects");
}

/// Where a login walk ended.
pub enum Walk {
    /// At the dashboard callback with this code.
    Code(String),
    /// The DNN form was shown again with this HTML.
    Form(String),
}

/// Walks the login from `/authorize` through Lock and the DNN form with `password`.
pub async fn walk_login(client: &Client, sim: &Sim, pkce: &Pkce, password: &str) -> Walk {
    let info = sim.info();
    let (url, _) = follow(
        client,
        authorize_url(sim, pkce, "S1", None),
        &info.dashboard_url,
    )
    .await;
    if url.starts_with(&info.dashboard_url) {
        return Walk::Code(query_param(&url, "code").unwrap());
    }
    // Lock page.
    let txn = query_param(&url, "state").expect("lock page has the transaction");
    let connect = url::Url::parse(&url)
        .unwrap()
        .join(&format!("/connect/sharp-start?state={txn}"))
        .unwrap();
    let (url, response) = follow(client, connect.to_string(), &info.dashboard_url).await;
    if url.starts_with(&info.dashboard_url) {
        return Walk::Code(query_param(&url, "code").unwrap());
    }
    assert!(url.starts_with(&info.idp_url), "{url}");
    let html = response.text().await.unwrap();
    let return_url = query_param(&url, "ReturnUrl").unwrap();
    let form = [
        ("__VIEWSTATE", "sim-viewstate"),
        ("ReturnUrl", return_url.as_str()),
        (
            "dnn$ctr752$CustomLogin_View$txtUsername",
            info.username.as_str(),
        ),
        ("dnn$ctr752$CustomLogin_View$txtPassword", password),
        ("dnn$ctr752$CustomLogin_View$cmdLogin", "Login"),
    ];
    assert!(html.contains("dnn$ctr752$CustomLogin_View$cmdLogin"));
    let response = client.post(&url).form(&form).send().await.unwrap();
    if !response.status().is_redirection() {
        return Walk::Form(response.text().await.unwrap());
    }
    let (url, _) = follow(client, location(&response), &info.dashboard_url).await;
    assert!(
        url.starts_with(&format!("{}callback", info.dashboard_url)),
        "{url}"
    );
    assert_eq!(query_param(&url, "state").as_deref(), Some("S1"));
    Walk::Code(query_param(&url, "code").unwrap())
}

pub async fn exchange(
    client: &Client,
    sim: &Sim,
    code: &str,
    verifier: &str,
) -> (StatusCode, Value) {
    let info = sim.info();
    let response = client
        .post(format!("{}oauth/token", info.issuer))
        .json(&serde_json::json!({
            "grant_type": "authorization_code",
            "client_id": "rmm-dashboard",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": format!("{}callback", info.dashboard_url),
        }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// A full password login; the access token.
pub async fn login(client: &Client, sim: &Sim) -> String {
    let pkce = pkce("login");
    let Walk::Code(code) = walk_login(client, sim, &pkce, &sim.info().password).await else {
        panic!("login with the right password failed");
    };
    let (status, body) = exchange(client, sim, &code, &pkce.verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

/// Calls the API with the right subscription key and `token`.
pub async fn api(sim: &Sim, token: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let info = sim.info();
    let url = format!("{}{path}", info.api_base_url);
    let client = Client::new();
    let request = match body {
        Some(body) => client.post(url).json(&body),
        None => client.get(url),
    };
    let response = request
        .bearer_auth(token)
        .header("ocp-apim-subscription-key", &info.subscription_key)
        .header("x-time-zone", "+00:00")
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub async fn list(sim: &Sim, body: Value) -> (StatusCode, Value) {
    let mut body = body;
    body["groupId"] = Value::String(sim.info().group_id.clone());
    api(
        sim,
        &sim.valid_token(),
        "/rmm/fss/fwupd/getFirmwareUpdateList",
        Some(body),
    )
    .await
}

pub async fn change(sim: &Sim, path: &str, body: Value) -> (StatusCode, Value) {
    let mut body = body;
    if body.get("groupId").is_none() {
        body["groupId"] = Value::String(sim.info().group_id.clone());
    }
    api(sim, &sim.valid_token(), path, Some(body)).await
}

pub fn codes(body: &Value) -> Vec<(String, String)> {
    body["common"]["errorList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap().to_string(),
                e["field"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
