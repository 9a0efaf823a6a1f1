//! The tools an agent sees: names and parameters kept from the old tool (so existing prompts
//! keep working) plus the new ones, each with a description an agent can act on, a typed
//! input schema, an output schema, and read-only / destructive / idempotent hints.

use std::sync::Arc;

use rmcp::handler::server::tool::{schema_for_input, schema_for_output};
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use rmm_core::{AuthStatus, ChangeKind, ChangePreview, ChangeResult, FleetSummary, TenantView};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::portable_schema::{SchemaSide, portable};
use crate::tool_outputs::{DeviceDetailOutput, DevicesOutput, FirmwareOutput};

/// No parameters.
#[derive(Debug, JsonSchema)]
#[allow(dead_code)] // Schema only: arguments are read field by field (arguments.rs) to report every problem.
pub struct NoParams {}

#[derive(Debug, JsonSchema)]
#[allow(dead_code)] // Schema only: arguments are read field by field (arguments.rs) to report every problem.
pub struct ListDevicesParams {
    /// Group (tenant) id; omit to use your own tenant.
    pub group_id: Option<String>,
    /// Devices per page, 1-100 (default 25). Ignored with `all`.
    pub page_size: Option<i64>,
    /// First device of the page, from 0 (default 0). Ignored with `all`.
    pub start_index: Option<i64>,
    /// The whole fleet in one answer (progress is reported while pages load).
    pub all: Option<bool>,
    /// Only devices with (true) or without (false) newer firmware on offer.
    pub needs_update: Option<bool>,
    /// Only this model, e.g. "MX-3071".
    pub model: Option<String>,
    /// Only this OTA mode: auto, confirmation or off.
    pub ota_mode: Option<String>,
    /// Only this update status: none, reserved, downloading, downloaded, updating, completed, failed.
    pub update_status: Option<String>,
    /// Text searched in name, model, serial and IP address.
    pub search: Option<String>,
}

#[derive(Debug, JsonSchema)]
#[allow(dead_code)] // Schema only: arguments are read field by field (arguments.rs) to report every problem.
pub struct GetDeviceParams {
    /// `mn=<base64>:sn=<base64>`, as list_devices shows.
    pub device_id: String,
    pub group_id: Option<String>,
}

#[derive(Debug, JsonSchema)]
#[allow(dead_code)] // Schema only: arguments are read field by field (arguments.rs) to report every problem.
pub struct GroupParams {
    /// Group (tenant) id; omit to use your own tenant.
    pub group_id: Option<String>,
}

#[derive(Debug, JsonSchema)]
#[allow(dead_code)] // Schema only: arguments are read field by field (arguments.rs) to report every problem.
pub struct ListStagedFirmwareParams {
    pub group_id: Option<String>,
    /// From 0 (default 0).
    pub start_index: Option<i64>,
    /// 1-100 (default 100).
    pub count: Option<i64>,
}

#[derive(Debug, JsonSchema)]
#[allow(dead_code)] // Schema only: arguments are read field by field (arguments.rs) to report every problem.
pub struct MakeApiRequestParams {
    /// A path under the API base, e.g. `/api/v1/tenants`.
    pub endpoint: String,
    /// GET (default), POST, PUT, PATCH or DELETE. Only reads unless writes are allowed in settings.
    pub method: Option<String>,
    /// JSON body for POST/PUT/PATCH.
    pub payload: Option<JsonObject>,
}

/// Confirmation parameters every change tool takes.
#[derive(Debug, JsonSchema)]
#[allow(dead_code)] // Schema only: arguments are read field by field (arguments.rs) to report every problem.
pub struct ScheduleFirmwareUpdateParams {
    /// Device ids (`mn=<base64>:sn=<base64>`).
    pub device_ids: Vec<String>,
    /// A staged firmware file's id (see list_staged_firmware).
    pub firmware_file_id: String,
    /// When the file is sent: Unix milliseconds, in the future.
    pub transfer_datetime: i64,
    /// When the update runs: `YYYYMMDDHHMM` in `timezone`, not before the transfer.
    pub execute_datetime: String,
    /// `UTC±hh:mm`; default: the profile's time zone (UTC+05:30 unless it sets one).
    pub timezone: Option<String>,
    pub group_id: Option<String>,
    /// true goes ahead although the file names another model than a device's (refused
    /// otherwise); say so only when the user asked for it. Shown in the preview and the audit log.
    pub allow_other_model: Option<bool>,
    /// true carries the change out; otherwise the preview is returned (or the user is asked).
    pub confirm: Option<bool>,
    /// The `digest` of the preview being confirmed; if given, the change runs only if the devices still match it.
    pub preview_digest: Option<String>,
}

#[derive(Debug, JsonSchema)]
#[allow(dead_code)] // Schema only: arguments are read field by field (arguments.rs) to report every problem.
pub struct ConfigureOtaModeParams {
    pub device_ids: Vec<String>,
    /// auto, confirmation or off.
    pub ota_mode: String,
    /// 0-23, or -1 for any time (default 2).
    pub start_hour: Option<i64>,
    /// 0-23, or -1 for any time (default 4); after start_hour in auto mode.
    pub end_hour: Option<i64>,
    pub group_id: Option<String>,
    pub confirm: Option<bool>,
    pub preview_digest: Option<String>,
}

#[derive(Debug, JsonSchema)]
#[allow(dead_code)] // Schema only: arguments are read field by field (arguments.rs) to report every problem.
pub struct CancelScheduledUpdateParams {
    pub device_ids: Vec<String>,
    pub group_id: Option<String>,
    pub confirm: Option<bool>,
    pub preview_digest: Option<String>,
}

/// The tenants the user may manage.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TenantsOutput {
    pub tenants: Vec<TenantView>,
}

/// The cloud's answer to a raw request.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ApiAnswer {
    pub endpoint: String,
    pub method: String,
    pub answer: Value,
}

/// What a change tool did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeToolStatus {
    /// Nothing was changed yet: show the preview, confirm to carry it out.
    Preview,
    /// Carried out: see `result`.
    Done,
    /// The user said no when asked; nothing was changed.
    Declined,
    /// The person refused it in the MCP-RMM app; nothing was changed.
    Refused,
    /// The approval in the MCP-RMM app was not answered; nothing was changed.
    Unanswered,
}

/// What a change tool did: its `status`, the preview, and the result when carried out.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChangeToolOutput {
    pub status: ChangeToolStatus,
    pub preview: ChangePreview,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<ChangeResult>,
    /// What to do next, for the agent.
    pub next_step: String,
}

/// The change tools' names: one per `ChangeKind`.
pub const CHANGE_TOOLS: [&str; 3] = [
    ChangeKind::ALL[0].tool_name(),
    ChangeKind::ALL[1].tool_name(),
    ChangeKind::ALL[2].tool_name(),
];

pub(crate) fn tool<P: JsonSchema + 'static, O: JsonSchema + 'static>(
    name: &'static str,
    title: &str,
    description: &'static str,
    hints: ToolAnnotations,
) -> Tool {
    let input = schema_for_input::<P>().unwrap_or_else(|_| Arc::new(JsonObject::new()));
    Tool::new(name, description, portable(&input, SchemaSide::Input))
        .with_title(title)
        .with_raw_output_schema(portable(&schema_for_output::<O>(), SchemaSide::Output))
        .with_annotations(hints.title_owned(title))
}

trait TitleOwned {
    fn title_owned(self, title: &str) -> Self;
}

impl TitleOwned for ToolAnnotations {
    fn title_owned(mut self, title: &str) -> Self {
        self.title = Some(title.to_owned());
        self
    }
}

pub(crate) fn read() -> ToolAnnotations {
    ToolAnnotations::new()
        .read_only(true)
        .destructive(false)
        .idempotent(true)
        .open_world(true)
}

pub(crate) fn change(idempotent: bool) -> ToolAnnotations {
    ToolAnnotations::new()
        .read_only(false)
        .destructive(true)
        .idempotent(idempotent)
        .open_world(true)
}

/// The tool of one change (every kind has one: the match has no catch-all).
fn change_tool(kind: ChangeKind) -> Tool {
    let name = kind.tool_name();
    match kind {
        ChangeKind::ScheduleFirmwareUpdate => {
            tool::<ScheduleFirmwareUpdateParams, ChangeToolOutput>(
                name,
                "Schedule a firmware update",
                "Schedules a staged firmware file onto devices: transfer at transfer_datetime (Unix ms, future), update at execute_datetime (YYYYMMDDHHMM in timezone UTC±hh:mm). Always previews first (devices, current state, warnings: already reserved, offline, file not fitting the model). Without confirm: true it changes nothing and returns the preview (or asks the user, if your client supports it); call again with confirm: true (and preview_digest) to carry it out.",
                change(false),
            )
        }
        ChangeKind::ConfigureOtaMode => tool::<ConfigureOtaModeParams, ChangeToolOutput>(
            name,
            "Configure OTA mode",
            "Sets devices' automatic-update mode (auto, confirmation, off) and window start_hour-end_hour (0-23, or -1 for any time; start before end in auto). Previews first; carried out only with confirm: true or the user's confirmation.",
            change(true),
        ),
        ChangeKind::CancelScheduledUpdate => tool::<CancelScheduledUpdateParams, ChangeToolOutput>(
            name,
            "Cancel scheduled updates",
            "Cancels the firmware update reservations of devices. Previews first (warns about devices with nothing to cancel); carried out only with confirm: true or the user's confirmation.",
            change(true),
        ),
    }
}

/// Every tool; without the change tools in read-only mode.
pub fn tools(read_only: bool, api_writes_allowed: bool) -> Vec<Tool> {
    let mut list = vec![
        tool::<NoParams, AuthStatus>(
            "auth_status",
            "Sign-in status",
            "Who is signed in to the Sharp cloud, their tenant (default group id) and when the sign-in expires. Never returns the token unless the user allowed it in settings. If not signed in, says how to sign in.",
            read(),
        ),
        tool::<NoParams, AuthStatus>(
            "extract_auth_token",
            "Sign-in (token) status",
            "Kept for old prompts: reports the current sign-in (who, tenant, expiry) like auth_status. It does not open a browser; to sign in, the user uses the MCP-RMM app or `rmm login`. The token itself is returned only if the user turned that on in settings.",
            read(),
        ),
        tool::<NoParams, TenantsOutput>(
            "list_tenants",
            "List tenants",
            "The tenants (groups) the user may manage, with their group ids.",
            read(),
        ),
        tool::<ListDevicesParams, DevicesOutput>(
            "list_devices",
            "List devices",
            "Printers with their firmware state: current and latest firmware, needs_update, update status, OTA mode and window, online/offline. The old tool's shape: summary {total_devices, devices_needing_update, group_id} and devices [{device_id, model_name, serial_number, ip_address, current_firmware, latest_firmware, needs_update, ota_mode, ...}]. One page (page_size, start_index) or the whole fleet (all: true). Filter with needs_update, model, ota_mode, update_status, search. device_id values are what the change tools take.",
            read(),
        ),
        tool::<GetDeviceParams, DeviceDetailOutput>(
            "get_device",
            "Get one device",
            "One printer's firmware and OTA state by device_id, and in cloud_fields every field the cloud sent for it (its own names, also ones this tool does not know).",
            read(),
        ),
        tool::<GroupParams, FleetSummary>(
            "fleet_summary",
            "Fleet summary",
            "The whole fleet in counts: by model, by current → latest firmware, by update status, by OTA mode, plus how many need an update and how many are offline. Use this before listing thousands of devices.",
            read(),
        ),
        tool::<ListStagedFirmwareParams, FirmwareOutput>(
            "list_staged_firmware",
            "List staged firmware",
            "Firmware files staged in the cloud (firmware_files [{file_id, title, filename, size_bytes, uploaded_at}], as the old tool answered), with the models each fits (read from its title or file name). Use a file_id with schedule_firmware_update.",
            read(),
        ),
        tool::<MakeApiRequestParams, ApiAnswer>(
            "make_api_request",
            "Raw API request",
            if api_writes_allowed {
                "A request to a path under the Sharp RMM API base (never another host). Writes are allowed by the user's settings and are recorded in the audit log; prefer the change tools, which preview and confirm."
            } else {
                "A read-only request to a path under the Sharp RMM API base (never another host): GET, or POST to the device and firmware list endpoints. Use the change tools for changes."
            },
            if api_writes_allowed {
                change(false)
            } else {
                read()
            },
        ),
    ];
    if !read_only {
        list.extend(ChangeKind::ALL.map(change_tool));
    }
    list.extend(crate::rollout_tools::rollout_tools(read_only));
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portable_schema::problems;

    /// Every schema of every tool, in every mode, at every level ($defs included): nothing
    /// the TypeScript SDK, the Python SDK or the Inspector's strict lint would reject or warn
    /// about. A new field whose schema is not portable fails here.
    #[test]
    fn every_published_schema_is_portable() {
        let mut checked = 0;
        for (read_only, writes) in [(false, false), (false, true), (true, false)] {
            for tool in tools(read_only, writes) {
                let mut found = problems(&tool.input_schema);
                if let Some(output) = &tool.output_schema {
                    found.extend(problems(output).into_iter().map(|p| format!("output {p}")));
                    checked += 1;
                } else {
                    found.push("no output schema".to_owned());
                }
                assert!(found.is_empty(), "{}: {found:#?}", tool.name);
            }
        }
        assert!(checked >= 20 + 20 + 11, "{checked}");
    }

    #[test]
    fn nullable_outputs_are_written_as_any_of_branches() {
        let list = tools(false, false);
        let text = serde_json::to_string(&list).unwrap_or_default();
        assert!(
            !text.contains("uint64") && !text.contains("\"nullable\""),
            "{text}"
        );
        let api = list.iter().find(|t| t.name == "make_api_request");
        let answer = api
            .and_then(|t| t.output_schema.as_ref())
            .map(|s| s["properties"]["answer"].clone());
        assert!(
            answer.as_ref().is_some_and(|a| a["anyOf"].is_array()),
            "{answer:?}"
        );
    }
}
