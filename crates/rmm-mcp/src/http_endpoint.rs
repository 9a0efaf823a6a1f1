//! The streamable HTTP transport: binds to loopback only, puts the guard in front of rmcp's
//! `StreamableHttpService`, and serves many concurrent sessions (one `RmmMcpServer` each),
//! with caps on its connections and a deadline for those without the secret
//! (`connection_limits.rs`), and sessions ended as the spec says (`session_end.rs`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::connection_limits::{ConnectionHandle, ConnectionLimits, LimitedListener};
use crate::http_guard::{GuardConfig, guard};
use crate::server::RmmMcpServer;
use crate::session_end::session_end;

/// The path the MCP endpoint answers on.
pub const MCP_PATH: &str = "/mcp";

#[derive(Debug, thiserror::Error)]
pub enum HttpEndpointError {
    #[error(
        "--http address {0} is not a loopback address: the MCP endpoint binds to 127.0.0.1 or ::1 only"
    )]
    NotLoopback(SocketAddr),
    #[error(
        "port {} on {} is already taken by another program (perhaps another user's): the MCP endpoint did not start, so no client sends its secret there. Stop that program, or choose another port with --http 127.0.0.1:PORT and print the client configuration again",
        .0.port(), .0.ip()
    )]
    PortTaken(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running endpoint; dropping it (or `shutdown`) stops it.
#[derive(Debug)]
pub struct HttpEndpoint {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl HttpEndpoint {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/mcp`.
    pub fn url(&self) -> String {
        format!("http://{}{MCP_PATH}", self.addr)
    }

    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Serves until stopped (for `rmm mcp --http`).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for HttpEndpoint {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts the endpoint on `addr` (port 0: any free port) with the default connection limits.
/// `make_server` gives each session its server.
pub async fn serve_http(
    addr: SocketAddr,
    make_server: impl Fn() -> RmmMcpServer + Send + Sync + 'static,
    guard_config: GuardConfig,
) -> Result<HttpEndpoint, HttpEndpointError> {
    serve_http_with_limits(addr, make_server, guard_config, ConnectionLimits::default()).await
}

/// `serve_http` with other connection limits.
pub async fn serve_http_with_limits(
    addr: SocketAddr,
    make_server: impl Fn() -> RmmMcpServer + Send + Sync + 'static,
    guard_config: GuardConfig,
    limits: ConnectionLimits,
) -> Result<HttpEndpoint, HttpEndpointError> {
    if !addr.ip().is_loopback() {
        return Err(HttpEndpointError::NotLoopback(addr));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                HttpEndpointError::PortTaken(addr)
            } else {
                HttpEndpointError::Bind { addr, source }
            }
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| HttpEndpointError::Bind { addr, source })?;
    let config = StreamableHttpServerConfig::default()
        // Our guard already refused other hosts; the SDK's check stays as a second line.
        .with_allowed_hosts(["localhost", "127.0.0.1", "::1", "[::1]"]);
    let cancel = config.cancellation_token.clone();
    let sessions = Arc::new(LocalSessionManager::default());
    let service = StreamableHttpService::new(move || Ok(make_server()), sessions.clone(), config);
    // The guard is the outer layer: nothing, not even a session's end, runs before it.
    let router = Router::new()
        .nest_service(MCP_PATH, service)
        .layer(axum::middleware::from_fn_with_state(sessions, session_end))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(guard_config),
            guard,
        ));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let listener = LimitedListener::new(listener, limits);
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<ConnectionHandle>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
            cancel.cancel();
        })
        .await;
        if let Err(error) = served {
            tracing::warn!(%error, "MCP HTTP endpoint stopped with an error");
        }
    });
    tracing::info!(%addr, "MCP endpoint listening on loopback");
    Ok(HttpEndpoint {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}
