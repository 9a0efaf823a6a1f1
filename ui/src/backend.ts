// The only way the front end talks to the desktop app's Rust side: every command goes through
// the generated bindings (`bindings.ts`, from tauri-specta) here, so that views never import
// Tauri directly and tests can mock this one module.
import * as B from "./bindings";
import { commands, events } from "./bindings";

export type { ErrorCode, DemoInfo as DemoSimulator } from "./bindings";

/** A command's failure as Rust sends it. */
export type CommandError = B.CommandError_Serialize;

/** What the app tells the UI about itself (the `app_info` command). */
export type AppInfo = B.AppInfo_Serialize;
/** Who is signed in: user, tenant, expiry; never the token. */
export type SessionInfo = B.SessionInfo_Serialize;

// The fleet, as rmm-core shapes it (snake_case field names, as every face sees them).
export type DeviceView = B.DeviceView_Serialize;
export type ReservationTimes = B.ReservationTimes_Serialize;
export type DeviceListing = B.DeviceListing_Serialize;
export type FleetSummary = B.FleetSummary_Serialize;
export type FleetSnapshot = B.FleetSnapshot_Serialize;
export type FleetProgress = B.FleetProgress;
export type Count = B.Count;
export type FirmwareStep = B.FirmwareStep_Serialize;
export type FirmwareFileView = B.FirmwareFileView_Serialize;
export type FirmwareListing = B.FirmwareListing_Serialize;
export type TenantView = B.TenantView_Serialize;
// Changes: the request (as the UI sends it), rmm-core's preview of it, and what was done.
export type ChangeRequest = B.ChangeRequest_Deserialize;
export type ScheduleUpdate = B.ScheduleUpdate_Deserialize;
export type SetOtaMode = B.SetOtaMode_Deserialize;
export type CancelReservations = B.CancelReservations_Deserialize;
export type ChangePreview = B.ChangePreview_Serialize;
export type DeviceChange = B.DeviceChange_Serialize;
export type PreviewWarning = B.PreviewWarning_Serialize;
export type ChangeResult = B.ChangeResult_Serialize;
export type Problem = B.Problem;
// The audit log.
export type AuditEntry = B.AuditEntry;
export type AuditQuery = B.AuditQuery_Deserialize;
export type Caller = B.Caller;
// The MCP endpoint hosted by the app.
export type McpStatus = B.McpStatus_Serialize;
export type McpSettings = B.McpSettings;
export type McpClientConfigs = B.McpClientConfigs;
export type AgentSession = B.AgentSession;
export type AgentCall = B.AgentCall;
export type ApprovalRequested = B.ApprovalRequested_Serialize;
export type ApprovalSettled = B.ApprovalSettled;
export type RolloutApprovalRequested = B.RolloutApprovalRequested_Serialize;
// Profiles (Settings and the first-run screen). The subscription key only goes in.
export type ProfileSummary = B.ProfileSummary_Serialize;
export type ProfileList = B.ProfileList_Serialize;
export type ProfileInput = B.ProfileInput_Deserialize;

// Rollouts and the agents' envelope.
export type RolloutPlan = B.RolloutPlan_Deserialize;
export type RolloutPlanAnswer = B.RolloutPlanAnswer_Serialize;
export type RolloutPreview = B.RolloutPreview_Serialize;
export type RolloutRecord = B.RolloutRecord_Serialize;
export type RolloutStatus = B.RolloutStatus_Serialize;
export type RolloutEvent = B.RolloutEvent_Serialize;
export type RolloutAction = B.RolloutAction;
export type RolloutStepAnswer = B.RolloutStepAnswer_Serialize;
export type RolloutChanged = B.RolloutChanged;
export type AgentPolicy = B.AgentPolicy_Serialize;
export type AgentPolicyInput = B.AgentPolicy_Deserialize;

/**
 * A command's failure as thrown by this facade: `code` to switch on, `problems` field by field
 * for bad input (field names as rmm-core gives them: `device_ids`, `device_ids[2]`,
 * `firmware_file_id`, `transfer_datetime`, `execute_datetime`, `timezone`, `ota_mode`,
 * `start_hour`, `end_hour`, `group_id`), and with `preview_changed` the new preview.
 */
export class BackendError extends Error {
  readonly code: CommandError["code"];
  readonly problems: Problem[];
  readonly preview: ChangePreview | null;
  constructor(error: CommandError) {
    super(error.message);
    this.code = error.code;
    this.problems = error.problems ?? [];
    this.preview = error.preview ?? null;
  }
}

function unwrap<T>(result: { status: "ok"; data: T } | { status: "error"; error: CommandError }): T {
  if (result.status === "error") throw new BackendError(result.error);
  return result.data;
}

/** Asks the app who it is and whether the demo simulator runs. */
export function appInfo(): Promise<AppInfo> {
  return commands.appInfo();
}

/** Who is signed in now. */
export function sessionStatus(): Promise<SessionInfo> {
  return commands.sessionStatus();
}

/** Opens the login window; `silent` refreshes without showing it. */
export async function signIn(silent = false): Promise<SessionInfo> {
  return unwrap(await commands.signIn(silent));
}

/**
 * Signs in through a visible Chromium instead of the login window, for identity providers that
 * refuse embedded webviews (rmm-auth types the profile's user name and saved password). Runs in
 * the background: `sessionStatus` tells when it is done.
 */
export async function signInWithChromium(): Promise<SessionInfo> {
  return unwrap(await commands.signInWithChromium());
}

/** Forgets the token. */
export async function signOut(): Promise<SessionInfo> {
  return unwrap(await commands.signOut());
}

/**
 * Loads every device of the group (the token's tenant when `groupId` is null) and the fleet
 * summary of the same fetch. Progress arrives through `onFleetProgress` while it runs.
 */
export async function loadFleet(groupId: string | null = null): Promise<FleetSnapshot> {
  return unwrap(await commands.loadFleet(groupId));
}

/** Reads these devices again (after a change); devices no longer found are left out. */
export async function refreshDevices(deviceIds: string[], groupId: string | null = null): Promise<DeviceView[]> {
  return unwrap(await commands.refreshDevices(deviceIds, groupId));
}

/** The tenants the signed-in user may manage, with their names. */
export async function tenants(): Promise<TenantView[]> {
  return unwrap(await commands.tenants());
}

/** The staged firmware files and the models each fits. */
export async function firmwareFiles(groupId: string | null = null): Promise<FirmwareListing> {
  return unwrap(await commands.firmwareFiles(groupId));
}

/** Validates and previews a change; nothing is changed. Bad input throws with `problems`. */
export async function previewChange(request: ChangeRequest): Promise<ChangePreview> {
  return unwrap(await commands.previewChange(request));
}

/**
 * Carries out a change whose preview (with this digest) the user confirmed. If the devices
 * changed meanwhile it throws `preview_changed` with the new preview and changes nothing.
 */
export async function applyChange(request: ChangeRequest, digest: string): Promise<ChangeResult> {
  return unwrap(await commands.applyChange(request, digest));
}

/** Audit log entries, newest first. `caller` matches "you", a kind or an agent's name. */
export async function auditEntries(query: AuditQuery): Promise<AuditEntry[]> {
  return unwrap(await commands.auditEntries(query));
}

/** The app's MCP endpoint: on/off, address, read-only, connected agents and their calls. */
export async function mcpStatus(): Promise<McpStatus> {
  return unwrap(await commands.mcpStatus());
}

/** Turns the endpoint on or off, or changes its port or read-only switch. */
export async function mcpConfigure(settings: McpSettings): Promise<McpStatus> {
  return unwrap(await commands.mcpConfigure(settings));
}

/** The endpoint secret and ready-to-paste client configurations (JSON text each). */
export async function mcpClientConfigs(): Promise<McpClientConfigs> {
  return unwrap(await commands.mcpClientConfigs());
}

/** The user's answer to an agent's change request shown in the approval dialog. */
export async function answerApproval(approvalId: string, approve: boolean): Promise<void> {
  unwrap(await commands.answerApproval(approvalId, approve));
}

/** Saves CSV text as a new file in the Downloads folder; returns its path. */
export async function saveCsv(fileName: string, contents: string): Promise<string> {
  return unwrap(await commands.saveCsv(fileName, contents));
}

/** A desktop notification through the OS; false when the OS shows none. */
export async function notifyPerson(title: string, body: string): Promise<boolean> {
  return unwrap(await commands.notifyPerson(title, body));
}

/** The profiles (shared with the `rmm` command line) and the one in use. */
export async function listProfiles(): Promise<ProfileList> {
  return unwrap(await commands.listProfiles());
}

/**
 * Saves a profile; the subscription key goes to the OS keyring (null or empty keeps the stored
 * one). Bad fields throw `bad_input` with `problems` (`name`, `login_url`, `api_base_url`,
 * `subscription_key`, `time_zone`, `chromium_path`) and nothing is saved. `switched` tells
 * whether the app now uses this profile.
 */
export async function saveProfile(profile: ProfileInput): Promise<ProfileList> {
  return unwrap(await commands.saveProfile(profile));
}

/** Switches the app to the profile called `name` (remembered for the next start). */
export async function useProfile(name: string): Promise<SessionInfo> {
  return unwrap(await commands.useProfile(name));
}

/** Starts the built-in simulator and switches the app to it, as `--demo` does. */
export async function startDemo(): Promise<SessionInfo> {
  return unwrap(await commands.startDemo());
}

/** The preview of a rollout plan (nothing changes) and where it stands against the agents' envelope. */
export async function planRollout(plan: RolloutPlan): Promise<RolloutPlanAnswer> {
  return unwrap(await commands.planRollout(plan));
}

/** Starts a plan whose preview had this digest; throws `preview_changed` if the fleet moved. */
export async function startRollout(plan: RolloutPlan, digest: string): Promise<number> {
  return unwrap(await commands.startRollout(plan, digest));
}

/** Every rollout, newest first. */
export async function listRollouts(): Promise<RolloutRecord[]> {
  return unwrap(await commands.listRollouts());
}

/** Where a rollout is: waves, counts per state, gates, who drives it. */
export async function rolloutStatus(rolloutId: number): Promise<RolloutStatus> {
  return unwrap(await commands.rolloutStatus(rolloutId));
}

/** A rollout's newest `limit` events, oldest first. */
export async function rolloutHistory(rolloutId: number, limit: number): Promise<RolloutEvent[]> {
  return unwrap(await commands.rolloutHistory(rolloutId, limit));
}

/** Pause, resume, promote, abort or retry failed devices, as the signed-in person. */
export async function rolloutAction(rolloutId: number, action: RolloutAction): Promise<RolloutStepAnswer> {
  return unwrap(await commands.rolloutAction(rolloutId, action));
}

/** The agents' envelope of the profile in use. */
export async function agentPolicy(): Promise<AgentPolicy> {
  return unwrap(await commands.agentPolicy());
}

/** Saves the agents' envelope; bad fields throw `bad_input` with every problem. */
export async function setAgentPolicy(policy: AgentPolicyInput): Promise<AgentPolicy> {
  return unwrap(await commands.setAgentPolicy(policy));
}

/** Marks a staged file qualified (or not) for a model: agents may roll it out alone. */
export async function qualifyFirmware(model: string, fileId: string, qualified: boolean): Promise<AgentPolicy> {
  return unwrap(await commands.qualifyFirmware(model, fileId, qualified));
}

/** The kill switch: agents take no rollout step; every rollout an agent started is paused. */
export async function stopAgents(): Promise<number[]> {
  return unwrap(await commands.stopAgents());
}

/** Calls `cb` when a rollout moved on (state, wave, reason). */
export function onRolloutChanged(cb: (c: RolloutChanged) => void): Promise<Unlisten> {
  return events.rolloutChanged.listen((e) => cb(e.payload));
}

/** Unsubscribes a listener. */
export type Unlisten = () => void;

/** Calls `cb` for each page loaded by `loadFleet`. */
export function onFleetProgress(cb: (p: FleetProgress) => void): Promise<Unlisten> {
  return events.fleetProgress.listen((e) => cb(e.payload));
}

/** Calls `cb` when an agent asks for a change that needs the user's approval. */
export function onApprovalRequested(cb: (a: ApprovalRequested) => void): Promise<Unlisten> {
  return events.approvalRequested.listen((e) => cb(e.payload));
}

/** Calls `cb` when an agent asks to start a rollout (the person approves it like a change). */
export function onRolloutApprovalRequested(cb: (a: RolloutApprovalRequested) => void): Promise<Unlisten> {
  return events.rolloutApprovalRequested.listen((e) => cb(e.payload));
}

/** Calls `cb` when an approval was answered or withdrawn (the agent went away, timed out). */
export function onApprovalSettled(cb: (a: ApprovalSettled) => void): Promise<Unlisten> {
  return events.approvalSettled.listen((e) => cb(e.payload));
}

/** Calls `cb` whenever the connected agents or their calls change. */
export function onMcpActivity(cb: (agents: AgentSession[]) => void): Promise<Unlisten> {
  return events.mcpActivity.listen((e) => cb(e.payload.agents));
}
