//! The local MCP endpoint of MCP-RMM: the old tool's tools (same names and parameters) and the
//! new ones as MCP tools and resources over `rmm-core`, served over stdio or over streamable
//! HTTP on loopback behind a guard (loopback `Host`, allowed `Origin`, bearer secret).

mod arguments;
mod client_config;
mod connection_limits;
mod endpoint_host;
mod endpoint_port;
mod http_endpoint;
mod http_guard;
pub mod local_socket;
mod portable_schema;
mod rollout_tools;
mod server;
mod session_end;
mod tool_catalog;
mod tool_outputs;

pub use client_config::{
    CLIENTS, SERVER_NAME, StdioCommand, VSCODE_SECRET_INPUT, claude_desktop, for_client,
    load_or_create_secret, mcp_servers, vscode,
};
pub use connection_limits::ConnectionLimits;
pub use endpoint_host::{Approval, CallSeen, EndpointHost};
pub use endpoint_port::{load_or_choose_port, port_path_in, saved_port_path, saved_ports_dir};
pub use http_endpoint::{HttpEndpoint, HttpEndpointError, serve_http, serve_http_with_limits};
pub use http_guard::{EndpointSecret, GuardConfig};
pub use rollout_tools::{PolicySource, RolloutAccess, RolloutTool};
pub use server::{AUTH_STATUS_URI, RECENT_AUDIT_URI, RmmMcpServer, ServerOptions};
pub use tool_catalog::{CHANGE_TOOLS, ChangeToolStatus};

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

/// Serves `server` over one connected byte stream (a client of the desktop app's local socket)
/// until the client closes it.
pub async fn serve_stream<S>(server: RmmMcpServer, stream: S) -> Result<(), std::io::Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    use rmcp::ServiceExt as _;
    let running = server
        .serve(tokio::io::split(stream))
        .await
        .map_err(|e| std::io::Error::other(format!("MCP session start-up failed: {e}")))?;
    running
        .waiting()
        .await
        .map_err(|e| std::io::Error::other(format!("MCP session ended with an error: {e}")))?;
    Ok(())
}
