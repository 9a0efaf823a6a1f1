// The whole window without a profile, with the facade mocked: the first-run screen takes the
// views' place; "Set up a real profile" opens the Settings form; once a profile is in use the
// views come back.
import { describe, expect, it, vi } from "vitest";
import type { SessionInfo } from "./backend";
import { byTestId, settle } from "./test_fixtures";

const { state } = vi.hoisted(() => {
  const state: { session: SessionInfo } = {
    session: { profile: null, signedIn: false, user: null, tenant: null, expiresAt: null, signingIn: false, lastError: null },
  };
  return { state };
});

vi.mock("./backend", async (importOriginal) => {
  const unlisten = () => Promise.resolve(() => undefined);
  return {
    ...(await importOriginal<typeof import("./backend")>()),
    appInfo: vi.fn(() => Promise.resolve({ name: "MCP-RMM", version: "0.1.0", demo: null, logDir: null })),
    sessionStatus: vi.fn(() => Promise.resolve(state.session)),
    listProfiles: vi.fn(() => Promise.resolve({ profiles: [], active: null, demoActive: false, switched: false })),
    startDemo: vi.fn(() => new Promise(() => undefined)),
    auditEntries: vi.fn(() => Promise.resolve([])),
    mcpStatus: vi.fn(() => new Promise(() => undefined)),
    onFleetProgress: vi.fn(unlisten),
    onApprovalSettled: vi.fn(unlisten),
    onMcpActivity: vi.fn(unlisten),
    onApprovalRequested: vi.fn(unlisten),
  };
});

describe("the main window without a profile", () => {
  it("shows the first-run screen, then Settings, then the views once a profile is in use", async () => {
    vi.useFakeTimers({ toFake: ["setInterval"] });
    document.body.innerHTML = `<header id="session"></header><nav id="nav"></nav><div id="banners"></div><main id="app"></main><footer id="about"></footer><div id="toasts"></div>`;
    await import("./main");
    await settle();
    const firstRun = byTestId(document, "first-run");
    expect(firstRun?.hidden).toBe(false);
    expect(byTestId(document, "views")?.hidden).toBe(true);
    expect(byTestId(document, "nav-tabs")?.hidden).toBe(true);
    expect(byTestId(document, "session-user")?.textContent).toBe("No profile set up");

    byTestId(document, "first-run-setup")?.click();
    await settle();
    expect(firstRun?.hidden).toBe(true);
    expect(byTestId(document, "settings-view")?.closest<HTMLElement>("[role=tabpanel]")?.hidden).toBe(false);
    expect(byTestId(document, "profile-form")?.hidden).toBe(false);
    expect(byTestId(document, "profile-none")).not.toBeNull();

    // The first profile was saved: the app uses it, the views stay.
    state.session = { ...state.session, profile: "office" };
    vi.advanceTimersByTime(1000);
    await settle();
    expect(firstRun?.hidden).toBe(true);
    expect(byTestId(document, "views")?.hidden).toBe(false);
    expect(byTestId(document, "session-sign-in")).not.toBeNull();
    vi.useRealTimers();
  });
});
