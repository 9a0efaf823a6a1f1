//! What an MCP client needs to reach this endpoint: the bearer secret, kept once generated in
//! the profile's secret store, and ready-to-paste client configurations (the `mcpServers`
//! shape of Claude Desktop and Cursor, the `servers` shape of VS Code).

use rmm_auth::{SecretKind, StoreError, TokenStore};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

use crate::http_guard::EndpointSecret;

/// The name the endpoint goes by in client configurations.
pub const SERVER_NAME: &str = "mcp-rmm";

/// The endpoint secret kept in `store`, generated and saved the first time. Blocks on the
/// store: call it from `spawn_blocking` in async code.
pub fn load_or_create_secret(store: &dyn TokenStore) -> Result<EndpointSecret, StoreError> {
    let stored = store.load_secret(SecretKind::McpEndpointSecret)?;
    if let Some(secret) = stored.and_then(|s| EndpointSecret::from_stored(s.expose_secret())) {
        return Ok(secret);
    }
    let secret = EndpointSecret::generate();
    store.save_secret(
        SecretKind::McpEndpointSecret,
        &SecretString::from(secret.expose().to_owned()),
    )?;
    tracing::info!(store = %store.describe(), "new MCP endpoint secret saved");
    Ok(secret)
}

/// How a client that starts a process runs the endpoint over stdio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StdioCommand {
    pub program: String,
    pub args: Vec<String>,
}

impl StdioCommand {
    /// `rmm mcp --stdio [--profile P] [--read-only]`.
    pub fn rmm(program: impl Into<String>, profile: Option<&str>, read_only: bool) -> Self {
        let mut args = vec!["mcp".to_owned(), "--stdio".to_owned()];
        if let Some(profile) = profile {
            args.extend(["--profile".to_owned(), profile.to_owned()]);
        }
        if read_only {
            args.push("--read-only".to_owned());
        }
        Self {
            program: program.into(),
            args,
        }
    }
}

fn http_entry(url: &str, secret: &EndpointSecret) -> Value {
    json!({"url": url, "headers": {"Authorization": format!("Bearer {}", secret.expose())}})
}

fn stdio_entry(stdio: &StdioCommand) -> Value {
    json!({"command": stdio.program, "args": stdio.args})
}

/// One `mcpServers` object (Cursor, and `rmm mcp --print-config`): the HTTP endpoint, and
/// beside it the stdio form for clients that start a process.
pub fn mcp_servers(url: &str, secret: &EndpointSecret, stdio: &StdioCommand) -> Value {
    json!({"mcpServers": {
        SERVER_NAME: http_entry(url, secret),
        format!("{SERVER_NAME}-stdio"): stdio_entry(stdio),
    }})
}

/// Claude Desktop's `claude_desktop_config.json` starts local servers as processes: the stdio
/// form (which goes through the running app, with its approvals).
pub fn claude_desktop(stdio: &StdioCommand) -> Value {
    json!({"mcpServers": {SERVER_NAME: stdio_entry(stdio)}})
}

/// VS Code's `.vscode/mcp.json`.
pub fn vscode(url: &str, secret: &EndpointSecret) -> Value {
    let mut entry = http_entry(url, secret);
    entry["type"] = json!("http");
    json!({"servers": {SERVER_NAME: entry}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> EndpointSecret {
        EndpointSecret::from_stored("s3cr3t-0123456789abcdef0123456789abcdef").unwrap()
    }

    #[test]
    fn each_client_gets_its_own_shape() {
        let stdio = StdioCommand::rmm("rmm", Some("demo"), true);
        let url = "http://127.0.0.1:8765/mcp";
        let cursor = mcp_servers(url, &secret(), &stdio);
        assert_eq!(cursor["mcpServers"]["mcp-rmm"]["url"], url);
        assert_eq!(
            cursor["mcpServers"]["mcp-rmm"]["headers"]["Authorization"],
            format!("Bearer {}", secret().expose())
        );
        assert_eq!(
            cursor["mcpServers"]["mcp-rmm-stdio"]["args"],
            json!(["mcp", "--stdio", "--profile", "demo", "--read-only"])
        );
        let claude = claude_desktop(&stdio);
        assert_eq!(claude["mcpServers"]["mcp-rmm"]["command"], "rmm");
        assert!(
            !claude.to_string().contains(secret().expose()),
            "the stdio form needs no secret"
        );
        let code = vscode(url, &secret());
        assert_eq!(code["servers"]["mcp-rmm"]["type"], "http");
        assert_eq!(code["servers"]["mcp-rmm"]["url"], url);
    }

    #[test]
    fn the_secret_is_made_once_and_then_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = rmm_auth::FileStore::new(dir.path().join("secrets.json"));
        let first = load_or_create_secret(&store).unwrap();
        let again = load_or_create_secret(&store).unwrap();
        assert_eq!(first.expose(), again.expose());
        assert!(first.expose().len() >= 32);
    }
}
