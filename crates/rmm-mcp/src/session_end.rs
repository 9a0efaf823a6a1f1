//! Ending a streamable HTTP session (`DELETE /mcp` with its `Mcp-Session-Id`) the way the
//! spec and the SDKs expect: rmcp answers `202 Accepted` for every DELETE, also for a session
//! that has already ended, where the spec wants `404 Not Found`; and the MCP Python SDK takes
//! only 200, 204 or 405 as a clean end, logging "Session termination failed: 202" otherwise.
//! So a DELETE for a session that is not open is answered 404 here, and a session that ended
//! is answered `204 No Content`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;

const SESSION_HEADER: &str = "mcp-session-id";

/// The axum middleware, over the endpoint's session manager.
pub(crate) async fn session_end(
    State(sessions): State<Arc<LocalSessionManager>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    if request.method() != Method::DELETE {
        return next.run(request).await;
    }
    let id = request
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|id| Arc::<str>::from(id.to_owned()));
    if let Some(id) = id
        && !sessions.has_session(&id).await.unwrap_or(false)
    {
        return (
            StatusCode::NOT_FOUND,
            "Not Found: no open session has this Mcp-Session-Id",
        )
            .into_response();
    }
    let mut response = next.run(request).await;
    if response.status() == StatusCode::ACCEPTED {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}
