// A device's story in one place: the side panel a row of the fleet grid opens (by click, or
// Enter on the row). Its details, its reservation and update progress, the audit entries that
// touched it (who changed what, when), and the actions for this one device. Escape or Close
// shuts it; focus goes back to where it was.
import { auditEntries, type AuditEntry, type DeviceView } from "./backend";
import { actionText, callerText } from "./activity_view";
import { button, el, errorText } from "./dom";
import { formatInstant } from "./time_zone";

/** The actions the panel offers for its device. */
export type DeviceAction = "schedule" | "ota" | "cancel";

export interface DevicePanel {
  readonly root: HTMLElement;
  open(device: DeviceView): void;
  /** The device's row changed (after a refresh): shown again if it is the one open. */
  update(device: DeviceView): void;
  close(): void;
  openId(): string | null;
}

/** One labelled line of the details; left out when the value is empty. */
function fact(testid: string, label: string, value: string | undefined | null): HTMLElement[] {
  if (value === undefined || value === null || value === "") return [];
  return [el("dt", undefined, label), el("dd", testid, value)];
}

/** "1.2.5 → 1.3.0", or the firmware alone when up to date. */
export function firmwareText(d: DeviceView): string {
  return d.latest ? `${d.firmware} → ${d.latest}` : `${d.firmware} (up to date)`;
}

/** The OTA mode with its window: "auto, 2-4", "confirmation, any time". */
export function otaText(d: DeviceView): string {
  const window = !d.ota_window || d.ota_window === "-1--1" ? "any time" : d.ota_window;
  const pending = d.ota_setting === "pending" ? " (setting pending)" : "";
  return `${d.ota_mode}, ${window}${pending}`;
}

function entryLine(e: AuditEntry): HTMLElement {
  const li = el("li", "device-history-entry", undefined, e.succeeded ? "" : "failed");
  li.append(
    el("span", undefined, formatInstant(e.at_ms), "muted"),
    el("span", undefined, ` ${actionText(e.action)} by ${callerText(e.caller)}`),
    el("span", undefined, e.succeeded ? "" : " (failed)", "error"),
  );
  return li;
}

export function createDevicePanel(onAction: (action: DeviceAction, device: DeviceView) => void): DevicePanel {
  const root = el("aside", "device-panel", undefined, "device-panel");
  root.hidden = true;
  root.setAttribute("role", "dialog");
  root.setAttribute("aria-label", "Device");
  root.tabIndex = -1;
  let shown: DeviceView | null = null;
  let returnFocus: HTMLElement | null = null;
  let asked = 0;

  root.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      close();
    }
  });

  function draw(d: DeviceView) {
    const title = el("h3", "device-panel-title", d.name ?? `${d.model} ${d.serial}`);
    const closeButton = button("device-panel-close", "Close", () => close());
    closeButton.setAttribute("aria-label", "Close the device panel");
    const head = el("div", undefined, undefined, "device-panel-head");
    head.append(title, closeButton);
    const details = el("dl", "device-details", undefined, "device-facts");
    details.append(
      ...fact("device-model", "Model", d.model),
      ...fact("device-serial", "Serial", d.serial),
      ...fact("device-ip", "IP address", d.ip),
      ...fact("device-firmware", "Firmware", firmwareText(d)),
      ...fact("device-connection", "Connection", d.connection),
      ...fact("device-ota", "OTA", otaText(d)),
      ...fact("device-id", "Device id", d.device_id),
      ...fact("device-odd-id", "Odd id", d.odd_id),
    );
    const update = el("dl", "device-update", undefined, "device-facts");
    update.append(
      ...fact("device-update-status", "Update status", d.update_status),
      ...fact("device-reserved-file", "Reserved file", d.reserved_file_id),
      ...fact("device-transfer", "File sent", d.reservation?.transfer_ms ? formatInstant(d.reservation.transfer_ms) : undefined),
      ...fact("device-execute", "Update runs", d.reservation ? `${d.reservation.execute_local.replace(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/, "$1-$2-$3 $4:$5")} ${d.reservation.time_zone}` : undefined),
    );
    const actions = el("div", "device-actions", undefined, "toolbar");
    actions.append(
      button("device-action-schedule", "Schedule update…", () => onAction("schedule", d)),
      button("device-action-ota", "Configure OTA…", () => onAction("ota", d)),
    );
    if (d.reserved_file_id) actions.append(button("device-action-cancel", "Cancel reservation…", () => onAction("cancel", d)));
    const history = el("ol", "device-history", undefined, "device-history");
    history.append(el("li", undefined, "Reading the audit log…", "muted"));
    root.replaceChildren(
      head,
      el("h4", undefined, "Details"),
      details,
      el("h4", undefined, "Reservation and update"),
      update.childElementCount > 2 ? update : el("p", "device-no-reservation", `${d.update_status}: no reservation`, "muted"),
      actions,
      el("h4", undefined, "Changes to this device"),
      history,
    );
    const mine = ++asked;
    auditEntries({ device_id: d.device_id, limit: 20 })
      .then((entries) => {
        if (mine !== asked) return;
        history.replaceChildren(
          ...(entries.length === 0 ? [el("li", "device-history-none", "No change recorded yet.", "muted")] : entries.map(entryLine)),
        );
      })
      .catch((err: unknown) => {
        if (mine === asked) history.replaceChildren(el("li", "device-history-error", errorText(err), "error"));
      });
  }

  function open(d: DeviceView) {
    if (root.hidden) returnFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    shown = d;
    draw(d);
    root.hidden = false;
    root.focus({ preventScroll: true });
  }

  function close() {
    if (root.hidden) return;
    root.hidden = true;
    shown = null;
    returnFocus?.focus();
    returnFocus = null;
  }

  return {
    root,
    open,
    close,
    update: (d) => {
      if (shown && shown.device_id === d.device_id && !root.hidden) {
        shown = d;
        draw(d);
      }
    },
    openId: () => (root.hidden ? null : (shown?.device_id ?? null)),
  };
}
