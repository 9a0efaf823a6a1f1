// Tests of the smaller views with the facade mocked: Scheduled (finished-update detection,
// polling, toasts), Activity (query and rows), Agents (settings, configs, secret, agents),
// Firmware (sizes), the error banner and the tabs.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  auditEntries,
  firmwareFiles,
  mcpClientConfigs,
  mcpConfigure,
  mcpStatus,
  refreshDevices,
  signIn,
  type AuditEntry,
  type McpStatus,
} from "./backend";
import { activityQuery, callerText, createActivityView } from "./activity_view";
import { createAgentsView, MASK } from "./agents_view";
import { createErrorBanner, type ErrorBanner } from "./error_banner";
import { createFirmwareView, sizeText } from "./firmware_view";
import { FleetStore } from "./fleet_store";
import { createScheduledView, finishedTransitions, hasReservation, POLL_MS } from "./scheduled_view";
import { createTabs } from "./tabs";
import { allByTestId, backendError, byTestId, device, settle } from "./test_fixtures";
import type { Toasts } from "./toasts";

vi.mock("./backend", async (importOriginal) => ({
  ...(await importOriginal<typeof import("./backend")>()),
  refreshDevices: vi.fn(),
  auditEntries: vi.fn(),
  firmwareFiles: vi.fn(),
  mcpStatus: vi.fn(),
  mcpConfigure: vi.fn(),
  mcpClientConfigs: vi.fn(),
  signIn: vi.fn(),
}));

const reports: unknown[] = [];
const banner: ErrorBanner = { report: (e) => reports.push(e), clear: () => undefined };
const toasted: string[] = [];
const toasts: Toasts = { toast: (t) => toasted.push(t) };

beforeEach(() => {
  document.body.innerHTML = "";
  reports.length = 0;
  toasted.length = 0;
  vi.clearAllMocks();
});

afterEach(() => {
  vi.useRealTimers();
});

function snapshotOf(devices: ReturnType<typeof device>[]) {
  return {
    listing: { group_id: "g", total_devices: devices.length, start_index: 0, returned: devices.length, needing_update: 0, devices },
    summary: { group_id: "g", total_devices: devices.length, needs_update: 0, offline: 0, by_model: [], by_firmware: [], by_update_status: [], by_ota_mode: [] },
  };
}

describe("scheduled updates", () => {
  it("knows which devices have a reservation", () => {
    expect(hasReservation(device("a"))).toBe(false);
    expect(hasReservation(device("a", { update_status: "downloading" }))).toBe(true);
    expect(hasReservation(device("a", { reserved_file_id: "f1" }))).toBe(true);
    expect(hasReservation(device("a", { reservation: { execute_local: "202601010300", time_zone: "UTC+01:00" } }))).toBe(true);
  });

  it("detects a turn to completed or failed, only once and only from another status", () => {
    const shown = new Map([
      ["a", "updating"],
      ["b", "downloading"],
      ["c", "completed"],
      ["d", "reserved"],
    ]);
    const fresh = [
      device("a", { update_status: "completed" }),
      device("b", { update_status: "failed" }),
      device("c", { update_status: "completed" }),
      device("d", { update_status: "downloading" }),
      device("e", { update_status: "completed" }),
    ];
    expect(finishedTransitions(shown, fresh).map((f) => [f.device.device_id, f.status])).toEqual([
      ["a", "completed"],
      ["b", "failed"],
    ]);
  });

  it("polls every 10 s while open, toasts finished updates, stops when closed", async () => {
    vi.useFakeTimers();
    const store = new FleetStore();
    store.setSnapshot(
      snapshotOf([
        device("a", {
          update_status: "updating",
          reserved_file_id: "f1",
          reservation: { transfer_ms: Date.UTC(2026, 0, 1), execute_ms: Date.UTC(2026, 0, 2), execute_local: "202601020100", time_zone: "UTC+01:00" },
        }),
        device("b"),
        device("c", { update_status: "downloading" }),
      ]),
    );
    const view = createScheduledView({ store, banner, toasts });
    document.body.append(view.root);
    view.onShow();
    const rows = allByTestId(document, "scheduled-device");
    expect(rows.map((r) => r.dataset.deviceId)).toEqual(["a", "c"]);
    expect(byTestId(document, "scheduled-zone")?.textContent).toBe("UTC+01:00");
    expect(byTestId(document, "scheduled-file")?.textContent).toBe("f1");
    expect(byTestId(document, "scheduled-transfer")?.textContent).toMatch(/2026|2025/);

    vi.mocked(refreshDevices).mockResolvedValueOnce([
      device("a", { update_status: "completed" }),
      device("c", { update_status: "downloading" }),
    ]);
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(refreshDevices).toHaveBeenCalledWith(["a", "c"]);
    expect(toasted).toEqual(["Printer a: firmware update completed"]);
    // Still listed, now completed, not announced twice, and no longer read.
    expect(byTestId(document, "scheduled-status")?.textContent).toBe("completed");
    vi.mocked(refreshDevices).mockResolvedValueOnce([device("c", { update_status: "failed" })]);
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(refreshDevices).toHaveBeenLastCalledWith(["c"]);
    expect(toasted).toEqual(["Printer a: firmware update completed", "Printer c: firmware update failed"]);

    view.onHide();
    await vi.advanceTimersByTimeAsync(3 * POLL_MS);
    expect(refreshDevices).toHaveBeenCalledTimes(2);
  });
});

describe("activity", () => {
  const entry: AuditEntry = {
    id: 7,
    at_ms: Date.UTC(2026, 0, 1, 10),
    caller: { kind: "mcp_client", name: "Claude Desktop", session: "s1" },
    action: "schedule_firmware_update",
    group_id: "g",
    group_name: "Head office",
    device_ids: ["a", "b"],
    request: null,
    preview: null,
    answer: null,
    succeeded: false,
    account: "fleet.admin@example.com",
  };

  it("builds the query from the filters", () => {
    expect(activityQuery("hour", " dev-1 ", "you", 10_000_000)).toEqual({
      since_ms: 10_000_000 - 3600_000,
      until_ms: null,
      device_id: "dev-1",
      caller: "person",
      limit: 200,
    });
    expect(activityQuery("all", "", "Claude", 0)).toMatchObject({ since_ms: null, device_id: null, caller: "Claude" });
  });

  it("names who asked", () => {
    expect(callerText({ kind: "person", name: "fleet.admin@example.com" })).toBe("you");
    expect(callerText({ kind: "cli_user", user: "ops" })).toBe("ops (CLI)");
    expect(callerText({ kind: "mcp_client", name: "Cursor", session: "x" })).toBe("Cursor");
    expect(callerText({ kind: "rollout", rollout_id: 3, rollout: "Q4", started_by: "cli_user ops" })).toBe(
      'rollout 3 "Q4" (for cli_user ops)',
    );
  });

  it("lists the entries and asks again when a filter changes", async () => {
    vi.mocked(auditEntries).mockResolvedValue([entry]);
    const view = createActivityView(banner, () => 50_000_000_000);
    document.body.append(view.root);
    await view.refresh();
    const rows = allByTestId(document, "activity-entry");
    expect(rows).toHaveLength(1);
    // Who asked, and the account the change was made with.
    expect(byTestId(document, "activity-who")?.textContent).toBe("Claude Desktop as fleet.admin@example.com");
    expect(byTestId(document, "activity-who")?.title).toBe("as fleet.admin@example.com");
    expect(byTestId(document, "activity-devices")?.textContent).toBe("2");
    // The tenant by its name; its id on hover.
    expect(byTestId(document, "activity-action")?.textContent).toBe("Schedule update in Head office");
    expect(byTestId(document, "activity-action")?.title).toBe("group g");
    expect(byTestId(document, "activity-result")?.textContent).toBe("failed");

    const since = byTestId<HTMLSelectElement>(document, "activity-since");
    if (since) since.value = "week";
    since?.dispatchEvent(new Event("change"));
    await settle();
    expect(vi.mocked(auditEntries).mock.calls[1]?.[0].since_ms).toBe(50_000_000_000 - 7 * 24 * 3600_000);
  });

  it("keeps the list when reading fails", async () => {
    vi.mocked(auditEntries).mockResolvedValueOnce([entry]).mockRejectedValueOnce(backendError({ code: "local" }));
    const view = createActivityView(banner);
    document.body.append(view.root);
    await view.refresh();
    await view.refresh();
    expect(allByTestId(document, "activity-entry")).toHaveLength(1);
    expect(reports).toHaveLength(1);
  });
});

describe("agents", () => {
  const status: McpStatus = {
    enabled: true,
    running: true,
    url: "http://127.0.0.1:7331/mcp",
    port: 7331,
    readOnly: false,
    socketPath: null,
    error: null,
    agents: [
      {
        session: "s1",
        client: "Claude Desktop",
        transport: "http",
        connectedAtMs: 1000,
        lastSeenMs: 2000,
        calls: [{ atMs: 1500, tool: "list_devices", ok: true, summary: "250 devices" }],
      },
    ],
  };

  it("shows the endpoint and applies new settings", async () => {
    vi.mocked(mcpStatus).mockResolvedValue(status);
    vi.mocked(mcpConfigure).mockResolvedValue({ ...status, enabled: false, running: false, url: null, error: "port in use" });
    const view = createAgentsView({ banner, toasts });
    document.body.append(view.root);
    await view.load();
    expect(byTestId<HTMLInputElement>(document, "mcp-enabled")?.checked).toBe(true);
    expect(byTestId<HTMLInputElement>(document, "mcp-port")?.value).toBe("7331");
    expect(byTestId(document, "mcp-url")?.textContent).toBe("http://127.0.0.1:7331/mcp");
    expect(byTestId(document, "mcp-error")?.hidden).toBe(true);
    expect(allByTestId(document, "agent-session")).toHaveLength(1);
    expect(byTestId(document, "agent-call-tool")?.textContent).toBe("list_devices");

    const port = byTestId<HTMLInputElement>(document, "mcp-port");
    if (port) port.value = "8000";
    const ro = byTestId<HTMLInputElement>(document, "mcp-read-only");
    if (ro) ro.checked = true;
    byTestId(document, "mcp-apply")?.click();
    await settle();
    expect(mcpConfigure).toHaveBeenCalledWith({ enabled: true, port: 8000, readOnly: true });
    expect(byTestId(document, "mcp-error")?.textContent).toBe("port in use");
    expect(byTestId(document, "mcp-error")?.hidden).toBe(false);
  });

  it("leaves the port empty when it is the profile's own, and sends none back", async () => {
    vi.mocked(mcpStatus).mockResolvedValue({ ...status, port: null, url: "http://127.0.0.1:40111/mcp" });
    vi.mocked(mcpConfigure).mockResolvedValue({ ...status, port: null });
    const view = createAgentsView({ banner, toasts });
    document.body.append(view.root);
    await view.load();
    const port = byTestId<HTMLInputElement>(document, "mcp-port");
    expect(port?.value).toBe("");
    expect(port?.placeholder).toBe("automatic");
    expect(byTestId(document, "mcp-url")?.textContent).toBe("http://127.0.0.1:40111/mcp");
    byTestId(document, "mcp-apply")?.click();
    await settle();
    expect(mcpConfigure).toHaveBeenCalledWith({ enabled: true, port: null, readOnly: false });
  });

  it("masks the secret until shown, and copies it and the configurations", async () => {
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    vi.mocked(mcpClientConfigs).mockResolvedValue({ secret: "s3cret", claudeDesktop: '{"a":1}', cursor: '{"b":2}', vscode: '{"c":3}' });
    const view = createAgentsView({ banner, toasts });
    document.body.append(view.root);
    byTestId(document, "mcp-show-configs")?.click();
    await settle();
    expect(byTestId(document, "mcp-secret")?.textContent).toBe(MASK);
    byTestId(document, "mcp-show-secret")?.click();
    expect(byTestId(document, "mcp-secret")?.textContent).toBe("s3cret");
    expect(byTestId(document, "mcp-config-cursor")?.textContent).toBe('{"b":2}');
    byTestId(document, "mcp-copy-secret")?.click();
    byTestId(document, "mcp-config-vscode-copy")?.click();
    await settle();
    expect(writeText).toHaveBeenCalledWith("s3cret");
    expect(writeText).toHaveBeenCalledWith('{"c":3}');
  });

  it("updates the agent list from activity events", () => {
    const view = createAgentsView({ banner, toasts });
    document.body.append(view.root);
    expect(byTestId(document, "agent-none")?.hidden).toBe(false);
    view.showAgents(status.agents);
    expect(byTestId(document, "agent-client")?.textContent).toBe("Claude Desktop");
    expect(byTestId(document, "agent-none")?.hidden).toBe(true);
  });
});

describe("firmware", () => {
  it("writes sizes in MB or KB", () => {
    expect(sizeText(5 * 1024 * 1024 + 512 * 1024)).toBe("5.5 MB");
    expect(sizeText(640 * 1024)).toBe("640 KB");
    expect(sizeText(null)).toBe("");
  });

  it("lists the staged files and the models each fits", async () => {
    vi.mocked(firmwareFiles).mockResolvedValue({
      group_id: "g",
      total_files: 1,
      files: [{ file_id: "f1", title: "MX 0600", file_name: "mx.bin", size_bytes: 2048, uploaded_at: "2026-01-01", fits_models: ["MX-3071", "MX-4071"] }],
    });
    const view = createFirmwareView(banner);
    document.body.append(view.root);
    await view.load();
    expect(allByTestId(document, "firmware-file")).toHaveLength(1);
    expect(byTestId(document, "firmware-models")?.textContent).toBe("MX-3071, MX-4071");
    expect(byTestId(document, "firmware-size")?.textContent).toBe("2 KB");
  });
});

describe("error banner", () => {
  it("offers to sign in again when the sign-in expired", async () => {
    vi.mocked(signIn).mockResolvedValue({ profile: "p", signedIn: true, user: null, tenant: null, expiresAt: null, signingIn: false, lastError: null });
    const root = document.createElement("div");
    document.body.append(root);
    const b = createErrorBanner(root);
    b.report(backendError({ code: "sign_in_needed" }));
    expect(byTestId(root, "session-banner")?.hidden).toBe(false);
    expect(byTestId(root, "session-banner")?.textContent).toContain("Your sign-in has expired");
    byTestId(root, "session-banner-sign-in")?.click();
    await settle();
    expect(signIn).toHaveBeenCalledWith(false);
    expect(byTestId(root, "session-banner")?.hidden).toBe(true);
  });

  it("shows a cloud failure with Retry", () => {
    const root = document.createElement("div");
    const b = createErrorBanner(root);
    const retry = vi.fn();
    b.report(backendError({ code: "cloud_failed", message: "timed out" }), retry);
    expect(byTestId(root, "error-banner-message")?.textContent).toBe("timed out");
    byTestId(root, "error-retry")?.click();
    expect(retry).toHaveBeenCalledOnce();
    expect(byTestId(root, "error-banner")?.hidden).toBe(true);
  });
});

describe("tabs", () => {
  it("shows one panel at a time and tells views when they open and close", () => {
    const nav = document.createElement("nav");
    const main = document.createElement("main");
    document.body.append(nav, main);
    const shown: string[] = [];
    const panels = ["fleet", "activity"].map(() => document.createElement("section"));
    const tabs = createTabs(nav, main, [
      { id: "fleet", label: "Fleet", panel: panels[0]!, onHide: () => shown.push("-fleet") },
      { id: "activity", label: "Activity", panel: panels[1]!, onShow: () => shown.push("+activity") },
    ]);
    tabs.show("fleet");
    expect(panels[0]?.hidden).toBe(false);
    expect(panels[1]?.hidden).toBe(true);
    byTestId(nav, "nav-activity")?.click();
    expect(panels[0]?.hidden).toBe(true);
    expect(panels[1]?.hidden).toBe(false);
    expect(shown).toEqual(["-fleet", "+activity"]);
    expect(byTestId(nav, "nav-activity")?.getAttribute("aria-selected")).toBe("true");
    byTestId(nav, "nav-activity")?.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight" }));
    expect(tabs.current()).toBe("fleet");
  });
});
