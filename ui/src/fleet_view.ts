// The Fleet tab: loads every device once signed in (with a progress bar), shows the summary
// bars and the device grid, and offers the actions on the selected devices.
import { loadFleet, onFleetProgress, refreshDevices, saveCsv, type ChangeResult, type DeviceView } from "./backend";
import { createDevicePanel } from "./device_panel";
import { createCancelForm } from "./cancel_form";
import { createColumnChooser } from "./column_chooser";
import { loadShownColumns, saveShownColumns } from "./column_choice";
import { openChangeDialog, type ChangeDialog } from "./change_dialog";
import type { ChangeForm } from "./change_form";
import { button, el, errorText } from "./dom";
import type { ErrorBanner } from "./error_banner";
import { fleetCountText, selectionCountText, type BarFilter, type FleetFilter } from "./fleet_filters";
import { createDeferredFleetGrid, type DeferredFleetGrid } from "./deferred_fleet_grid";
import type { FleetStore } from "./fleet_store";
import { renderSummary, sameBar } from "./fleet_summary_chart";
import { createOtaForm } from "./ota_form";
import { createScheduleForm } from "./schedule_form";
import type { Toasts } from "./toasts";

export interface FleetViewDeps {
  store: FleetStore;
  banner: ErrorBanner;
  toasts: Toasts;
  /** After a change was carried out (the Activity tab refreshes). */
  onChangeApplied: (result: ChangeResult) => void;
}

export interface FleetView {
  readonly root: HTMLElement;
  readonly grid: DeferredFleetGrid;
  setSignedIn(signedIn: boolean): void;
  load(): Promise<void>;
  /** Reads these devices again and updates just their rows. */
  refresh(deviceIds: string[]): Promise<void>;
  /** The ids of the devices selected in the grid (a rollout may be planned on them). */
  selectedIds(): string[];
}

const BAR_NAMES: Record<BarFilter["field"], string> = {
  model: "Model",
  firmware: "Firmware",
  update_status: "Update status",
  ota_mode: "OTA mode",
};

export function createFleetView(deps: FleetViewDeps): FleetView {
  const { store, banner } = deps;
  const root = el("section", "fleet-view", undefined, "view fleet-view");
  const signedOut = el("p", "fleet-signed-out", "Sign in to see your fleet", "muted");
  const content = el("div", undefined, undefined, "fleet-content");

  const progressBox = el("div", undefined, undefined, "fleet-progress");
  const progress = el("progress", "fleet-progress");
  progress.setAttribute("aria-label", "Loading the fleet");
  const progressText = el("span", "fleet-progress-text", "Loading the fleet…");
  progressBox.append(progress, progressText);
  progressBox.hidden = true;
  const count = el("p", "fleet-count", "", "fleet-count");

  let filter: FleetFilter = { needsUpdateOnly: false, bar: null };
  let selected: DeviceView[] = [];
  let loading = false;
  let signedIn = false;
  let dialog: ChangeDialog | null = null;

  // Toolbar: search, toggle, the active summary filter, selection and export.
  const search = el("input", "quick-search");
  search.type = "search";
  search.placeholder = "Search devices";
  search.setAttribute("aria-label", "Search devices");
  search.addEventListener("input", () => grid.setQuickSearch(search.value));
  // From the search box straight to the rows it found: Space selects, Enter opens a device.
  search.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      grid.focusFirstRow();
    }
  });
  const needsUpdate = el("input", "filter-needs-update");
  needsUpdate.type = "checkbox";
  needsUpdate.addEventListener("change", () => setFilter({ ...filter, needsUpdateOnly: needsUpdate.checked }));
  const needsUpdateLabel = el("label", undefined, undefined, "checkbox-field");
  needsUpdateLabel.append(needsUpdate, el("span", undefined, "Needs update"));
  const chips = el("span", undefined, undefined, "chips");
  const selectAll = button("select-all-matching", "Select all matching", () => grid.selectAllMatching());
  const clear = button("clear-selection", "Clear", () => grid.clearSelection());
  clear.setAttribute("aria-label", "Clear the selection");
  const selectionCount = el("span", "selection-count", selectionCountText(0), "selection-count");
  selectionCount.setAttribute("aria-live", "polite");
  // Saved by the app into Downloads: web views drop a grid library's blob downloads.
  const exportCsv = button("export-csv", "Save as CSV file", () => {
    exportMenu.open = false;
    const rows = grid.matching().length;
    saveCsv(csvFileName(new Date()), grid.csv())
      .then((path) => deps.toasts.toast(`${rows} rows saved to ${path}`, "ok"))
      .catch((err: unknown) => deps.toasts.toast(`Could not save the CSV: ${errorText(err)}`, "error"));
  });
  const copyCsv = button("copy-csv", "Copy as CSV", () => {
    exportMenu.open = false;
    const rows = grid.matching().length;
    navigator.clipboard
      .writeText(grid.csv())
      .then(() => deps.toasts.toast(`${rows} rows copied as CSV`, "ok"))
      .catch((err: unknown) => deps.toasts.toast(`Could not copy: ${errorText(err)}`, "error"));
  });
  const refreshButton = button("fleet-refresh", "Refresh", () => void load());
  const exportMenu = el("details", "export-menu", undefined, "menu");
  const exportItems = el("div", undefined, undefined, "menu-items");
  exportItems.append(exportCsv, copyCsv);
  exportMenu.append(el("summary", "export-menu-toggle", "Export"), exportItems);
  let shownColumns = loadShownColumns();
  const columns = createColumnChooser(shownColumns, (ids) => {
    shownColumns = ids;
    saveShownColumns(ids);
    grid.showColumns(ids);
  });

  const schedule = button("action-schedule", "Schedule update…", () => openAction(createScheduleForm(selected)));
  const ota = button("action-ota", "Configure OTA…", () => openAction(createOtaForm(selected)));
  const cancel = button("action-cancel", "Cancel reservations…", () => openAction(createCancelForm(selected)));
  const actions = el("span", "fleet-actions", undefined, "actions");
  actions.append(schedule, ota, cancel);

  // One row at the default window size: finding and acting on devices here; the counts, the
  // selection's tools, export and refresh on the line above, beside the fleet's count.
  const toolbar = el("div", "fleet-toolbar", undefined, "toolbar");
  toolbar.append(search, needsUpdateLabel, chips, actions, el("span", undefined, undefined, "spacer"), columns);
  const countLine = el("div", undefined, undefined, "fleet-count-line");
  countLine.append(count, selectionCount, selectAll, clear, el("span", undefined, undefined, "spacer"), exportMenu, refreshButton);

  const summaryBox = el("aside", undefined, undefined, "summary-box");
  const gridBox = el("div", "device-grid", undefined, "device-grid");
  const body = el("div", undefined, undefined, "fleet-body");
  const panel = createDevicePanel((action, device) => {
    const one = [device];
    openAction(action === "schedule" ? createScheduleForm(one) : action === "ota" ? createOtaForm(one) : createCancelForm(one), one);
  });
  body.append(summaryBox, gridBox, panel.root);
  content.append(progressBox, countLine, toolbar, body);
  root.append(signedOut, content);

  // A chunk of its own (AG Grid), loaded once the window has drawn (not before: WebKit holds
  // the first paint back while a stylesheet is loading, and the chunk brings one); see
  // deferred_fleet_grid.ts.
  const grid = createDeferredFleetGrid(() =>
    afterFirstPaint()
      .then(() => import("./fleet_grid"))
      .then(({ createFleetGrid }) =>
        createFleetGrid(
          gridBox,
          (rows) => {
            selected = rows;
            syncSelection();
          },
          shownColumns,
          (device) => panel.open(device),
        ),
      ),
  );
  grid.ready.catch((err: unknown) => banner.report(err));

  function syncSelection() {
    selectionCount.textContent = selectionCountText(selected.length);
    for (const b of [schedule, ota, cancel, clear]) b.disabled = selected.length === 0;
  }

  function setFilter(next: FleetFilter) {
    filter = next;
    grid.setFilter(filter);
    drawChips();
    drawSummary();
  }

  function pickBar(bar: BarFilter) {
    setFilter({ ...filter, bar: sameBar(bar, filter.bar) ? null : bar });
  }

  function drawChips() {
    chips.replaceChildren();
    const bar = filter.bar;
    if (!bar) return;
    const chip = el("span", "active-filter", `${BAR_NAMES[bar.field]}: ${bar.label}`, "chip");
    const x = button("active-filter-clear", "×", () => setFilter({ ...filter, bar: null }));
    x.setAttribute("aria-label", "Clear this filter");
    chip.append(x);
    chips.append(chip);
  }

  function drawSummary() {
    summaryBox.replaceChildren();
    if (store.summary) summaryBox.append(renderSummary(store.summary, filter.bar, pickBar));
  }

  function drawCount() {
    count.textContent = store.loaded ? fleetCountText(store.totalDevices, store.needingUpdate) : "";
  }

  function openAction(form: ChangeForm, devices: DeviceView[] = selected) {
    if (devices.length === 0) return;
    dialog?.close();
    dialog = openChangeDialog(form, {
      onApplied: (result, ids) => {
        void refresh(ids);
        deps.onChangeApplied(result);
      },
      onError: (err) => banner.report(err),
    });
  }

  store.subscribe((change) => {
    if (change.kind === "loaded") {
      grid.setDevices(store.devices());
      drawSummary();
    } else {
      grid.updateDevices(change.devices);
      for (const d of change.devices) panel.update(d);
    }
    drawCount();
  });

  void onFleetProgress((p) => {
    progress.max = Math.max(1, p.total_count);
    progress.value = p.devices_done;
    progressText.textContent = `${p.devices_done} of ${p.total_count} devices`;
  }).catch(() => undefined);

  async function load() {
    if (loading) return;
    loading = true;
    refreshButton.disabled = true;
    progress.removeAttribute("value");
    progressText.textContent = "Loading the fleet…";
    progressBox.hidden = false;
    try {
      store.setSnapshot(await loadFleet());
    } catch (err) {
      // What was loaded before stays on screen.
      banner.report(err, () => void load());
    } finally {
      loading = false;
      refreshButton.disabled = false;
      progressBox.hidden = true;
    }
  }

  async function refresh(ids: string[]) {
    if (ids.length === 0) return;
    try {
      store.updateDevices(await refreshDevices(ids));
    } catch (err) {
      banner.report(err, () => void refresh(ids));
    }
  }

  function setSignedIn(now: boolean) {
    const was = signedIn;
    signedIn = now;
    signedOut.hidden = now;
    content.hidden = !now;
    if (now && !was && !store.loaded) void load();
  }

  setSignedIn(false);
  syncSelection();
  return { root, grid, setSignedIn, load, refresh, selectedIds: () => selected.map((d) => d.device_id) };
}

/** Resolves after the next frame has been drawn. */
function afterFirstPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/** `fleet-YYYYMMDD-HHMM.csv` in local time: sorts by date, says what it is. */
export function csvFileName(at: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `fleet-${at.getFullYear()}${p(at.getMonth() + 1)}${p(at.getDate())}-${p(at.getHours())}${p(at.getMinutes())}.csv`;
}
