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

/// The process environment a keyring and the app's socket need, which hosts that start their
/// servers with a minimal environment (Claude Desktop, some IDEs) leave out: the D-Bus session
/// bus (Secret Service) and the runtime folder (where the app's socket is).
#[cfg(all(unix, not(target_os = "macos")))]
const SESSION_ENV: &[&str] = &["DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"];
#[cfg(not(all(unix, not(target_os = "macos"))))]
const SESSION_ENV: &[&str] = &[];

/// How a client that starts a process runs the endpoint over stdio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StdioCommand {
    pub program: String,
    pub args: Vec<String>,
    /// Variables the entry sets for the process (none of them a secret).
    pub env: Vec<(String, String)>,
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
            env: Vec::new(),
        }
    }

    /// Also passes this session's D-Bus address and runtime folder (as they are now), so the
    /// entry works when the host starts `rmm` with a minimal environment.
    pub fn with_session_env(mut self) -> Self {
        for name in SESSION_ENV {
            if let Some(value) = std::env::var_os(name).and_then(|v| v.into_string().ok())
                && !value.is_empty()
            {
                self.env.push(((*name).to_owned(), value));
            }
        }
        self
    }
}

fn http_entry(url: &str, authorization: &str) -> Value {
    json!({"type": "http", "url": url, "headers": {"Authorization": authorization}})
}

fn bearer(secret: &EndpointSecret) -> String {
    format!("Bearer {}", secret.expose())
}

fn stdio_entry(stdio: &StdioCommand) -> Value {
    let mut entry = json!({"command": stdio.program, "args": stdio.args});
    if !stdio.env.is_empty() {
        let env: serde_json::Map<String, Value> = stdio
            .env
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        entry["env"] = Value::Object(env);
    }
    entry
}

/// One `mcpServers` object (Claude Code's `.mcp.json`, Cursor's `mcp.json`, the Inspector's
/// `--config`, and `rmm mcp --print-config`): the HTTP endpoint (`"type": "http"`, which those
/// hosts need to tell it from a process), and beside it the stdio form.
pub fn mcp_servers(url: &str, secret: &EndpointSecret, stdio: &StdioCommand) -> Value {
    json!({"mcpServers": {
        SERVER_NAME: http_entry(url, &bearer(secret)),
        format!("{SERVER_NAME}-stdio"): stdio_entry(stdio),
    }})
}

/// Claude Desktop's `claude_desktop_config.json` starts local servers as processes: the stdio
/// form (which goes through the running app, with its approvals).
pub fn claude_desktop(stdio: &StdioCommand) -> Value {
    json!({"mcpServers": {SERVER_NAME: stdio_entry(stdio)}})
}

/// The id of VS Code's prompt for the secret.
pub const VSCODE_SECRET_INPUT: &str = "mcp-rmm-secret";

/// VS Code's `.vscode/mcp.json`, a file people commit: the secret is not in it. VS Code asks
/// for it once (a password prompt) and keeps it in its own secret storage.
pub fn vscode(url: &str) -> Value {
    json!({
        "inputs": [{
            "type": "promptString",
            "id": VSCODE_SECRET_INPUT,
            "description": "MCP-RMM endpoint secret (`rmm mcp --print-config` or the app's Agents tab shows it)",
            "password": true,
        }],
        "servers": {
            SERVER_NAME: http_entry(url, &format!("Bearer ${{input:{VSCODE_SECRET_INPUT}}}")),
        },
    })
}

/// The clients `rmm mcp --print-config --client` knows.
pub const CLIENTS: &[&str] = &[
    "claude-code",
    "cursor",
    "inspector",
    "vscode",
    "claude-desktop",
];

/// The configuration for `client` (one of `CLIENTS`), None for another name.
pub fn for_client(
    client: &str,
    url: &str,
    secret: &EndpointSecret,
    stdio: &StdioCommand,
) -> Option<Value> {
    match client {
        "claude-code" | "cursor" | "inspector" => Some(mcp_servers(url, secret, stdio)),
        "vscode" => Some(vscode(url)),
        "claude-desktop" => Some(claude_desktop(stdio)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> EndpointSecret {
        EndpointSecret::from_stored("s3cr3t-0123456789abcdef0123456789abcdef").unwrap()
    }

    #[test]
    fn each_client_gets_its_own_shape() {
        let mut stdio = StdioCommand::rmm("rmm", Some("demo"), true);
        stdio
            .env
            .push(("XDG_RUNTIME_DIR".into(), "/run/user/1000".into()));
        let url = "http://127.0.0.1:8765/mcp";
        let cursor = mcp_servers(url, &secret(), &stdio);
        let http = &cursor["mcpServers"]["mcp-rmm"];
        assert_eq!(
            http["type"], "http",
            "hosts take an entry without a type for a process"
        );
        assert_eq!(http["url"], url);
        assert_eq!(
            http["headers"]["Authorization"],
            format!("Bearer {}", secret().expose())
        );
        let process = &cursor["mcpServers"]["mcp-rmm-stdio"];
        assert_eq!(
            process["args"],
            json!(["mcp", "--stdio", "--profile", "demo", "--read-only"])
        );
        assert_eq!(process["env"]["XDG_RUNTIME_DIR"], "/run/user/1000");
        let claude = claude_desktop(&stdio);
        assert_eq!(claude["mcpServers"]["mcp-rmm"]["command"], "rmm");
        assert!(
            !claude.to_string().contains(secret().expose()),
            "the stdio form needs no secret"
        );
        let code = vscode(url);
        assert!(
            !code.to_string().contains(secret().expose()),
            "VS Code's workspace file holds no secret"
        );
        assert_eq!(code["servers"]["mcp-rmm"]["type"], "http");
        assert_eq!(code["servers"]["mcp-rmm"]["url"], url);
        assert_eq!(
            code["servers"]["mcp-rmm"]["headers"]["Authorization"],
            "Bearer ${input:mcp-rmm-secret}"
        );
        assert_eq!(code["inputs"][0]["type"], "promptString");
        assert_eq!(code["inputs"][0]["id"], VSCODE_SECRET_INPUT);
        assert_eq!(code["inputs"][0]["password"], true);
        for client in CLIENTS {
            assert!(
                for_client(client, url, &secret(), &stdio).is_some(),
                "{client}"
            );
        }
        assert!(for_client("emacs", url, &secret(), &stdio).is_none());
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
