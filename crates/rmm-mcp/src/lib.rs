//! The local MCP endpoint of MCP-RMM: the old tool's tools (same names and parameters) and the
//! new ones as MCP tools and resources over `rmm-core`, served over stdio or over streamable
//! HTTP on loopback behind a guard (loopback `Host`, allowed `Origin`, bearer secret).

mod arguments;
mod http_endpoint;
mod http_guard;
mod server;
mod tool_catalog;

pub use http_endpoint::{HttpEndpoint, HttpEndpointError, serve_http};
pub use http_guard::{EndpointSecret, GuardConfig};
pub use server::{AUTH_STATUS_URI, RECENT_AUDIT_URI, RmmMcpServer, ServerOptions};
pub use tool_catalog::CHANGE_TOOLS;

/// Serves `server` over stdin/stdout until the client closes the stream.
pub async fn serve_stdio(server: RmmMcpServer) -> Result<(), std::io::Error> {
    use rmcp::ServiceExt as _;
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| std::io::Error::other(format!("MCP stdio start-up failed: {e}")))?;
    running.waiting().await.map_err(|e| {
        std::io::Error::other(format!("MCP stdio session ended with an error: {e}"))
    })?;
    Ok(())
}
