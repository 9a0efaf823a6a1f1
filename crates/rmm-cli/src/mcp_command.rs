//! `rmm mcp --stdio | --http [127.0.0.1:PORT] [--read-only] | --print-config`: hosts the MCP
//! endpoint over the profile's operations. The HTTP endpoint's bearer secret is generated
//! once and kept in the profile's store (the OS keyring); `--print-config` is the one place it
//! is shown, as a client configuration for the user's own terminal. While the desktop app runs
//! on the same profile, `--stdio` relays to the app's local socket, so the agent gets the
//! app's approvals and shows in its activity list (`--standalone` serves here instead).

use std::net::SocketAddr;
use std::sync::Arc;

use clap::Args;
use rmm_auth::TokenStore;
use rmm_core::settings::{SettingsFile, agent_policy};
use rmm_mcp::{
    EndpointSecret, GuardConfig, RmmMcpServer, RolloutAccess, ServerOptions, StdioCommand,
    serve_http, serve_stdio,
};

use crate::auth_commands::StoreArgs;
use crate::fleet_connection::connect;
use crate::{Failure, GlobalArgs};

/// `rmm mcp`.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["stdio", "http", "print_config"]).multiple(true)))]
pub struct McpArgs {
    /// Speak MCP on stdin/stdout (for agents that start a process).
    #[arg(long, conflicts_with_all = ["http", "print_config"])]
    pub stdio: bool,
    /// Serve streamable HTTP on this loopback address, e.g. 127.0.0.1:8765; without one, on
    /// the profile's own port (a free one chosen the first time and saved).
    #[arg(long, value_name = "127.0.0.1:PORT", num_args = 0..=1)]
    pub http: Option<Option<SocketAddr>>,
    /// Print a ready-to-paste client configuration (with the endpoint secret) and exit.
    #[arg(long)]
    pub print_config: bool,
    /// With --print-config: the configuration of this client (claude-code, cursor, inspector,
    /// vscode, claude-desktop); default: the `mcpServers` shape with both entries.
    #[arg(long, requires = "print_config", value_name = "CLIENT")]
    pub client: Option<String>,
    /// With --stdio: serve here even when the desktop app runs (no relay to its approvals).
    #[arg(long, requires = "stdio")]
    pub standalone: bool,
    /// List no change tools (schedule, cancel, OTA) and refuse them.
    #[arg(long)]
    pub read_only: bool,
    /// Browser origins allowed to call the HTTP endpoint (exact scheme://host[:port]).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allowed_origins: Vec<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Runs `rmm mcp`.
pub async fn run(args: McpArgs, global: &GlobalArgs) -> Result<(), Failure> {
    if let Some(Some(addr)) = args.http
        && !addr.ip().is_loopback()
    {
        return Err(Failure::BadInput(format!(
            "--http: must be a loopback address such as 127.0.0.1:8765, got {addr}"
        )));
    }
    if args.print_config {
        return print_config(&args, global).await;
    }
    if args.stdio && !args.standalone && relay_to_app(&args, global).await? {
        return Ok(());
    }
    let connection = connect(global, &args.store).await?;
    let options = ServerOptions {
        read_only: args.read_only,
    };
    let ops = connection.operations.clone();
    let rollouts = rollout_access(global, &args)?;
    if args.stdio {
        return serve_stdio(RmmMcpServer::new(ops, options).with_rollouts(rollouts))
            .await
            .map_err(|e| Failure::Local(e.to_string()));
    }
    let Some(given) = args.http else {
        return Err(Failure::BadInput(
            "one of --stdio, --http [ADDR] or --print-config is needed".to_owned(),
        ));
    };
    let addr = http_addr(given, &args, global)?;
    let secret = endpoint_secret(connection.store.clone()).await?;
    let guard = GuardConfig {
        secret,
        allowed_origins: args.allowed_origins.clone(),
    };
    let endpoint = serve_http(
        addr,
        move || RmmMcpServer::new(ops.clone(), options).with_rollouts(rollouts.clone()),
        guard,
    )
    .await
    .map_err(|e| Failure::BadInput(e.to_string()))?;
    eprintln!(
        "rmm: MCP endpoint on {}{} (run `rmm mcp --print-config --http {}` for a client configuration); Ctrl-C stops it",
        endpoint.url(),
        if args.read_only { ", read-only" } else { "" },
        endpoint.addr()
    );
    tokio::select! {
        () = endpoint.wait() => Ok(()),
        signal = tokio::signal::ctrl_c() => signal.map_err(|e| Failure::Local(format!("cannot wait for Ctrl-C: {e}"))),
    }
}

/// The rollouts of the profile, with the agents' envelope read from the settings file at each
/// step (a person's change in the app or with `rmm policy` holds at once).
fn rollout_access(global: &GlobalArgs, args: &McpArgs) -> Result<RolloutAccess, Failure> {
    let profile = crate::fleet_connection::resolve(global, &args.store)?
        .profile
        .name;
    let path = SettingsFile::default_path().map_err(|e| Failure::Local(e.to_string()))?;
    Ok(RolloutAccess::with_policy(Arc::new(move || {
        agent_policy(&path, &profile).map_err(|e| e.to_string())
    })))
}

/// The address given, else 127.0.0.1 and the profile's saved port (chosen free the first time).
fn http_addr(
    given: Option<SocketAddr>,
    args: &McpArgs,
    global: &GlobalArgs,
) -> Result<SocketAddr, Failure> {
    if let Some(addr) = given {
        return Ok(addr);
    }
    let resolved = crate::fleet_connection::resolve(global, &args.store)?;
    let path = rmm_mcp::saved_port_path(&resolved.profile.name).map_err(Failure::Local)?;
    let port = rmm_mcp::load_or_choose_port(&path).map_err(Failure::Local)?;
    Ok(SocketAddr::from(([127, 0, 0, 1], port)))
}

/// The endpoint secret kept in `store`, generated and saved the first time.
async fn endpoint_secret(store: std::sync::Arc<dyn TokenStore>) -> Result<EndpointSecret, Failure> {
    tokio::task::spawn_blocking(move || rmm_mcp::load_or_create_secret(store.as_ref()))
        .await
        .map_err(|_| Failure::Local("the secret store task failed".to_owned()))?
        .map_err(|e| Failure::Local(e.to_string()))
}

/// Relays stdio to the desktop app when it listens on this profile's socket; false when it
/// does not (then this process serves). The app's session for this client is read-only if
/// `--read-only` was given or the app's own switch is on.
async fn relay_to_app(args: &McpArgs, global: &GlobalArgs) -> Result<bool, Failure> {
    #[cfg(any(unix, windows))]
    {
        let resolved = crate::fleet_connection::resolve(global, &args.store)?;
        let path =
            rmm_mcp::local_socket::socket_path(&resolved.profile.name).map_err(Failure::Local)?;
        let Some(stream) = rmm_mcp::local_socket::connect(&path).await else {
            return Ok(false);
        };
        tracing::info!(socket = %path.display(), "relaying to the MCP-RMM app");
        let options = rmm_mcp::local_socket::RelayOptions {
            read_only: args.read_only,
        };
        rmm_mcp::local_socket::relay_stdio(stream, options)
            .await
            .map_err(|e| Failure::Local(format!("the relay to the app stopped: {e}")))?;
        Ok(true)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (args, global);
        Ok(false)
    }
}

async fn print_config(args: &McpArgs, global: &GlobalArgs) -> Result<(), Failure> {
    let resolved = crate::fleet_connection::resolve(global, &args.store)?;
    let store = resolved
        .token_store()
        .map_err(|e| Failure::Local(e.to_string()))?;
    let secret = endpoint_secret(store).await?;
    let addr = http_addr(args.http.flatten(), args, global)?;
    let program = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "rmm".to_owned());
    let stdio =
        StdioCommand::rmm(program, global.profile.as_deref(), args.read_only).with_session_env();
    let url = format!("http://{addr}/mcp");
    let config = match &args.client {
        None => rmm_mcp::mcp_servers(&url, &secret, &stdio),
        Some(client) => rmm_mcp::for_client(client, &url, &secret, &stdio).ok_or_else(|| {
            Failure::BadInput(format!(
                "--client: must be one of {}, got {client:?}",
                rmm_mcp::CLIENTS.join(", ")
            ))
        })?,
    };
    let text = serde_json::to_string_pretty(&config)
        .map_err(|e| Failure::Local(format!("cannot write JSON: {e}")))?;
    out!("{text}");
    if args.client.as_deref() == Some("vscode") {
        eprintln!(
            "rmm: VS Code asks for the endpoint secret when it first connects and keeps it in its own secret storage; `rmm mcp --print-config` (or the app's Agents tab) shows it."
        );
    } else if args.client.as_deref() != Some("claude-desktop") {
        eprintln!(
            "rmm: this holds the endpoint's secret: paste it into your MCP client's configuration, keep it out of shared files."
        );
    }
    eprintln!("rmm: start the endpoint with `rmm mcp --http {addr}` (or turn it on in the app).");
    Ok(())
}
