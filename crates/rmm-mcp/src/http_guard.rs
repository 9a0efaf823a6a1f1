//! The guard in front of the MCP HTTP endpoint, independent of the SDK's own checks: a `Host`
//! that is not a loopback name gets 403, a browser `Origin` not on the allow-list gets 403
//! (DNS rebinding), and a missing or wrong `Authorization: Bearer <endpoint secret>` gets 401.
//! Refused requests never reach the MCP service.

use std::fmt;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest as _, Sha256};

/// The endpoint's own bearer secret. Never shown by `Debug`; only `expose` gives the text.
#[derive(Clone, PartialEq, Eq)]
pub struct EndpointSecret(String);

impl EndpointSecret {
    /// 256 random bits as hex.
    pub fn generate() -> Self {
        let bytes: [u8; 32] = rand::random();
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// A stored secret; refuses text that cannot be a header value or is too short to be safe.
    pub fn from_stored(text: &str) -> Option<Self> {
        let text = text.trim();
        (text.len() >= 32 && text.chars().all(|c| c.is_ascii_graphic()))
            .then(|| Self(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares in time independent of where the texts differ (hashes first, then every byte).
    fn matches(&self, offered: &str) -> bool {
        let (a, b) = (
            Sha256::digest(self.0.as_bytes()),
            Sha256::digest(offered.as_bytes()),
        );
        a.iter()
            .zip(b.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
    }
}

impl fmt::Debug for EndpointSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EndpointSecret([REDACTED])")
    }
}

/// What the guard allows.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    pub secret: EndpointSecret,
    /// Browser origins allowed to call (exact `scheme://host[:port]`); empty: none.
    pub allowed_origins: Vec<String>,
}

/// `localhost`, `*.localhost`, 127.0.0.0/8 and `::1`, with or without a port.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((inner, tail))
                if tail.is_empty()
                    || (tail.starts_with(':') && tail[1..].bytes().all(|b| b.is_ascii_digit())) =>
            {
                inner.to_owned()
            }
            _ => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port))
                if port.bytes().all(|b| b.is_ascii_digit()) && !name.contains(':') =>
            {
                name.to_owned()
            }
            Some(_) => return false,
            None => host.clone(),
        }
    };
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    name.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

fn refuse(status: StatusCode, message: &'static str) -> Response {
    let mut response = (status, message).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"mcp-rmm\""),
        );
    }
    response
}

/// The axum middleware.
pub(crate) async fn guard(
    State(config): State<Arc<GuardConfig>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    if !host.as_deref().is_some_and(is_loopback_host) {
        tracing::warn!("MCP HTTP request refused: Host is not a loopback name");
        return refuse(
            StatusCode::FORBIDDEN,
            "Forbidden: this endpoint only answers to a loopback Host (localhost, 127.0.0.1, ::1)",
        );
    }
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        let allowed = origin.to_str().is_ok_and(|o| {
            config
                .allowed_origins
                .iter()
                .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(o))
        });
        if !allowed {
            tracing::warn!("MCP HTTP request refused: Origin not on the allow-list");
            return refuse(
                StatusCode::FORBIDDEN,
                "Forbidden: this browser Origin is not allowed",
            );
        }
    }
    let offered = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        });
    if !offered.is_some_and(|o| config.secret.matches(o.trim())) {
        tracing::warn!("MCP HTTP request refused: missing or wrong endpoint secret");
        return refuse(
            StatusCode::UNAUTHORIZED,
            "Unauthorized: send Authorization: Bearer <endpoint secret> (see `rmm mcp --print-config`)",
        );
    }
    // This connection's client holds the secret: it is no longer closed when idle or to make
    // room for others (connection_limits.rs).
    if let Some(ConnectInfo(connection)) = request
        .extensions()
        .get::<ConnectInfo<crate::connection_limits::ConnectionHandle>>()
    {
        connection.authenticated();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_only() {
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:3000",
            "127.1.2.3",
            "[::1]:80",
            "[::1]",
            "a.localhost:1",
            "LOCALHOST",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.com",
            "evil.com:80",
            "localhost.evil.com",
            "10.0.0.1",
            "0.0.0.0:80",
            "[::2]:80",
            "127.0.0.1:80x",
            "[::1]x",
            "",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn the_secret_is_hidden_and_compared_whole() {
        let secret = EndpointSecret::generate();
        assert_eq!(secret.expose().len(), 64);
        assert!(!format!("{secret:?}").contains(secret.expose()));
        assert!(secret.matches(secret.expose()));
        assert!(!secret.matches(&secret.expose()[..63]));
        assert!(EndpointSecret::from_stored("short").is_none());
    }
}
