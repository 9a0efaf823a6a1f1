// Tests of the first-run screen with the facade mocked: the demo starts through the facade,
// its failure is shown, and "Set up a real profile" hands over to Settings.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { startDemo, type SessionInfo } from "./backend";
import { createFirstRun } from "./first_run";
import { backendError, byTestId, settle } from "./test_fixtures";

vi.mock("./backend", async (importOriginal) => ({
  ...(await importOriginal<typeof import("./backend")>()),
  startDemo: vi.fn(),
}));

const demo: SessionInfo = {
  profile: "demo", signedIn: false, user: null, tenant: null, expiresAt: null, signingIn: false, lastError: null,
};

describe("the first-run screen", () => {
  beforeEach(() => {
    vi.mocked(startDemo).mockReset();
  });

  it("Try the demo starts the simulator and reports it", async () => {
    vi.mocked(startDemo).mockResolvedValue(demo);
    const started = vi.fn();
    const f = createFirstRun({ onDemoStarted: started, onSetUp: vi.fn() });
    f.show(true);
    expect(f.root.hidden).toBe(false);
    byTestId<HTMLButtonElement>(f.root, "first-run-demo")?.click();
    expect(byTestId<HTMLButtonElement>(f.root, "first-run-demo")?.disabled).toBe(true);
    expect(byTestId(f.root, "first-run-status")?.textContent).toContain("Starting");
    await settle();
    expect(vi.mocked(startDemo)).toHaveBeenCalledOnce();
    expect(started).toHaveBeenCalledWith(demo);
    expect(byTestId(f.root, "first-run-error")?.hidden).toBe(true);
  });

  it("a demo that does not start says why and can be tried again", async () => {
    const failure = backendError({ code: "local", message: "no free port" });
    vi.mocked(startDemo).mockImplementation(() => Promise.reject(failure));
    const started = vi.fn();
    const f = createFirstRun({ onDemoStarted: started, onSetUp: vi.fn() });
    byTestId(f.root, "first-run-demo")?.click();
    await settle();
    expect(started).not.toHaveBeenCalled();
    expect(byTestId(f.root, "first-run-error")?.textContent).toBe("The demo did not start: no free port");
    expect(byTestId<HTMLButtonElement>(f.root, "first-run-demo")?.disabled).toBe(false);
  });

  it("Set up a real profile hands over to Settings", () => {
    const setUp = vi.fn();
    const f = createFirstRun({ onDemoStarted: vi.fn(), onSetUp: setUp });
    byTestId(f.root, "first-run-setup")?.click();
    expect(setUp).toHaveBeenCalledOnce();
    expect(vi.mocked(startDemo)).not.toHaveBeenCalled();
  });
});
