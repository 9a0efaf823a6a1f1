// A smoke test of the whole window with the facade mocked: the entry point builds the nav
// tabs, loads the fleet once signed in, and opens the approval dialog on an agent's request.
import { describe, expect, it, vi } from "vitest";
import type { ApprovalRequested, SessionInfo } from "./backend";
import { byTestId, preview, settle } from "./test_fixtures";

// vi.mock's factory is hoisted above the imports: what it uses must be hoisted too.
const { listeners, session, fleetDevice } = vi.hoisted(() => {
  const listeners: { approval?: (a: ApprovalRequested) => void } = {};
  const session: SessionInfo = {
    profile: "demo",
    signedIn: true,
    user: "fleet.admin@example.com",
    tenant: "g1",
    expiresAt: null,
    signingIn: false,
    lastError: null,
  };
  const fleetDevice = {
    device_id: "d1",
    model: "MX-3071",
    serial: "SN1",
    name: "Printer 1",
    firmware: "0500",
    latest: "0600",
    needs_update: true,
    update_status: "none",
    ota_mode: "auto",
    connection: "online",
  };
  return { listeners, session, fleetDevice };
});

vi.mock("./backend", async (importOriginal) => {
  const unlisten = () => Promise.resolve(() => undefined);
  const d = fleetDevice;
  return {
    ...(await importOriginal<typeof import("./backend")>()),
    appInfo: vi.fn(() => Promise.resolve({ name: "MCP-RMM", version: "0.1.0", demo: null, logDir: null })),
    sessionStatus: vi.fn(() => Promise.resolve(session)),
    loadFleet: vi.fn(() =>
      Promise.resolve({
        listing: { group_id: "g1", total_devices: 1, start_index: 0, returned: 1, needing_update: 1, devices: [d] },
        summary: { group_id: "g1", total_devices: 1, needs_update: 1, offline: 0, by_model: [{ value: "MX-3071", devices: 1 }], by_firmware: [], by_update_status: [], by_ota_mode: [] },
      }),
    ),
    auditEntries: vi.fn(() => Promise.resolve([])),
    mcpStatus: vi.fn(() => new Promise(() => undefined)),
    onFleetProgress: vi.fn(unlisten),
    onApprovalSettled: vi.fn(unlisten),
    onMcpActivity: vi.fn(unlisten),
    onApprovalRequested: vi.fn((cb: (a: ApprovalRequested) => void) => {
      listeners.approval = cb;
      return Promise.resolve(() => undefined);
    }),
  };
});

describe("the main window", () => {
  it("has the tabs, loads the fleet when signed in, shows agents' approval requests", async () => {
    document.body.innerHTML = `<header id="session"></header><nav id="nav"></nav><div id="banners"></div><main id="app"></main><footer id="about"></footer><div id="toasts"></div>`;
    await import("./main");
    await settle();
    for (const tab of ["fleet", "firmware", "scheduled", "activity", "agents"]) {
      expect(byTestId(document, `nav-${tab}`)).not.toBeNull();
    }
    expect(byTestId(document, "fleet-view")?.closest<HTMLElement>("[role=tabpanel]")?.hidden).toBe(false);
    expect(byTestId(document, "fleet-count")?.textContent).toBe("1 device, 1 needs an update");
    expect(byTestId(document, "app-version")?.textContent).toBe("MCP-RMM 0.1.0");
    expect(byTestId(document, "demo-status")).not.toBeNull();

    byTestId(document, "nav-activity")?.click();
    expect(byTestId(document, "activity-view")?.closest<HTMLElement>("[role=tabpanel]")?.hidden).toBe(false);
    expect(byTestId(document, "fleet-view")?.closest<HTMLElement>("[role=tabpanel]")?.hidden).toBe(true);

    listeners.approval?.({ id: "ap1", client: "Cursor", preview: preview(["d1"]) });
    expect(byTestId(document, "approval-dialog")).not.toBeNull();
  });
});
