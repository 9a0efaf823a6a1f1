// How a change's preview looks, in the change dialog and in an agent's approval request: the
// summary, the devices with their state now and what would change, and rmm-core's warnings.
import type { ChangePreview, DeviceChange } from "./backend";
import { el } from "./dom";
import { otaWindowText } from "./fleet_filters";

export interface PreviewLook {
  /** Test id of the whole preview. */
  testid: string;
  /** Test id of the summary line. */
  summaryTestid: string;
  /** A note above the summary (e.g. that the devices changed since the last preview). */
  note?: string;
}

function currentText(d: DeviceChange): string {
  const c = d.current;
  const ota = c.ota_window ? `${c.ota_mode} (${otaWindowText(c.ota_window)})` : c.ota_mode;
  const offline = c.connection === "online" ? "" : ` · ${c.connection}`;
  return `${c.firmware} · ${c.update_status} · OTA ${ota}${offline}`;
}

export function renderPreview(preview: ChangePreview, look: PreviewLook): HTMLElement {
  const root = el("section", look.testid, undefined, "change-preview");
  if (look.note) {
    const note = el("p", "preview-note", look.note, "warning");
    note.setAttribute("role", "alert");
    root.append(note);
  }
  root.append(el("p", look.summaryTestid, preview.summary, "preview-summary"));

  const table = el("table", "preview-devices", undefined, "preview-devices");
  const head = el("tr");
  for (const h of ["Model", "Name", "Now", "Change"]) head.append(el("th", undefined, h));
  table.append(el("thead"), el("tbody"));
  table.tHead?.append(head);
  for (const d of preview.devices) {
    const row = el("tr", "preview-device");
    row.dataset.deviceId = d.device_id;
    row.append(
      el("td", undefined, d.model),
      el("td", undefined, d.name ?? d.device_id),
      el("td", undefined, currentText(d)),
      el("td", "preview-change", d.change),
    );
    table.tBodies[0]?.append(row);
  }
  root.append(table);

  if (preview.warnings.length > 0) {
    const list = el("ul", "preview-warnings", undefined, "preview-warnings");
    const names = new Map(preview.devices.map((d) => [d.device_id, d.name ?? d.device_id]));
    for (const w of preview.warnings) {
      const who = w.device_id ? `${names.get(w.device_id) ?? w.device_id}: ` : "";
      const item = el("li", "preview-warning", `⚠ ${who}${w.message}`, "warning");
      item.dataset.kind = w.kind;
      list.append(item);
    }
    root.append(list);
  }
  return root;
}
