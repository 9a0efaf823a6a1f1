// The About line at the foot of the window (the app's title is in the nav bar): its version, and whether the demo
// simulator runs and where (the details fold away, they matter only when testing).
import { appInfo, type AppInfo } from "./backend";

/** Puts the About line into `root`: a loading line first, then the app's facts or an error. */
export async function renderAbout(root: HTMLElement): Promise<void> {
  root.replaceChildren(line("app-status", "Starting…"));
  try {
    const info = await appInfo();
    root.replaceChildren(...describe(info));
  } catch (err) {
    root.replaceChildren(
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
      folded("Demo details", facts("demo-details", [
        ["Dashboard", sim.dashboardUrl],
        ["Login", sim.loginUrl],
        ["API", sim.apiBaseUrl],
        ["Group", sim.groupId],
        ["User", sim.username],
      ])),
    );
  } else {
    parts.push(line("demo-status", "Not in demo mode: no simulator is running."));
  }
  if (info.logDir) {
    parts.push(line("log-dir", `Logs: ${info.logDir}`, "muted"));
  }
  return parts;
}

function folded(summary: string, body: HTMLElement): HTMLElement {
  const details = document.createElement("details");
  const s = document.createElement("summary");
  s.textContent = summary;
  details.append(s, body);
  return details;
}

function line(testid: string, text: string, kind?: "ok" | "error" | "muted"): HTMLElement {
  const p = document.createElement("span");
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
