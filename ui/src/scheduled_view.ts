// The Scheduled tab: devices with a firmware update reserved or under way, their file and
// times (in the user's time zone, and the reservation's own), and the progress. While open it
// reads those devices again every 10 s and tells when one completes or fails.
import { refreshDevices, type DeviceView } from "./backend";
import { el } from "./dom";
import type { ErrorBanner } from "./error_banner";
import type { FleetStore } from "./fleet_store";
import { formatInstant } from "./time_zone";
import { desktopNotify, type Toasts } from "./toasts";

export const POLL_MS = 10_000;
const UNDER_WAY = new Set(["reserved", "downloading", "downloaded", "updating"]);
const FINISHED = new Set(["completed", "failed"]);

/** Whether `d` has a reservation or an update under way. */
export function hasReservation(d: DeviceView): boolean {
  return (
    (d.reservation !== null && d.reservation !== undefined) ||
    (d.reserved_file_id !== null && d.reserved_file_id !== undefined && d.reserved_file_id !== "") ||
    UNDER_WAY.has(d.update_status)
  );
}

export interface Finished {
  device: DeviceView;
  status: "completed" | "failed";
}

/** The devices whose status turned to completed or failed since `shown` (id → status shown). */
export function finishedTransitions(shown: ReadonlyMap<string, string>, fresh: DeviceView[]): Finished[] {
  const out: Finished[] = [];
  for (const d of fresh) {
    const before = shown.get(d.device_id);
    if (before === undefined || before === d.update_status || FINISHED.has(before)) continue;
    if (d.update_status === "completed" || d.update_status === "failed") out.push({ device: d, status: d.update_status });
  }
  return out;
}

function timeCell(ms: number | null | undefined, fallback: string): string {
  return ms === null || ms === undefined || ms === 0 ? fallback : formatInstant(ms);
}

function row(d: DeviceView): HTMLTableRowElement {
  const r = d.reservation;
  const tr = el("tr", "scheduled-device", undefined, FINISHED.has(d.update_status) ? `status-${d.update_status}` : "");
  tr.dataset.deviceId = d.device_id;
  tr.append(
    el("td", undefined, d.name || d.serial),
    el("td", undefined, d.model),
    el("td", "scheduled-file", d.reserved_file_id ?? ""),
    el("td", "scheduled-transfer", timeCell(r?.transfer_ms, "")),
    el("td", "scheduled-execute", timeCell(r?.execute_ms, r?.execute_local ?? "")),
    el("td", "scheduled-zone", r?.time_zone ?? ""),
    el("td", "scheduled-status", d.update_status),
  );
  return tr;
}

export interface ScheduledView {
  readonly root: HTMLElement;
  onShow(): void;
  onHide(): void;
  /** One round of reading the devices again (what the timer runs). */
  poll(): Promise<void>;
}

export function createScheduledView(deps: { store: FleetStore; banner: ErrorBanner; toasts: Toasts }): ScheduledView {
  const { store, banner, toasts } = deps;
  const root = el("section", "scheduled-view", undefined, "view");
  const status = el("p", "scheduled-status-line", "", "muted");
  const table = el("table", "scheduled-list", undefined, "list-table");
  const head = el("tr");
  for (const h of ["Name", "Model", "File", "Transfer", "Install", "Reservation time zone", "Progress"]) {
    head.append(el("th", undefined, h));
  }
  const thead = el("thead");
  thead.append(head);
  const tbody = el("tbody");
  table.append(thead, tbody);
  root.append(el("h2", undefined, "Scheduled updates"), status, table);

  // Devices shown since the tab opened stay shown once finished, so "completed" can be seen.
  let watched = new Set<string>();
  const shown = new Map<string, string>();
  let timer: ReturnType<typeof setInterval> | null = null;
  let polling = false;

  function draw() {
    for (const d of store.devices()) if (hasReservation(d)) watched.add(d.device_id);
    const list = [...watched].flatMap((id) => {
      const d = store.device(id);
      return d ? [d] : [];
    });
    shown.clear();
    for (const d of list) shown.set(d.device_id, d.update_status);
    tbody.replaceChildren(...list.map(row));
    status.textContent = !store.loaded
      ? "The fleet is not loaded yet."
      : list.length === 0
        ? "No updates are scheduled."
        : `${list.length} devices`;
  }

  async function poll() {
    // Finished devices stay listed but are not read again: nothing more happens to them.
    const ids = [...watched].filter((id) => !FINISHED.has(shown.get(id) ?? ""));
    if (polling || ids.length === 0) return;
    polling = true;
    const before = new Map(shown);
    try {
      const fresh = await refreshDevices(ids);
      for (const f of finishedTransitions(before, fresh)) {
        const name = f.device.name || f.device.serial;
        const text = `${name}: firmware update ${f.status}`;
        toasts.toast(text, f.status === "completed" ? "ok" : "error");
        desktopNotify("MCP-RMM", text);
      }
      // The store tells the grid and redraws this list (subscription below).
      store.updateDevices(fresh);
    } catch (err) {
      banner.report(err);
    } finally {
      polling = false;
    }
  }

  store.subscribe(() => {
    if (timer !== null) draw();
  });

  return {
    root,
    poll,
    onShow() {
      watched = new Set();
      draw();
      timer = setInterval(() => void poll(), POLL_MS);
    },
    onHide() {
      if (timer !== null) clearInterval(timer);
      timer = null;
    },
  };
}
