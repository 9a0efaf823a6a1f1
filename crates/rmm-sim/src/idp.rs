//! The Sharp-Start identity provider, a DNN site: `/oauth/authorize` and the `/Login` form.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};

use crate::app::{Shared, bump, lock};
use crate::html::{self, escape, redirect, with_query};
use crate::sessions::PasswordCheck;

pub const SESSION_COOKIE: &str = ".DOTNETNUKE";
pub const USERNAME_FIELD: &str = "dnn$ctr752$CustomLogin_View$txtUsername";
pub const PASSWORD_FIELD: &str = "dnn$ctr752$CustomLogin_View$txtPassword";
pub const LOGIN_BUTTON: &str = "dnn$ctr752$CustomLogin_View$cmdLogin";
pub const FAILED_TEXT: &str = "Login Failed. Please remember that passwords are case sensitive.";
pub const LOCKED_TEXT: &str = "This account has been locked out after too many unsuccessful login attempts. Please wait 10 minutes before trying to login again. If you have forgotten your password, please try the Password Reminder option before contacting your Administrator.";

type Params = Query<HashMap<String, String>>;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/oauth/authorize", get(authorize))
        .route("/Login", get(login_form).post(login_post))
        .with_state(shared)
}

/// Sends the browser back to Auth0's callback with a fresh IdP code, if the request is sound.
fn back_to_auth0(
    shared: &Shared,
    params: &HashMap<String, String>,
    set_cookie: Option<String>,
) -> Response {
    let callback = format!("{}/login/callback", shared.origins.login);
    let (Some(redirect_uri), Some(state)) = (params.get("redirect_uri"), params.get("state"))
    else {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "redirect_uri and state are required",
        );
    };
    if *redirect_uri != callback {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "redirect_uri is not registered for this client",
        );
    }
    let code = lock(&shared.auth).issue_idp_code(shared.now_ms());
    redirect(
        &with_query(redirect_uri, &[("code", &code), ("state", state)]),
        set_cookie,
    )
}

async fn authorize(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(p): Params,
) -> Response {
    let now = shared.now_ms();
    let session = html::cookie(&headers, SESSION_COOKIE);
    if lock(&shared.auth).idp_session_live(session, now) {
        let response = back_to_auth0(&shared, &p, None);
        if response.status() == StatusCode::FOUND {
            bump(&shared.counters.silent_logins);
        }
        return response;
    }
    let mut back = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in &p {
        back.append_pair(key, value);
    }
    let return_url = format!("/oauth/authorize?{}", back.finish());
    redirect(&with_query("/Login", &[("ReturnUrl", &return_url)]), None)
}

/// Only a path back into this site's authorize endpoint is followed (no open redirect).
fn safe_return_url(candidate: Option<&String>) -> String {
    candidate
        .filter(|url| url.starts_with("/oauth/authorize?"))
        .cloned()
        .unwrap_or_else(|| "/".to_string())
}

async fn login_form(State(shared): State<Arc<Shared>>, Query(p): Params) -> Response {
    let return_url = safe_return_url(p.get("ReturnUrl"));
    let username = p.get("login_hint").cloned().unwrap_or_default();
    html::page(
        StatusCode::OK,
        form_html(&shared, &return_url, &username, None),
    )
}

async fn login_post(
    State(shared): State<Arc<Shared>>,
    Query(query): Params,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let return_url = safe_return_url(form.get("ReturnUrl").or_else(|| query.get("ReturnUrl")));
    let username = form
        .get(USERNAME_FIELD)
        .map(|u| u.trim().to_string())
        .unwrap_or_default();
    let password = form.get(PASSWORD_FIELD).cloned().unwrap_or_default();
    let correct =
        username.eq_ignore_ascii_case(&shared.info.username) && password == shared.info.password;
    let now = shared.now_ms();
    let outcome = lock(&shared.auth).check_password(&username, correct, now);
    match outcome {
        PasswordCheck::Accepted => {
            bump(&shared.counters.password_logins);
            tracing::info!("sharp-start password login");
            let until = now + shared.config.session_ttl_secs * 1000;
            let session = lock(&shared.auth).new_idp_session(until);
            let cookie = Some(html::session_cookie(SESSION_COOKIE, &session));
            // The original authorize request travels in ReturnUrl's query.
            let params: HashMap<String, String> = return_url
                .split_once('?')
                .map(|(_, query)| {
                    url::form_urlencoded::parse(query.as_bytes())
                        .into_owned()
                        .collect()
                })
                .unwrap_or_default();
            back_to_auth0(&shared, &params, cookie)
        }
        PasswordCheck::Rejected => {
            bump(&shared.counters.failed_logins);
            html::page(
                StatusCode::OK,
                form_html(&shared, &return_url, &username, Some(FAILED_TEXT)),
            )
        }
        PasswordCheck::LockedOut => {
            bump(&shared.counters.failed_logins);
            html::page(
                StatusCode::OK,
                form_html(&shared, &return_url, &username, Some(LOCKED_TEXT)),
            )
        }
    }
}

fn form_html(shared: &Shared, return_url: &str, username: &str, message: Option<&str>) -> String {
    let notice =
        html::demo_account_notice(&shared.config, &shared.info.username, &shared.info.password);
    let action = escape(&with_query("/Login", &[("ReturnUrl", return_url)]));
    let message = message
        .map(|m| {
            format!(
                "<span class=\"dnnFormMessage dnnFormValidationSummary\">{}</span>",
                escape(m)
            )
        })
        .unwrap_or_default();
    format!(
        r##"<!DOCTYPE html>
<html lang="en-US"><head><meta charset="utf-8"><title>Sharp-Start &gt; Login</title>
<style>body{{font-family:sans-serif}} .dnnForm{{max-width:360px;margin:60px auto}} .dnnFormItem{{margin:10px 0}} input{{padding:8px;width:100%;box-sizing:border-box}} .dnnFormValidationSummary{{color:#b00;display:block}}</style></head>
<body id="Body"><form method="post" action="{action}" id="Form" enctype="application/x-www-form-urlencoded">
<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="sim-viewstate">
<input type="hidden" name="__VIEWSTATEGENERATOR" id="__VIEWSTATEGENERATOR" value="CA0B0334">
<input type="hidden" name="ReturnUrl" value="{return_url}">
<div class="dnnForm dnnLoginService dnnClear" id="dnn_ctr752_CustomLogin_View_pnlLogin">
<h2>Sharp-Start</h2>
{notice}
{message}
<div class="dnnFormItem"><label for="dnn_ctr752_CustomLogin_View_txtUsername">Email</label>
<input name="{USERNAME_FIELD}" type="text" id="dnn_ctr752_CustomLogin_View_txtUsername" value="{username}" autocomplete="username"></div>
<div class="dnnFormItem"><label for="dnn_ctr752_CustomLogin_View_txtPassword">Password</label>
<input name="{PASSWORD_FIELD}" type="password" id="dnn_ctr752_CustomLogin_View_txtPassword" autocomplete="current-password"></div>
<div class="dnnFormItem"><input type="submit" name="{LOGIN_BUTTON}" value="Login" id="dnn_ctr752_CustomLogin_View_cmdLogin" class="dnnPrimaryAction"></div>
</div></form></body></html>"##,
        return_url = escape(return_url),
        username = escape(username),
    )
}
