// The fleet summary beside the grid: devices counted by model, firmware step, update status and
// OTA mode, each as horizontal bars (plain HTML: a button per bar, its length a share of the
// largest). Clicking a bar asks the grid to show only those devices.
import type { FleetSummary } from "./backend";
import type { BarField, BarFilter } from "./fleet_filters";
import { el } from "./dom";

export interface Bar extends BarFilter {
  devices: number;
}

export interface SummaryBars {
  byModel: Bar[];
  byFirmware: Bar[];
  byStatus: Bar[];
  byOta: Bar[];
}

function countBars(field: BarField, counts: { value: string; devices: number }[]): Bar[] {
  return counts.map((c) => ({ field, value: c.value, model: null, label: c.value, devices: c.devices }));
}

/** The bars of each chart, from rmm-core's summary. */
export function summaryBars(summary: FleetSummary): SummaryBars {
  return {
    byModel: countBars("model", summary.by_model),
    byFirmware: summary.by_firmware.map((s) => ({
      field: "firmware",
      value: s.from,
      model: s.model,
      label: `${s.model} ${s.from} → ${s.to ?? "(latest)"}`,
      devices: s.devices,
    })),
    byStatus: countBars("update_status", summary.by_update_status),
    byOta: countBars("ota_mode", summary.by_ota_mode),
  };
}

export function sameBar(a: BarFilter | null, b: BarFilter | null): boolean {
  return a !== null && b !== null && a.field === b.field && a.value === b.value && a.model === b.model;
}

function chart(
  testid: string,
  title: string,
  bars: Bar[],
  active: BarFilter | null,
  onPick: (bar: Bar) => void,
): HTMLElement {
  const section = el("section", testid, undefined, "summary-chart");
  section.append(el("h3", undefined, title));
  const max = Math.max(1, ...bars.map((b) => b.devices));
  if (bars.length === 0) section.append(el("p", undefined, "None", "muted"));
  for (const bar of bars) {
    const b = el("button", "summary-bar", undefined, "summary-bar");
    b.type = "button";
    b.dataset.field = bar.field;
    b.dataset.value = bar.value;
    if (bar.model !== null) b.dataset.model = bar.model;
    b.setAttribute("aria-pressed", String(sameBar(bar, active)));
    b.title = `Show only: ${bar.label} (${bar.devices})`;
    const label = el("span", undefined, bar.label, "bar-label");
    const track = el("span", undefined, undefined, "bar-track");
    const fill = el("span", undefined, undefined, "bar-fill");
    // Set through the CSSOM (not a style attribute), which the CSP allows.
    fill.style.width = `${(bar.devices / max) * 100}%`;
    track.append(fill);
    const count = el("span", undefined, String(bar.devices), "bar-count");
    b.append(label, track, count);
    b.addEventListener("click", () => onPick(bar));
    section.append(b);
  }
  return section;
}

/** The four charts of `summary`; `active` is the bar the grid is filtered to now, if any. */
export function renderSummary(
  summary: FleetSummary,
  active: BarFilter | null,
  onPick: (bar: Bar) => void,
): HTMLElement {
  const bars = summaryBars(summary);
  const root = el("div", "fleet-summary", undefined, "fleet-summary");
  root.append(
    chart("summary-by-model", "By model", bars.byModel, active, onPick),
    chart("summary-by-firmware", "By firmware step", bars.byFirmware, active, onPick),
    chart("summary-by-status", "By update status", bars.byStatus, active, onPick),
    chart("summary-by-ota", "By OTA mode", bars.byOta, active, onPick),
  );
  return root;
}
