//! Small helpers for the simulated pages: HTML escaping, redirects, cookies, query strings.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A 302 to `location`, optionally setting a cookie.
pub fn redirect(location: &str, set_cookie: Option<String>) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    if let Some(cookie) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(header::SET_COOKIE, cookie);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub fn page(status: StatusCode, body: String) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], Html(body)).into_response()
}

/// A simple error page (Auth0 shows one for a bad client or callback).
pub fn error_page(status: StatusCode, title: &str, detail: &str) -> Response {
    page(
        status,
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
             <body><h1>{t}</h1><p class=\"error-detail\">{d}</p></body></html>",
            t = escape(title),
            d = escape(detail)
        ),
    )
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

pub fn session_cookie(name: &str, value: &str) -> String {
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax")
}

pub fn expired_cookie(name: &str) -> String {
    format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// `base` with `pairs` appended as a query string (`?` or `&` as needed).
pub fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        serializer.append_pair(key, value);
    }
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}{}", serializer.finish())
}

/// The demo account's notice for the login pages (empty unless `show_demo_account` is on): what
/// a person trying the demo types, since nothing else tells them the simulator's password.
pub fn demo_account_notice(
    config: &crate::config::SimConfig,
    username: &str,
    password: &str,
) -> String {
    if !config.show_demo_account {
        return String::new();
    }
    format!(
        "<p id=\"sim-demo-account\" role=\"note\" style=\"background:#fff8d6;border:1px solid #e0c200;padding:8px;font-size:14px\">\
Demo simulator account: email <b id=\"sim-demo-email\">{}</b>, password <b id=\"sim-demo-password\" style=\"white-space:nowrap\">{}</b></p>",
        escape(username),
        escape(password)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn finds_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; .DOTNETNUKE=xyz; b=2"),
        );
        assert_eq!(cookie(&headers, ".DOTNETNUKE"), Some("xyz"));
        assert_eq!(cookie(&headers, "auth0_session"), None);
    }

    #[test]
    fn query_appending() {
        assert_eq!(
            with_query("http://h/cb", &[("code", "a b")]),
            "http://h/cb?code=a+b"
        );
        assert_eq!(
            with_query("http://h/cb?x=1", &[("s", "&")]),
            "http://h/cb?x=1&s=%26"
        );
    }
}
