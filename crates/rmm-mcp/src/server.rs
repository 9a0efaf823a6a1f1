//! `RmmMcpServer`: the MCP face. It turns tool calls and resource reads into `rmm-core`
//! operations and their answers into compact tool results; every rule (validation, preview,
//! confirmation, group choice, audit) stays in `rmm-core`. Change tools are confirmed by
//! elicitation when the client supports it, else by calling again with `confirm: true`.

use std::collections::BTreeMap;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ElicitRequest,
    ElicitRequestParams, ElicitationAction, Implementation, InputRequest, InputRequiredResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ProgressNotificationParam,
    ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use rmm_core::{
    AuditQuery, Caller, CancelReservations, ChangeKind, ChangePreview, ChangeRequest,
    CheckedChange, DeviceQuery, FleetOperations, OperationError, ScheduleUpdate, SetOtaMode,
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::arguments::Arguments;
use crate::endpoint_host::{Approval, CallSeen, EndpointHost};
use crate::rollout_tools::{RolloutAccess, RolloutCall, RolloutTool};
use crate::tool_catalog::{ApiAnswer, ChangeToolOutput, ChangeToolStatus, TenantsOutput, tools};
use crate::tool_outputs::{DeviceDetailOutput, DeviceOutput, DevicesOutput, FirmwareOutput};

pub const AUTH_STATUS_URI: &str = "rmm://auth/status";
pub const RECENT_AUDIT_URI: &str = "rmm://audit/recent";
/// The key of the confirmation question in an elicitation.
pub(crate) const CONFIRM_KEY: &str = "confirm";

/// How the endpoint behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerOptions {
    /// List no change tools and refuse them.
    pub read_only: bool,
}

/// The MCP server; one per session (cheap: clones share the operations).
#[derive(Clone)]
pub struct RmmMcpServer {
    ops: FleetOperations,
    options: ServerOptions,
    tools: Arc<Vec<Tool>>,
    /// Names this server instance (one per stdio process or HTTP session) in the audit log.
    session: Arc<str>,
    /// The app hosting the endpoint, if any: it approves changes and sees every call.
    host: Option<Arc<dyn EndpointHost>>,
    /// How agents reach this server (`stdio`, `http`, `socket`), for the host's activity list.
    transport: &'static str,
    /// The rollout store and the agents' envelope.
    rollouts: RolloutAccess,
}

impl std::fmt::Debug for RmmMcpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RmmMcpServer")
            .field("read_only", &self.options.read_only)
            .field("session", &self.session)
            .finish()
    }
}

/// `ops` with writes through make_api_request off, whatever the settings say (read-only).
fn without_api_writes(ops: FleetOperations) -> FleetOperations {
    let settings = rmm_core::OperationSettings {
        allow_api_writes: false,
        ..ops.settings()
    };
    ops.with_settings(settings)
}

fn random_session_id() -> String {
    let bytes: [u8; 8] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

type ToolOutcome = Result<Value, OperationError>;

impl RmmMcpServer {
    pub fn new(ops: FleetOperations, options: ServerOptions) -> Self {
        let ops = if options.read_only {
            without_api_writes(ops)
        } else {
            ops
        };
        let tools = tools(options.read_only, ops.settings().allow_api_writes);
        Self {
            ops,
            options,
            tools: Arc::new(tools),
            session: random_session_id().into(),
            host: None,
            transport: "stdio",
            rollouts: RolloutAccess::default(),
        }
    }

    /// Reads the agents' envelope for rollout steps from `access` (else: the defaults, under
    /// which an agent takes no step alone).
    pub fn with_rollouts(mut self, access: RolloutAccess) -> Self {
        self.rollouts = access;
        self
    }

    /// Hands every change to `host` for the person's approval (instead of elicitation or
    /// `confirm: true`) and tells it of each session and call over `transport`.
    pub fn with_host(mut self, host: Arc<dyn EndpointHost>, transport: &'static str) -> Self {
        self.host = Some(host);
        self.transport = transport;
        self
    }

    /// This server with no change tools listed and every change refused, whatever it was
    /// made with (for a relayed `rmm mcp --stdio --read-only`).
    pub fn read_only(mut self) -> Self {
        self.options.read_only = true;
        self.ops = without_api_writes(self.ops);
        self.tools = Arc::new(tools(true, false));
        self
    }

    /// The tools this server lists.
    pub fn tool_list(&self) -> &[Tool] {
        &self.tools
    }

    fn caller(&self, ctx: &RequestContext<RoleServer>) -> Caller {
        let name = ctx.client_info().map_or_else(
            || "unknown MCP client".to_owned(),
            |i| format!("{} {}", i.name, i.version),
        );
        let session = ctx
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.headers.get("mcp-session-id"))
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| self.session.to_string(), str::to_owned);
        Caller::McpClient { name, session }
    }

    async fn read_tool(
        &self,
        name: &str,
        args: Arguments,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<ToolOutcome, rmm_core::Problems> {
        let mut args = args;
        let outcome = match name {
            "auth_status" | "extract_auth_token" => {
                args.finish().into_result()?;
                Ok(to_value(&self.ops.auth_status().await))
            }
            "list_tenants" => {
                args.finish().into_result()?;
                self.ops
                    .tenants()
                    .await
                    .map(|tenants| to_value(&TenantsOutput { tenants }))
            }
            "list_devices" => {
                let query = DeviceQuery {
                    group_id: args.opt_string("group_id"),
                    page_size: args.int_or("page_size", rmm_core::DEFAULT_PAGE_SIZE),
                    start_index: args.int_or("start_index", 0),
                    needs_update: args.opt_bool("needs_update"),
                    model: args.opt_string("model"),
                    ota_mode: args.opt_string("ota_mode"),
                    update_status: args.opt_string("update_status"),
                    text: args.opt_string("search"),
                };
                let all = args.opt_bool("all").unwrap_or(false);
                args.finish_with(query.validate(all)).into_result()?;
                if all {
                    let mut progress = ProgressForwarder::new(ctx);
                    let listing = self
                        .ops
                        .all_devices(&query, &mut |p| progress.page(p))
                        .await;
                    progress.finish().await;
                    listing.map(|l| to_value(&DevicesOutput::from(l)))
                } else {
                    self.ops
                        .devices(&query)
                        .await
                        .map(|l| to_value(&DevicesOutput::from(l)))
                }
            }
            "get_device" => {
                let id = args.string("device_id");
                let group = args.opt_string("group_id");
                args.finish().into_result()?;
                self.ops
                    .device_detail(&id, group.as_deref())
                    .await
                    .map(|(d, cloud_fields)| {
                        to_value(&DeviceDetailOutput {
                            device: DeviceOutput::from(d),
                            cloud_fields,
                        })
                    })
            }
            "fleet_summary" => {
                let group = args.opt_string("group_id");
                args.finish().into_result()?;
                let mut progress = ProgressForwarder::new(ctx);
                let summary = self
                    .ops
                    .summary(group.as_deref(), &mut |p| progress.page(p))
                    .await;
                progress.finish().await;
                summary.map(|s| to_value(&s))
            }
            "list_staged_firmware" => {
                let group = args.opt_string("group_id");
                let start = args.int_or("start_index", 0);
                let count = args.int_or("count", 100);
                args.finish().into_result()?;
                self.ops
                    .firmware_files(group.as_deref(), start, count)
                    .await
                    .map(|f| to_value(&FirmwareOutput::from(f)))
            }
            "make_api_request" => {
                let endpoint = args.string("endpoint");
                let method = args
                    .opt_string("method")
                    .unwrap_or_else(|| "GET".to_owned());
                let payload = args.opt_object("payload");
                args.finish().into_result()?;
                let caller = self.caller(ctx);
                self.ops
                    .api_request(&method, &endpoint, payload, &caller)
                    .await
                    .map(|answer| {
                        to_value(&ApiAnswer {
                            endpoint,
                            method: method.to_ascii_uppercase(),
                            answer,
                        })
                    })
            }
            _ => {
                return Ok(Err(OperationError::invalid(
                    "name",
                    format!("no tool named {name:?}"),
                )));
            }
        };
        Ok(outcome)
    }

    /// Reads a change tool's arguments into core's checked change, plus `confirm` and
    /// `preview_digest`; or every problem, the unreadable arguments first.
    fn change_request(
        &self,
        kind: ChangeKind,
        args: Option<rmcp::model::JsonObject>,
    ) -> Result<(CheckedChange, bool, Option<String>), rmm_core::Problems> {
        let mut args = Arguments::new(args);
        let request = match kind {
            ChangeKind::ScheduleFirmwareUpdate => {
                ChangeRequest::ScheduleFirmwareUpdate(ScheduleUpdate {
                    device_ids: args.strings("device_ids"),
                    firmware_file_id: args.string("firmware_file_id"),
                    transfer_datetime: args.int("transfer_datetime"),
                    execute_datetime: args.string("execute_datetime"),
                    timezone: args
                        .opt_string("timezone")
                        .unwrap_or_else(|| self.ops.schedule_time_zone()),
                    group_id: args.opt_string("group_id"),
                    allow_other_model: args.opt_bool("allow_other_model").unwrap_or(false),
                })
            }
            ChangeKind::ConfigureOtaMode => ChangeRequest::ConfigureOtaMode(SetOtaMode {
                device_ids: args.strings("device_ids"),
                ota_mode: args.string("ota_mode"),
                start_hour: args.int_or("start_hour", rmm_core::DEFAULT_OTA_START_HOUR),
                end_hour: args.int_or("end_hour", rmm_core::DEFAULT_OTA_END_HOUR),
                group_id: args.opt_string("group_id"),
            }),
            ChangeKind::CancelScheduledUpdate => {
                ChangeRequest::CancelScheduledUpdate(CancelReservations {
                    device_ids: args.strings("device_ids"),
                    group_id: args.opt_string("group_id"),
                })
            }
        };
        let confirm = args.opt_bool("confirm").unwrap_or(false);
        let digest = args.opt_string("preview_digest");
        // Rules are core's (checked at the operations' clock); fields that could not even be
        // read are reported from here, with core's findings on the rest (`finish_with`).
        match self.ops.check(&request) {
            Ok(checked) => {
                args.finish().into_result()?;
                Ok((checked, confirm, digest))
            }
            Err(rules) => Err(args.finish_with(rules)),
        }
    }

    async fn change_tool(
        &self,
        kind: ChangeKind,
        params: CallToolRequestParams,
        ctx: &RequestContext<RoleServer>,
    ) -> CallToolResponse {
        if self.options.read_only {
            return error_result(&OperationError::invalid(
                "name",
                "this endpoint is read-only (--read-only): change tools are off",
            ))
            .into();
        }
        let name = kind.tool_name();
        let (request, confirm, digest) = match self.change_request(kind, params.arguments.clone()) {
            Ok(parsed) => parsed,
            Err(problems) => return error_result(&OperationError::Invalid(problems)).into(),
        };
        let caller = self.caller(ctx);
        if let Some(host) = &self.host {
            // The person at the app decides, whatever the agent sent as `confirm`.
            let preview = match self.ops.preview(&request).await {
                Ok(preview) => preview,
                Err(e) => return error_result(&e).into(),
            };
            return match host.approve(caller.clone(), preview.clone()).await {
                Approval::Approved => self.apply(&request, &preview.digest, &caller).await,
                Approval::Refused => refused_in_app(preview).into(),
                Approval::Unanswered(why) => unanswered_in_app(preview, &why).into(),
            };
        }
        // A 2026-07-28 client answering our confirmation question (multi round-trip request).
        if let Some(responses) = &params.input_responses {
            let accepted = responses
                .get(CONFIRM_KEY)
                .is_some_and(accepted_confirmation);
            let Some(state_digest) = params.request_state.clone() else {
                return error_result(&OperationError::invalid(
                    "requestState",
                    "missing: confirm the preview again",
                ))
                .into();
            };
            return if accepted {
                self.apply(&request, &state_digest, &caller).await
            } else {
                match self.ops.preview(&request).await {
                    Ok(preview) => declined(preview).into(),
                    Err(e) => error_result(&e).into(),
                }
            };
        }
        let preview = match self.ops.preview(&request).await {
            Ok(preview) => preview,
            Err(e) => return error_result(&e).into(),
        };
        if confirm {
            let digest = digest.unwrap_or_else(|| preview.digest.clone());
            return self.apply(&request, &digest, &caller).await;
        }
        let supports_elicitation = ctx
            .client_capabilities()
            .is_some_and(|c| c.elicitation.is_some());
        if !supports_elicitation {
            return structured(&ChangeToolOutput {
                status: ChangeToolStatus::Preview,
                next_step: format!(
                    "Nothing was changed. Show this preview to the user; to carry it out call {name} again with the same arguments plus confirm: true and preview_digest: \"{}\".",
                    preview.digest
                ),
                preview,
                result: None,
            })
            .into();
        }
        let question = elicitation(&preview);
        let new_protocol = ctx
            .protocol_version()
            .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);
        if new_protocol {
            let mut requests = BTreeMap::new();
            requests.insert(
                CONFIRM_KEY.to_owned(),
                InputRequest::Elicitation(ElicitRequest::new(question)),
            );
            return InputRequiredResult::new(Some(requests), Some(preview.digest.clone())).into();
        }
        match ctx.peer.create_elicitation(question).await {
            Ok(answer)
                if answer.action == ElicitationAction::Accept
                    && answer
                        .content
                        .as_ref()
                        .is_some_and(|c| c[CONFIRM_KEY] == json!(true)) =>
            {
                self.apply(&request, &preview.digest, &caller).await
            }
            Ok(_) => declined(preview).into(),
            Err(e) => {
                tracing::warn!(error = %e, "elicitation failed; returning the preview");
                structured(&ChangeToolOutput {
                    status: ChangeToolStatus::Preview,
                    next_step: format!("Could not ask the user ({e}). Nothing was changed; call again with confirm: true and preview_digest: \"{}\" once the user agrees.", preview.digest),
                    preview,
                    result: None,
                })
                .into()
            }
        }
    }

    /// The answer to one tool call (the read or change it asks for).
    async fn answer_call(
        &self,
        request: CallToolRequestParams,
        ctx: &RequestContext<RoleServer>,
    ) -> CallToolResponse {
        let name = request.name.to_string();
        if !self.tools.iter().any(|t| t.name == name) {
            let known: Vec<&str> = self.tools.iter().map(|t| t.name.as_ref()).collect();
            let why = if ChangeKind::from_tool_name(&name).is_some()
                || RolloutTool::from_name(&name).is_some_and(|t| !t.reads_only())
            {
                "this endpoint is read-only (--read-only): change tools are off".to_owned()
            } else {
                format!("no tool named {name:?}; the tools are {}", known.join(", "))
            };
            return error_result(&OperationError::invalid("name", why)).into();
        }
        if let Some(kind) = ChangeKind::from_tool_name(&name) {
            return self.change_tool(kind, request, ctx).await;
        }
        if let Some(tool) = RolloutTool::from_name(&name) {
            let call = RolloutCall {
                ops: &self.ops,
                access: &self.rollouts,
                host: self.host.as_ref(),
                caller: self.caller(ctx),
                ctx,
            };
            return crate::rollout_tools::answer(call, tool, request).await;
        }
        let args = Arguments::new(request.arguments);
        let structured_aware = ctx
            .protocol_version()
            .is_some_and(|v| v >= ProtocolVersion::V_2025_06_18);
        let result = match self.read_tool(&name, args, ctx).await {
            Err(problems) => error_result(&OperationError::Invalid(problems)),
            Ok(Ok(value)) if structured_aware => read_result(&name, value),
            Ok(Ok(value)) => CallToolResult::structured(value),
            Ok(Err(e)) => error_result(&e),
        };
        result.into()
    }

    async fn apply(
        &self,
        request: &CheckedChange,
        digest: &str,
        caller: &Caller,
    ) -> CallToolResponse {
        match self.ops.apply(request, digest, caller).await {
            Ok(result) => {
                let preview = self.ops.preview(request).await.ok();
                let next_step = format!(
                    "Done ({}); audit entry {}. list_devices or get_device show the new state.",
                    result.outcome, result.audit_id
                );
                match preview {
                    Some(preview) => structured(&ChangeToolOutput {
                        status: ChangeToolStatus::Done,
                        preview,
                        result: Some(result),
                        next_step,
                    })
                    .into(),
                    None => CallToolResult::structured(
                        json!({"status": ChangeToolStatus::Done, "result": result, "next_step": next_step}),
                    )
                    .into(),
                }
            }
            Err(OperationError::PreviewChanged(preview)) => {
                let mut result = structured(&ChangeToolOutput {
                    status: ChangeToolStatus::Preview,
                    next_step: format!(
                        "Nothing was changed: the devices changed since the preview you confirmed. Review this new preview and confirm it with preview_digest: \"{}\".",
                        preview.digest
                    ),
                    preview: *preview,
                    result: None,
                });
                result.is_error = Some(true);
                result.into()
            }
            Err(e) => error_result(&e).into(),
        }
    }

    fn resource_text(&self, uri: &str, status: Option<Value>) -> Result<String, McpError> {
        match uri {
            AUTH_STATUS_URI => Ok(status.unwrap_or(Value::Null).to_string()),
            RECENT_AUDIT_URI => {
                let entries = self
                    .ops
                    .audit_entries(&AuditQuery {
                        limit: Some(20),
                        ..AuditQuery::default()
                    })
                    .map_err(|e| McpError::internal_error(e.to_string(), None))?;
                Ok(json!({"entries": entries}).to_string())
            }
            _ => Err(McpError::resource_not_found(
                format!("no resource {uri}"),
                None,
            )),
        }
    }
}

pub(crate) fn accepted_confirmation(answer: &Value) -> bool {
    answer["action"] == json!("accept") && answer["content"][CONFIRM_KEY] == json!(true)
}

fn elicitation(preview: &ChangePreview) -> ElicitRequestParams {
    let mut message = format!("{}\n", preview.summary);
    for d in preview.devices.iter().take(20) {
        message.push_str(&format!("- {} {}: {}\n", d.model, d.device_id, d.change));
    }
    if preview.devices.len() > 20 {
        message.push_str(&format!("- … and {} more\n", preview.devices.len() - 20));
    }
    for w in &preview.warnings {
        message.push_str(&format!("! {}\n", w.message));
    }
    message.push_str("Carry out this change?");
    yes_no_question(
        message,
        "Carry out this change",
        "Yes to carry out the change shown",
        "Confirm the change an agent asked for",
    )
}

/// A form asking the user one yes/no question (`confirm`, required), with `message` above it.
pub(crate) fn yes_no_question(
    message: String,
    title: &'static str,
    yes_means: &'static str,
    form: &'static str,
) -> ElicitRequestParams {
    let requested_schema = rmcp::model::ElicitationSchema::builder()
        .required_bool_with(CONFIRM_KEY, |b| b.title(title).description(yes_means))
        .description(form)
        .build()
        .unwrap_or_else(|_| rmcp::model::ElicitationSchema::new(BTreeMap::new()));
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message,
        requested_schema,
    }
}

fn declined(preview: ChangePreview) -> CallToolResult {
    structured(&ChangeToolOutput {
        status: ChangeToolStatus::Declined,
        preview,
        result: None,
        next_step: "The user declined. Nothing was changed.".into(),
    })
}

fn refused_in_app(preview: ChangePreview) -> CallToolResult {
    let mut result = structured(&ChangeToolOutput {
        status: ChangeToolStatus::Refused,
        preview,
        result: None,
        next_step: "The user refused this change in the MCP-RMM app. Nothing was changed; do not retry it unless the user asks.".into(),
    });
    result.is_error = Some(true);
    result
}

fn unanswered_in_app(preview: ChangePreview, why: &str) -> CallToolResult {
    let mut result = structured(&ChangeToolOutput {
        status: ChangeToolStatus::Unanswered,
        preview,
        result: None,
        next_step: format!(
            "Nothing was changed: the approval in the MCP-RMM app was not answered ({why}). Ask the user before trying again."
        ),
    });
    result.is_error = Some(true);
    result
}

/// Whether `response` succeeded and one line on what it was, for the host's activity list.
fn describe_response(response: &CallToolResponse) -> (bool, String) {
    let CallToolResponse::Complete(result) = response else {
        return (true, "waiting for the client's answer".to_owned());
    };
    let ok = result.is_error != Some(true);
    let structured = result.structured_content.as_ref();
    let line = if let Some(status) = structured.and_then(|v| v["status"].as_str()) {
        let summary = structured
            .and_then(|v| v["preview"]["summary"].as_str())
            .unwrap_or_default();
        format!("{status}: {summary}")
    } else if !ok {
        let text = result
            .content
            .iter()
            .find_map(|c| c.as_text().map(|t| t.text.clone()))
            .unwrap_or_default();
        serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or(text)
    } else {
        result
            .content
            .iter()
            .find_map(|c| c.as_text().map(|t| t.text.clone()))
            .unwrap_or_default()
    };
    let line = line.lines().next().unwrap_or_default();
    let short: String = line.chars().take(160).collect();
    (ok, short)
}

pub(crate) fn to_value(v: &impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

pub(crate) fn structured(v: &impl Serialize) -> CallToolResult {
    CallToolResult::structured(to_value(v))
}

/// A read's result for a client that negotiated 2025-06-18 or later: the data once, in
/// `structuredContent` (which those clients read, checked against the tool's output schema),
/// and a one-line text summary beside it.
///
/// Why not the serialized JSON in the text block too, as the 2025-06-18 spec's "SHOULD, for
/// backwards compatibility" suggests? That copy is for clients that do not know structured
/// output, i.e. older protocol versions, and those still get it (`CallToolResult::structured`
/// below 2025-06-18). Sending every device twice to clients that read the structured copy
/// doubles what an agent pays per device for nothing (the benchmark's bytes per device).
fn read_result(tool: &str, value: Value) -> CallToolResult {
    let mut facts = Vec::new();
    if let Value::Object(map) = &value {
        for (key, v) in map {
            match v {
                Value::Number(_) | Value::Bool(_) => facts.push(format!("{key}={v}")),
                Value::String(text) if text.len() <= 64 => facts.push(format!("{key}={text}")),
                Value::Array(items) => facts.push(format!("{key}: {} item(s)", items.len())),
                // One level down (list_devices' summary): its counts.
                Value::Object(inner) => {
                    for (k, v) in inner {
                        if matches!(v, Value::Number(_) | Value::Bool(_)) {
                            facts.push(format!("{k}={v}"));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let summary = format!(
        "{tool}: {} (the data is in structuredContent)",
        if facts.is_empty() {
            "done".to_owned()
        } else {
            facts.join(", ")
        }
    );
    let mut result = CallToolResult::success(vec![ContentBlock::text(summary)]);
    result.structured_content = Some(value);
    result
}

/// A tool error an agent can act on: the message, the kind, and every problem.
pub(crate) fn error_result(e: &OperationError) -> CallToolResult {
    let mut text = match e {
        OperationError::Invalid(problems) => problems_text(problems),
        other => other.to_string(),
    };
    if let (Some(problems), OperationError::CloudRefused { .. }) = (e.problems(), e) {
        text.push('\n');
        text.push_str(&problems_text(problems));
    }
    let body = json!({"error": e.kind(), "message": text, "problems": e.problems().map(|p| &p.0)});
    CallToolResult::error(vec![ContentBlock::text(body.to_string())])
}

/// Core's problems in an agent's words: each field is the tool parameter, and a hint names the
/// tool that lists the values.
fn problems_text(problems: &rmm_core::Problems) -> String {
    problems.render(&rmm_core::ProblemWords {
        input: "request",
        field: &str::to_owned,
        rule: &str::to_owned,
        hint: &|hint| match hint {
            rmm_core::Hint::ListDevices => "see list_devices",
            rmm_core::Hint::ListStagedFirmware => "see list_staged_firmware",
            rmm_core::Hint::AllowOtherModel => "or allow it with allow_other_model: true",
        },
    })
}

/// Sends a progress notification per page loaded, when the client asked for progress.
struct ProgressForwarder {
    sender: Option<tokio::sync::mpsc::UnboundedSender<ProgressNotificationParam>>,
    task: Option<tokio::task::JoinHandle<()>>,
    token: Option<rmcp::model::ProgressToken>,
}

impl ProgressForwarder {
    fn new(ctx: &RequestContext<RoleServer>) -> Self {
        let Some(token) = ctx.meta.get_progress_token() else {
            return Self {
                sender: None,
                task: None,
                token: None,
            };
        };
        let (sender, mut receiver) =
            tokio::sync::mpsc::unbounded_channel::<ProgressNotificationParam>();
        let peer = ctx.peer.clone();
        let task = tokio::spawn(async move {
            while let Some(p) = receiver.recv().await {
                if let Err(e) = peer.notify_progress(p).await {
                    tracing::debug!(error = %e, "progress notification not delivered");
                }
            }
        });
        Self {
            sender: Some(sender),
            task: Some(task),
            token: Some(token),
        }
    }

    fn page(&mut self, p: &rmm_api::FleetProgress) {
        if let (Some(sender), Some(token)) = (&self.sender, &self.token) {
            let mut param = ProgressNotificationParam::new(token.clone(), p.pages_done as f64);
            param.total = Some(p.pages_total as f64);
            param.message = Some(format!(
                "{} of {} devices loaded",
                p.devices_done, p.total_count
            ));
            let _ = sender.send(param);
        }
    }

    /// Waits until every notification is sent, so they arrive before the result.
    async fn finish(&mut self) {
        self.sender = None;
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl ServerHandler for RmmMcpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(Implementation::new("mcp-rmm", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Sharp printer fleet firmware: read with list_devices / fleet_summary / list_staged_firmware; change with schedule_firmware_update, configure_ota_mode, cancel_scheduled_update, which always preview first and need the user's confirmation.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let name = request.name.to_string();
        let response = self.answer_call(request, &ctx).await;
        if let Some(host) = &self.host {
            let (ok, summary) = describe_response(&response);
            host.call_seen(CallSeen {
                caller: self.caller(&ctx),
                tool: name,
                ok,
                summary,
            });
        }
        Ok(response)
    }

    async fn on_initialized(&self, ctx: rmcp::service::NotificationContext<RoleServer>) {
        if let Some(host) = &self.host {
            let name = ctx.peer.peer_info().map_or_else(
                || "unknown MCP client".to_owned(),
                |i| format!("{} {}", i.client_info.name, i.client_info.version),
            );
            let session = ctx
                .extensions
                .get::<axum::http::request::Parts>()
                .and_then(|parts| parts.headers.get("mcp-session-id"))
                .and_then(|v| v.to_str().ok())
                .map_or_else(|| self.session.to_string(), str::to_owned);
            host.session_started(Caller::McpClient { name, session }, self.transport);
        }
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let mut auth = Resource::new(AUTH_STATUS_URI, "auth-status");
        auth.description = Some(
            "Who is signed in to the Sharp cloud, their tenant and the expiry (never the token)."
                .into(),
        );
        auth.mime_type = Some("application/json".into());
        let mut audit = Resource::new(RECENT_AUDIT_URI, "recent-audit-entries");
        audit.description = Some("The 20 most recent changes from the audit log: who asked, what, the preview and the cloud's answer.".into());
        audit.mime_type = Some("application/json".into());
        Ok(ListResourcesResult::with_all_items(vec![auth, audit]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let status = if request.uri == AUTH_STATUS_URI {
            let mut status = self.ops.auth_status().await;
            // The token never goes out as a resource, whatever the settings say.
            status.token = None;
            Some(to_value(&status))
        } else {
            None
        };
        let text = self.resource_text(&request.uri, status)?;
        let mut contents = ResourceContents::text(text, request.uri.clone());
        if let ResourceContents::TextResourceContents { mime_type, .. } = &mut contents {
            *mime_type = Some("application/json".into());
        }
        Ok(ReadResourceResult::new(vec![contents]).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_tool_is_one_change_kind_and_nothing_else_is_a_change() {
        let listed = tools(false, false);
        for tool in &listed {
            let destructive = tool
                .annotations
                .as_ref()
                .and_then(|a| a.destructive_hint)
                .unwrap_or(false);
            let changes = ChangeKind::from_tool_name(&tool.name).is_some()
                || RolloutTool::from_name(&tool.name).is_some_and(|t| !t.reads_only());
            assert_eq!(changes, destructive, "{}", tool.name);
        }
        for kind in ChangeKind::ALL {
            assert!(
                listed.iter().any(|t| t.name == kind.tool_name()),
                "{kind} has no tool"
            );
        }
        // A near miss of a change tool's name is no change (it used to become a cancel).
        for name in ["cancel_scheduled_updates", "configure_ota", "delete_device"] {
            assert_eq!(ChangeKind::from_tool_name(name), None, "{name}");
        }
        assert!(tools(true, false).iter().all(|t| {
            ChangeKind::from_tool_name(&t.name).is_none()
                && RolloutTool::from_name(&t.name).is_none_or(RolloutTool::reads_only)
        }));
        for t in RolloutTool::ALL {
            assert_eq!(RolloutTool::from_name(t.name()), Some(t));
            assert!(
                listed.iter().any(|l| l.name == t.name()),
                "{t:?} has no tool"
            );
        }
    }
}
