//! The commands of the Agents view: the app's MCP endpoint state, turning it on or off, the
//! client configurations, and the person's answer to an agent's change request.

use std::sync::Arc;

use tauri::State;

use crate::command_error::CommandError;
use crate::mcp_endpoint::{McpClientConfigs, McpEndpoint, McpSettings, McpStatus};

/// The endpoint: on/off, address, read-only, connected agents and their calls.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn mcp_status(endpoint: State<'_, Arc<McpEndpoint>>) -> Result<McpStatus, CommandError> {
    Ok(endpoint.status().await)
}

/// Turns the endpoint on or off, or changes its port or read-only switch.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn mcp_configure(
    endpoint: State<'_, Arc<McpEndpoint>>,
    settings: McpSettings,
) -> Result<McpStatus, CommandError> {
    endpoint.configure(settings).await
}

/// The endpoint secret and ready-to-paste configurations for Claude Desktop, Cursor, VS Code.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn mcp_client_configs(
    endpoint: State<'_, Arc<McpEndpoint>>,
) -> Result<McpClientConfigs, CommandError> {
    endpoint.client_configs().await
}

/// The person's answer to an agent's change request.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub fn answer_approval(
    endpoint: State<'_, Arc<McpEndpoint>>,
    approval_id: String,
    approve: bool,
) -> Result<(), CommandError> {
    endpoint.answer(&approval_id, approve)
}
