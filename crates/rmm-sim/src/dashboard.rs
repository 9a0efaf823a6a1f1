//! The admin dashboard origin: a small plain-JS SPA that logs in with PKCE and calls the API.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::app::{AUDIENCE, CLIENT_ID, Shared};

const INDEX_HTML: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const LOGIN_HTML: &str = include_str!("../assets/login.html");

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(spa))
        .route("/callback", get(spa))
        .route("/login", get(login))
        .route("/app.js", get(app_js))
        .route("/config.js", get(config_js))
        .with_state(shared)
}

fn no_store(body: impl IntoResponse) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], body).into_response()
}

async fn spa() -> Response {
    no_store(Html(INDEX_HTML))
}

async fn login() -> Response {
    no_store(Html(LOGIN_HTML))
}

async fn app_js() -> Response {
    no_store((
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        APP_JS,
    ))
}

/// The SPA's settings; like the real bundle, it carries the subscription key.
async fn config_js(State(shared): State<Arc<Shared>>) -> Response {
    let config = json!({
        "loginBase": shared.origins.login,
        "apiBase": shared.origins.api,
        "clientId": CLIENT_ID,
        "audience": AUDIENCE,
        "redirectUri": format!("{}/callback", shared.origins.dashboard),
        "subscriptionKey": shared.info.subscription_key,
    });
    let body = format!("window.RMM_CONFIG = {config};\n");
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}
