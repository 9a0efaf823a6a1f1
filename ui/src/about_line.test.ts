// Tests of the About line with the back-end facade mocked.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { appInfo, type AppInfo } from "./backend";
import { renderAbout } from "./about_line";

vi.mock("./backend", () => ({ appInfo: vi.fn() }));

const mockedAppInfo = vi.mocked(appInfo);

function byTestId(root: HTMLElement, id: string): HTMLElement | null {
  return root.querySelector(`[data-testid="${id}"]`);
}

const demoInfo: AppInfo = {
  name: "MCP-RMM",
  version: "0.1.0",
  demo: {
    loginUrl: "http://127.0.0.1:40001/login",
    dashboardUrl: "http://127.0.0.1:40003/",
    apiBaseUrl: "http://127.0.0.1:40004",
    groupId: "0b5c2a7e-0000-4000-8000-000000000001",
    username: "fleet.admin@example.com",
    devices: 250,
  },
  logDir: "/home/someone/.local/share/com.mcp-rmm.app/logs",
};

describe("about line", () => {
  let root: HTMLElement;

  beforeEach(() => {
    mockedAppInfo.mockReset();
    document.body.innerHTML = "";
    root = document.createElement("main");
    document.body.append(root);
  });

  it("shows that the demo simulator runs and where", async () => {
    mockedAppInfo.mockResolvedValue(demoInfo);
    await renderAbout(root);

    expect(byTestId(root, "app-version")?.textContent).toBe("MCP-RMM 0.1.0");
    const status = byTestId(root, "demo-status")?.textContent ?? "";
    expect(status).toContain("Demo simulator running at http://127.0.0.1:40004");
    expect(status).toContain("250 simulated printers");
    const details = byTestId(root, "demo-details")?.textContent ?? "";
    expect(details).toContain("http://127.0.0.1:40003/");
    expect(details).toContain("fleet.admin@example.com");
    expect(byTestId(root, "app-error")).toBeNull();
  });

  it("says so when no simulator runs", async () => {
    mockedAppInfo.mockResolvedValue({ ...demoInfo, demo: null, logDir: null });
    await renderAbout(root);

    expect(byTestId(root, "demo-status")?.textContent).toContain("Not in demo mode");
    expect(byTestId(root, "demo-details")).toBeNull();
    expect(byTestId(root, "log-dir")).toBeNull();
  });

  it("shows an error when the back end cannot be reached", async () => {
    mockedAppInfo.mockRejectedValue(new Error("command app_info not found"));
    await renderAbout(root);

    const error = byTestId(root, "app-error");
    expect(error?.textContent).toContain("command app_info not found");
    expect(error?.getAttribute("role")).toBe("alert");
    expect(byTestId(root, "demo-status")).toBeNull();
  });

  it("shows a loading line until the back end answers", async () => {
    let answer: (info: AppInfo) => void = () => {};
    mockedAppInfo.mockReturnValue(new Promise((resolve) => (answer = resolve)));
    const done = renderAbout(root);

    expect(byTestId(root, "app-status")?.textContent).toBe("Starting…");
    answer(demoInfo);
    await done;
    expect(byTestId(root, "app-status")).toBeNull();
  });
});
