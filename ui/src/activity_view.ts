// The Activity tab: the audit log of changes (who asked, what, on how many devices, whether it
// worked), filtered by time, device and who asked.
import { auditEntries, type AuditEntry, type AuditQuery, type Caller } from "./backend";
import { button, el, labelled } from "./dom";
import type { ErrorBanner } from "./error_banner";
import { formatInstant } from "./time_zone";

export const SINCE_CHOICES = [
  ["hour", "Last hour", 3600_000],
  ["day", "Last 24 hours", 24 * 3600_000],
  ["week", "Last 7 days", 7 * 24 * 3600_000],
  ["all", "All", null],
] as const;

export type SinceChoice = (typeof SINCE_CHOICES)[number][0];

export function sinceMs(choice: string, nowMs: number): number | null {
  const c = SINCE_CHOICES.find(([id]) => id === choice);
  return c && c[2] !== null ? nowMs - c[2] : null;
}

/** Who asked, as the list shows it: "you", a CLI user, or the agent's (MCP client's) name. */
export function callerText(c: Caller): string {
  switch (c.kind) {
    case "person":
      return "you";
    case "cli_user":
      return `${c.user} (CLI)`;
    case "mcp_client":
      return c.name;
    case "rollout":
      return `rollout ${c.rollout_id} "${c.rollout}" (for ${c.started_by})`;
  }
}

/** "you" asks for the person's own changes (kind `person`); anything else is sent as typed. */
export function callerFilter(text: string): string | null {
  const t = text.trim();
  if (t === "") return null;
  return t.toLowerCase() === "you" ? "person" : t;
}

export function activityQuery(choice: string, device: string, caller: string, nowMs: number): AuditQuery {
  return {
    since_ms: sinceMs(choice, nowMs),
    until_ms: null,
    device_id: device.trim() === "" ? null : device.trim(),
    caller: callerFilter(caller),
    limit: 200,
  };
}

const ACTION_NAMES: Record<string, string> = {
  schedule_firmware_update: "Schedule update",
  cancel_scheduled_update: "Cancel reservations",
  configure_ota_mode: "Configure OTA",
  api_request: "API request",
};

/** The action in words; unknown actions as rmm-core names them. */
export function actionText(action: string): string {
  return ACTION_NAMES[action] ?? action;
}

function row(e: AuditEntry): HTMLTableRowElement {
  const tr = el("tr", "activity-entry", undefined, e.succeeded ? "" : "failed");
  tr.dataset.auditId = String(e.id);
  const who = el("td", "activity-who", callerText(e.caller));
  // Who asked, and the signed-in account the change was made with.
  const account = e.account ?? null;
  who.title = [e.caller.kind === "person" ? e.caller.name : null, account ? `as ${account}` : null]
    .filter((t) => t !== null)
    .join(" ");
  if (account) who.append(el("span", "activity-account", ` as ${account}`, "muted"));
  // The tenant by the name the cloud gave it (its id on hover), when it gave one.
  const action = el("td", "activity-action", actionText(e.action));
  action.title = `group ${e.group_id}`;
  if (e.group_name) action.append(el("span", "activity-group", ` in ${e.group_name}`, "muted"));
  tr.append(
    el("td", undefined, formatInstant(e.at_ms)),
    who,
    action,
    el("td", "activity-devices", String(e.device_ids.length)),
    el("td", "activity-result", e.succeeded ? "succeeded" : "failed"),
  );
  return tr;
}

export interface ActivityView {
  readonly root: HTMLElement;
  refresh(): Promise<void>;
  /** Agent names to offer in the "who asked" field. */
  setAgentNames(names: string[]): void;
}

export function createActivityView(banner: ErrorBanner, now: () => number = Date.now): ActivityView {
  const root = el("section", "activity-view", undefined, "view");
  const since = el("select", "activity-since");
  for (const [id, label] of SINCE_CHOICES) {
    const o = el("option", undefined, label);
    o.value = id;
    since.append(o);
  }
  since.value = "day";
  const deviceInput = el("input", "activity-device");
  deviceInput.type = "search";
  deviceInput.placeholder = "device id";
  const caller = el("input", "activity-caller");
  caller.type = "search";
  caller.placeholder = "you, or an agent's name";
  const callers = el("datalist");
  callers.id = "activity-callers";
  caller.setAttribute("list", callers.id);
  const refreshButton = button("activity-refresh", "Refresh", () => void refresh());
  const filters = el("div", "activity-filters", undefined, "toolbar");
  filters.append(
    labelled("Since", since),
    labelled("Device", deviceInput),
    labelled("Who asked", caller),
    callers,
    refreshButton,
  );
  since.addEventListener("change", () => void refresh());
  deviceInput.addEventListener("change", () => void refresh());
  caller.addEventListener("change", () => void refresh());

  const status = el("p", "activity-status", "", "muted");
  const table = el("table", "activity-list", undefined, "list-table");
  const head = el("tr");
  for (const h of ["Time", "Who", "Action", "Devices", "Result"]) head.append(el("th", undefined, h));
  const thead = el("thead");
  thead.append(head);
  const tbody = el("tbody");
  table.append(thead, tbody);
  root.append(el("h2", undefined, "Activity"), filters, status, table);

  let seq = 0;
  async function refresh() {
    const mine = ++seq;
    try {
      const entries = await auditEntries(activityQuery(since.value, deviceInput.value, caller.value, now()));
      if (mine !== seq) return; // a newer query answered meanwhile
      tbody.replaceChildren(...entries.map(row));
      status.textContent = entries.length === 0 ? "Nothing recorded for these filters." : "";
    } catch (err) {
      if (mine === seq) banner.report(err, () => void refresh());
    }
  }

  function setAgentNames(names: string[]) {
    const options = ["you", ...new Set(names)].map((n) => {
      const o = el("option");
      o.value = n;
      return o;
    });
    callers.replaceChildren(...options);
  }
  setAgentNames([]);

  return { root, refresh, setAgentNames };
}
