// The placeholder home page: shows the app's name and version, and whether the demo simulator
// runs and where. A later issue replaces it with the fleet view.
import { appInfo, type AppInfo } from "./backend";

/** Puts the home page into `root`: a loading line first, then the app's facts or an error. */
export async function renderHome(root: HTMLElement): Promise<void> {
  root.replaceChildren(heading(), line("app-status", "Starting…"));
  try {
    const info = await appInfo();
    root.replaceChildren(heading(), ...describe(info));
  } catch (err) {
    root.replaceChildren(
      heading(),
      line("app-error", `Could not reach the app's back end: ${errorText(err)}`, "error"),
    );
  }
}

function describe(info: AppInfo): HTMLElement[] {
  const parts = [line("app-version", `${info.name} ${info.version}`)];
  if (info.demo) {
    const sim = info.demo;
    parts.push(
      line(
        "demo-status",
        `Demo simulator running at ${sim.apiBaseUrl} (${sim.devices} simulated printers)`,
        "ok",
      ),
      facts("demo-details", [
        ["Dashboard", sim.dashboardUrl],
        ["Login", sim.loginUrl],
        ["API", sim.apiBaseUrl],
        ["Group", sim.groupId],
        ["User", sim.username],
      ]),
    );
  } else {
    parts.push(line("demo-status", "Not in demo mode: no simulator is running."));
  }
  if (info.logDir) {
    parts.push(line("log-dir", `Logs: ${info.logDir}`, "muted"));
  }
  return parts;
}

function heading(): HTMLElement {
  const h1 = document.createElement("h1");
  h1.dataset.testid = "app-title";
  h1.textContent = "MCP-RMM";
  return h1;
}

function line(testid: string, text: string, kind?: "ok" | "error" | "muted"): HTMLElement {
  const p = document.createElement("p");
  p.dataset.testid = testid;
  p.textContent = text;
  if (kind) p.className = kind;
  if (kind === "error") p.setAttribute("role", "alert");
  return p;
}

function facts(testid: string, rows: [string, string][]): HTMLElement {
  const dl = document.createElement("dl");
  dl.dataset.testid = testid;
  for (const [name, value] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = value;
    dl.append(dt, dd);
  }
  return dl;
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === "string") return err;
  return JSON.stringify(err);
}
