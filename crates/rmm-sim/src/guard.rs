//! Who may call the API: subscription key, bearer token, group access, and CORS for the dashboard.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::Shared;
use crate::tokens::Claims;

pub const ALLOWED_HEADERS: &str =
    "authorization, content-type, ocp-apim-subscription-key, x-time-zone";

fn refusal(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"statusCode": status.as_u16(), "message": message})),
    )
        .into_response()
}

/// Checks the subscription key, then the bearer token; the claims on success.
/// The refusal is boxed: a `Response` is large and the success path is the common one.
pub fn check_caller(shared: &Shared, headers: &HeaderMap) -> Result<Claims, Box<Response>> {
    match headers.get("ocp-apim-subscription-key") {
        None => {
            return Err(Box::new(refusal(
                StatusCode::UNAUTHORIZED,
                "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.",
            )));
        }
        Some(key) if key.as_bytes() != shared.info.subscription_key.as_bytes() => {
            return Err(Box::new(refusal(
                StatusCode::UNAUTHORIZED,
                "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.",
            )));
        }
        Some(_) => {}
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then_some(token.trim())
        });
    match token.and_then(|t| shared.verify(t)) {
        Some(claims) => Ok(claims),
        None => {
            let mut response = refusal(
                StatusCode::UNAUTHORIZED,
                "Unauthorized. Access token is missing or invalid.",
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            Err(Box::new(response))
        }
    }
}

/// `require-dashboard-origin` mode: a gateway that serves only the dashboard's origin.
pub fn origin_not_allowed() -> Response {
    refusal(StatusCode::FORBIDDEN, "Forbidden: origin is not allowed.")
}

/// `tenants-need-browser` mode: the tenants endpoint belongs to a service for the dashboard.
pub fn tenants_for_browsers_only() -> Response {
    refusal(
        StatusCode::UNAUTHORIZED,
        "Access denied: this endpoint serves the dashboard only.",
    )
}

pub fn forbidden() -> Response {
    refusal(
        StatusCode::FORBIDDEN,
        "Forbidden: group is not accessible for this user.",
    )
}

/// Whether the request comes from the dashboard's origin (the only one CORS allows).
pub fn dashboard_origin<'a>(shared: &Shared, headers: &'a HeaderMap) -> Option<&'a HeaderValue> {
    headers
        .get(header::ORIGIN)
        .filter(|origin| origin.as_bytes() == shared.origins.dashboard.as_bytes())
}

pub fn add_cors(response: &mut Response, origin: Option<HeaderValue>) {
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
}

/// The answer to an `OPTIONS` preflight: 204, with CORS headers only for the dashboard.
pub fn preflight(origin: Option<HeaderValue>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOWED_HEADERS),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}
