//! The Auth0-like login origin: `/authorize`, the Lock page, the Sharp-Start connection,
//! the callback, `/oauth/token` with PKCE, logout, JWKS and OpenID configuration.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::app::{AUDIENCE, CLIENT_ID, Shared, bump, lock};
use crate::guard;
use crate::html::{self, escape, redirect, with_query};
use crate::sessions::AuthorizeRequest;

pub const SESSION_COOKIE: &str = "auth0_session";
/// The client id Auth0 uses at the Sharp-Start IdP.
pub const IDP_CLIENT_ID: &str = "auth0-sharp-sim";

type Params = Query<HashMap<String, String>>;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/authorize", get(authorize))
        .route("/login", get(lock_page))
        .route("/connect/sharp-start", get(connect_sharp_start))
        .route("/login/callback", get(callback))
        .route(
            "/oauth/token",
            axum::routing::post(token).options(token_preflight),
        )
        .route("/v2/logout", get(logout))
        .route("/.well-known/jwks.json", get(jwks))
        .route(
            "/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .with_state(shared)
}

/// Sends the browser back to the client with a code (or a token in the fragment).
fn complete(shared: &Shared, request: AuthorizeRequest, set_cookie: Option<String>) -> Response {
    bump(&shared.counters.logins);
    let state = request.state.clone().unwrap_or_default();
    if request.response_type == "token" {
        let token = match shared.access_token() {
            Ok(token) => token,
            Err(error) => {
                tracing::error!(%error, "signing failed");
                return html::error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Server error",
                    "signing failed",
                );
            }
        };
        let mut fragment = url::form_urlencoded::Serializer::new(String::new());
        fragment
            .append_pair("access_token", &token)
            .append_pair("token_type", "Bearer")
            .append_pair("expires_in", &shared.config.token_ttl_secs.to_string())
            .append_pair("state", &state);
        return redirect(
            &format!("{}#{}", request.redirect_uri, fragment.finish()),
            set_cookie,
        );
    }
    let now = shared.now_ms();
    let redirect_uri = request.redirect_uri.clone();
    let code = lock(&shared.auth).issue_code(request, now);
    redirect(
        &with_query(&redirect_uri, &[("code", &code), ("state", &state)]),
        set_cookie,
    )
}

async fn authorize(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(p): Params,
) -> Response {
    let get = |key: &str| p.get(key).cloned();
    let response_type = get("response_type").unwrap_or_default();
    if response_type != "code" && response_type != "token" {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "response_type must be code or token",
        );
    }
    if get("client_id").as_deref() != Some(CLIENT_ID) {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "Unknown client",
            "client_id is not a known application",
        );
    }
    let redirect_uri = get("redirect_uri").unwrap_or_default();
    if !redirect_uri.starts_with(&format!("{}/", shared.origins.dashboard)) {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "Callback URL mismatch",
            "redirect_uri is not in the list of allowed callback URLs",
        );
    }
    let state = get("state");
    let refuse = |error: &str, description: &str| {
        let mut pairs = vec![("error", error), ("error_description", description)];
        if let Some(state) = &state {
            pairs.push(("state", state));
        }
        redirect(&with_query(&redirect_uri, &pairs), None)
    };
    let audience = get("audience").unwrap_or_else(|| AUDIENCE.to_string());
    if audience != AUDIENCE {
        return refuse("access_denied", "Service not found: audience");
    }
    let code_challenge = get("code_challenge");
    if response_type == "code"
        && (code_challenge.is_none() || get("code_challenge_method").as_deref() != Some("S256"))
    {
        return refuse(
            "invalid_request",
            "code_challenge with code_challenge_method S256 is required",
        );
    }
    let request = AuthorizeRequest {
        response_type,
        client_id: CLIENT_ID.to_string(),
        redirect_uri: redirect_uri.clone(),
        scope: get("scope").unwrap_or_else(|| "openid".into()),

        state: state.clone(),
        code_challenge,
        nonce: get("nonce"),
    };
    let now = shared.now_ms();
    let session = html::cookie(&headers, SESSION_COOKIE);
    if lock(&shared.auth).auth0_session_live(session, now) {
        bump(&shared.counters.silent_logins);
        return complete(&shared, request, None);
    }
    if get("prompt").as_deref() == Some("none") {
        return refuse("login_required", "Login required");
    }
    let transaction = lock(&shared.auth).begin_transaction(request);
    redirect(&with_query("/login", &[("state", &transaction)]), None)
}

async fn lock_page(State(shared): State<Arc<Shared>>, Query(p): Params) -> Response {
    let Some(state) = p.get("state") else {
        return redirect(&format!("{}/login", shared.origins.dashboard), None);
    };
    if lock(&shared.auth).transaction(state).is_none() {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "Invalid state",
            "the login transaction is unknown or finished; start again",
        );
    }
    let notice =
        html::demo_account_notice(&shared.config, &shared.info.username, &shared.info.password);
    html::page(StatusCode::OK, lock_html(state, &notice))
}

fn lock_html(state: &str, notice: &str) -> String {
    let connect = escape(&with_query("/connect/sharp-start", &[("state", state)]));
    format!(
        r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign In with Auth0</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:sans-serif;background:#eee}} .auth0-lock-widget{{max-width:320px;margin:60px auto;background:#fff;padding:24px;border-radius:6px}}
input,button,a.auth0-lock-social-button{{display:block;width:100%;box-sizing:border-box;margin:8px 0;padding:10px;font-size:15px}}
a.auth0-lock-social-button{{background:#0b4ea2;color:#fff;text-align:center;text-decoration:none}}</style></head>
<body><div class="auth0-lock auth0-lock-opened"><div class="auth0-lock-widget">
<h2 class="auth0-lock-name">Synappx Admin Portal</h2>
{notice}
<form class="auth0-lock-form" id="lock-email-form" novalidate>
<div class="auth0-lock-input-block auth0-lock-input-email">
<input type="email" id="1-email" inputmode="email" name="email" class="auth0-lock-input" placeholder="yours@example.com" autocomplete="off" autocapitalize="off" value="">
</div>
<button class="auth0-lock-submit" type="submit" name="submit"><span class="auth0-label-submit">Continue</span></button>
</form>
<div id="lock-social" class="auth0-lock-social-buttons-container"></div>
<template id="sharp-start-button"><a class="auth0-lock-social-button auth0-lock-social-big-button" data-provider="oauth2" href="{connect}"><div class="auth0-lock-social-button-text">Sign in with Sharp-Start</div></a></template>
</div></div>
<script>
// Like Auth0 Lock: the enterprise button appears only after the email is submitted.
document.getElementById('lock-email-form').addEventListener('submit', function (event) {{
  event.preventDefault();
  var email = document.getElementById('1-email').value.trim();
  if (!email) {{ return; }}
  var holder = document.getElementById('lock-social');
  if (holder.childElementCount > 0) {{ return; }}
  var button = document.getElementById('sharp-start-button').content.firstElementChild.cloneNode(true);
  button.href = button.getAttribute('href') + '&login_hint=' + encodeURIComponent(email);
  holder.appendChild(button);
  document.getElementById('lock-email-form').style.display = 'none';
}});
</script></body></html>"##
    )
}

async fn connect_sharp_start(State(shared): State<Arc<Shared>>, Query(p): Params) -> Response {
    let Some(state) = p.get("state") else {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "state is required",
        );
    };
    if lock(&shared.auth).transaction(state).is_none() {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "Invalid state",
            "the login transaction is unknown or finished; start again",
        );
    }
    let callback = format!("{}/login/callback", shared.origins.login);
    let mut pairs = vec![
        ("client_id", IDP_CLIENT_ID),
        ("response_type", "code"),
        ("scope", "openid profile email"),
        ("redirect_uri", callback.as_str()),
        ("state", state.as_str()),
    ];
    if let Some(hint) = p.get("login_hint") {
        pairs.push(("login_hint", hint));
    }
    redirect(
        &with_query(&format!("{}/oauth/authorize", shared.origins.idp), &pairs),
        None,
    )
}

async fn callback(State(shared): State<Arc<Shared>>, Query(p): Params) -> Response {
    let (Some(code), Some(state)) = (p.get("code"), p.get("state")) else {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code and state are required",
        );
    };
    let now = shared.now_ms();
    let request = {
        let mut auth = lock(&shared.auth);
        if !auth.redeem_idp_code(code, now) {
            return html::error_page(
                StatusCode::BAD_REQUEST,
                "access_denied",
                "the identity provider's code is invalid or expired",
            );
        }
        match auth.finish_transaction(state) {
            Some(request) => request,
            None => {
                return html::error_page(
                    StatusCode::BAD_REQUEST,
                    "Invalid state",
                    "the login transaction is unknown or finished; start again",
                );
            }
        }
    };
    let until = now + shared.config.session_ttl_secs * 1000;
    let session = lock(&shared.auth).new_auth0_session(until);
    complete(
        &shared,
        request,
        Some(html::session_cookie(SESSION_COOKIE, &session)),
    )
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// The token request's fields, from a JSON or a form body.
fn token_fields(headers: &HeaderMap, body: &Bytes) -> Option<HashMap<String, String>> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        let value: Value = serde_json::from_slice(body).ok()?;
        Some(
            value
                .as_object()?
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect(),
        )
    } else {
        Some(url::form_urlencoded::parse(body).into_owned().collect())
    }
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let origin = guard::dashboard_origin(&shared, &headers).cloned();
    let mut response = exchange(&shared, &headers, &body);
    guard::add_cors(&mut response, origin);
    response
}

fn exchange(shared: &Shared, headers: &HeaderMap, body: &Bytes) -> Response {
    let Some(fields) = token_fields(headers, body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "body must be JSON or form-encoded",
        );
    };
    let field = |name: &str| fields.get(name).map(String::as_str);
    if field("grant_type") != Some("authorization_code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be authorization_code",
        );
    }
    let Some(code) = field("code") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code is required",
        );
    };
    let now = shared.now_ms();
    let redeemed = lock(&shared.auth).redeem_code(
        code,
        field("client_id").unwrap_or_default(),
        field("redirect_uri"),
        field("code_verifier"),
        now,
    );
    let request = match redeemed {
        Ok(request) => request,
        Err(refusal) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", refusal.0),
    };
    let tokens = shared
        .access_token()
        .and_then(|access| Ok((access, shared.id_token(request.nonce.clone())?)));
    match tokens {
        Ok((access_token, id_token)) => {
            bump(&shared.counters.token_exchanges);
            let mut response = Json(json!({
                "access_token": access_token,
                "id_token": id_token,
                "token_type": "Bearer",
                "expires_in": shared.config.token_ttl_secs,
                "scope": request.scope,
            }))
            .into_response();
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "signing failed");
            oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "signing failed",
            )
        }
    }
}

async fn token_preflight(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    guard::preflight(guard::dashboard_origin(&shared, &headers).cloned())
}

async fn logout(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(p): Params,
) -> Response {
    if let Some(session) = html::cookie(&headers, SESSION_COOKIE) {
        lock(&shared.auth).end_auth0_session(session);
    }
    let cleared = Some(html::expired_cookie(SESSION_COOKIE));
    match p.get("returnTo") {
        Some(target)
            if target.starts_with(&format!("{}/", shared.origins.dashboard))
                || *target == shared.origins.dashboard =>
        {
            redirect(target, cleared)
        }
        _ => {
            let mut response = html::page(
                StatusCode::OK,
                "<!doctype html><p>You have been signed out.</p>".into(),
            );
            if let Some(cookie) = cleared.and_then(|c| axum::http::HeaderValue::from_str(&c).ok()) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
    }
}

async fn jwks(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.key.jwks()).into_response()
}

async fn openid_configuration(State(shared): State<Arc<Shared>>) -> Response {
    let login = &shared.origins.login;
    Json(json!({
        "issuer": shared.info.issuer,
        "authorization_endpoint": format!("{login}/authorize"),
        "token_endpoint": format!("{login}/oauth/token"),
        "jwks_uri": shared.info.jwks_url,
        "end_session_endpoint": format!("{login}/v2/logout"),
        "response_types_supported": ["code", "token"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email"],
    }))
    .into_response()
}
