// Tests of the Fleet tab with the facade mocked and AG Grid running in happy-dom: loading with
// progress, rows and their look, filters (toggle, summary bars), selection, CSV, refreshed rows.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { loadFleet, onFleetProgress, refreshDevices, saveCsv, type FleetProgress, type FleetSnapshot } from "./backend";
import type { ErrorBanner } from "./error_banner";
import { passesFleetFilter, otaWindowText, standsOut } from "./fleet_filters";
import { FleetStore } from "./fleet_store";
import { createFleetView, csvFileName } from "./fleet_view";
import { allByTestId, backendError, byTestId, device, settle } from "./test_fixtures";

vi.mock("./backend", async (importOriginal) => ({
  ...(await importOriginal<typeof import("./backend")>()),
  loadFleet: vi.fn(),
  onFleetProgress: vi.fn(),
  refreshDevices: vi.fn(),
  saveCsv: vi.fn(),
  firmwareFiles: vi.fn(() => new Promise(() => undefined)),
}));

const devices = [
  device("d1", { name: "Alpha", model: "MX-3071", firmware: "0500", needs_update: true }),
  device("d2", { name: "Bravo", model: "MX-4071", firmware: "0600", needs_update: false, update_status: "completed" }),
  device("d3", { name: "Charlie", model: "MX-3071", firmware: "0600", needs_update: false, ota_mode: "off" }),
  device("d4", { name: "Delta", model: "MX-3071", firmware: "0500", needs_update: true, ota_window: "2-5" }),
];

const snapshot: FleetSnapshot = {
  listing: { group_id: "g1", total_devices: 4, start_index: 0, returned: 4, needing_update: 2, devices },
  summary: {
    group_id: "g1",
    total_devices: 4,
    needs_update: 2,
    offline: 0,
    by_model: [
      { value: "MX-3071", devices: 3 },
      { value: "MX-4071", devices: 1 },
    ],
    by_firmware: [{ model: "MX-3071", from: "0500", to: "0600", devices: 2 }],
    by_update_status: [
      { value: "none", devices: 3 },
      { value: "completed", devices: 1 },
    ],
    by_ota_mode: [
      { value: "auto", devices: 3 },
      { value: "off", devices: 1 },
    ],
  },
};

let progressListener: ((p: FleetProgress) => void) | null = null;
const reports: unknown[] = [];
const banner: ErrorBanner = { report: (e) => reports.push(e), clear: () => undefined };

async function setup() {
  const store = new FleetStore();
  const applied: unknown[] = [];
  const view = createFleetView({ store, banner, toasts: { toast: () => undefined }, onChangeApplied: (r) => applied.push(r) });
  document.body.append(view.root);
  await view.grid.ready;
  return { store, view, applied };
}

function click(id: string) {
  byTestId(document, id)?.click();
}

beforeEach(() => {
  document.body.innerHTML = "";
  reports.length = 0;
  vi.mocked(loadFleet).mockReset();
  vi.mocked(refreshDevices).mockReset();
  vi.mocked(onFleetProgress).mockImplementation((cb) => {
    progressListener = cb;
    return Promise.resolve(() => undefined);
  });
});

describe("fleet rules", () => {
  it("writes the any-time window in words and marks rows needing an update", () => {
    expect(otaWindowText("-1--1")).toBe("any time");
    expect(otaWindowText("2-5")).toBe("2-5");
    expect(otaWindowText(null)).toBe("");
    expect(standsOut(devices[0])).toBe(true);
    expect(standsOut(devices[1])).toBe(false);
    expect(standsOut(undefined)).toBe(false);
  });

  it("filters by a firmware step on model and version together", () => {
    const bar = { field: "firmware" as const, value: "0500", model: "MX-3071", label: "" };
    expect(devices.filter((d) => passesFleetFilter(d, { needsUpdateOnly: false, bar })).map((d) => d.device_id)).toEqual([
      "d1",
      "d4",
    ]);
    expect(passesFleetFilter(device("x", { model: "MX-4071", firmware: "0500" }), { needsUpdateOnly: false, bar })).toBe(false);
  });
});

describe("CSV export", () => {
  it("saves the rows passing the filters under a dated name and says where", async () => {
    vi.mocked(loadFleet).mockResolvedValue(snapshot);
    vi.mocked(saveCsv).mockResolvedValue("/home/ann/Downloads/fleet-20261201-0930.csv");
    const toasts: string[] = [];
    const store = new FleetStore();
    const view = createFleetView({ store, banner, toasts: { toast: (t) => toasts.push(t) }, onChangeApplied: () => undefined });
    document.body.append(view.root);
    await view.grid.ready;
    view.setSignedIn(true);
    await settle();
    const needsUpdate = byTestId<HTMLInputElement>(document, "filter-needs-update");
    if (needsUpdate) needsUpdate.checked = true;
    needsUpdate?.dispatchEvent(new Event("change"));
    click("export-csv");
    await settle();
    expect(saveCsv).toHaveBeenCalledOnce();
    const [name, csv] = vi.mocked(saveCsv).mock.calls[0] ?? ["", ""];
    expect(name).toMatch(/^fleet-\d{8}-\d{4}\.csv$/);
    expect(csv).toContain("Alpha");
    expect(csv).toContain("Delta");
    expect(csv).not.toContain("Bravo");
    expect(toasts).toEqual(["2 rows saved to /home/ann/Downloads/fleet-20261201-0930.csv"]);
  });

  it("names the file after the local date and minute", () => {
    expect(csvFileName(new Date(2026, 11, 1, 9, 5))).toBe("fleet-20261201-0905.csv");
  });
});

describe("column chooser", () => {
  const headers = () =>
    // The header row's cells (the floating filters' row repeats the ids).
    [...new Set(Array.from(document.querySelectorAll<HTMLElement>(".ag-header-cell[col-id]")).map((h) => h.getAttribute("col-id")))]
      .filter((id) => id !== "ag-Grid-SelectionColumn");

  it("shows the deciding columns, adds one from the menu, and remembers the choice", async () => {
    localStorage.clear();
    vi.mocked(loadFleet).mockResolvedValue(snapshot);
    const { view } = await setup();
    view.setSignedIn(true);
    await settle();
    expect(headers()).toEqual(["name", "model", "firmware", "latest", "update_status", "ota_mode", "ota_window", "connection"]);
    const serial = byTestId<HTMLInputElement>(document, "column-serial");
    expect(serial?.checked).toBe(false);
    if (serial) serial.checked = true;
    serial?.dispatchEvent(new Event("change", { bubbles: true }));
    await settle();
    expect(headers()).toContain("serial");

    // A new window starts with the remembered choice.
    document.body.innerHTML = "";
    const again = await setup();
    again.view.setSignedIn(true);
    await settle();
    expect(headers()).toContain("serial");
    expect(byTestId<HTMLInputElement>(document, "column-serial")?.checked).toBe(true);
    localStorage.clear();
  });
});

describe("fleet view", () => {
  it("asks to sign in first, then loads with a progress bar", async () => {
    let answer: (s: FleetSnapshot) => void = () => undefined;
    vi.mocked(loadFleet).mockReturnValue(new Promise((r) => (answer = r)));
    const { view } = await setup();
    expect(byTestId(document, "fleet-signed-out")?.hidden).toBe(false);
    expect(loadFleet).not.toHaveBeenCalled();

    view.setSignedIn(true);
    expect(loadFleet).toHaveBeenCalledOnce();
    const progress = byTestId<HTMLProgressElement>(document, "fleet-progress");
    expect(progress?.closest("div")?.hidden).toBe(false);
    progressListener?.({ pages_done: 1, pages_total: 2, devices_done: 2, total_count: 4 });
    expect(progress?.value).toBe(2);
    expect(progress?.max).toBe(4);
    expect(byTestId(document, "fleet-progress-text")?.textContent).toBe("2 of 4 devices");

    answer(snapshot);
    await settle();
    expect(progress?.closest("div")?.hidden).toBe(true);
    expect(byTestId(document, "fleet-count")?.textContent).toBe("4 devices, 2 need an update");
    view.setSignedIn(true);
    expect(loadFleet).toHaveBeenCalledOnce();
  });

  it("shows a row per device, by device id, the ones needing an update marked", async () => {
    vi.mocked(loadFleet).mockResolvedValue(snapshot);
    const { view } = await setup();
    view.setSignedIn(true);
    await settle();
    const grid = byTestId(document, "device-grid");
    const row = grid?.querySelector('.ag-row[row-id="d1"]');
    expect(row).not.toBeNull();
    expect(row?.classList.contains("needs-update")).toBe(true);
    expect(grid?.querySelector('.ag-row[row-id="d2"]')?.classList.contains("needs-update")).toBe(false);
    expect(grid?.querySelector('[row-id="d4"] [col-id="ota_window"]')?.textContent).toBe("2-5");
    expect(grid?.querySelector('[row-id="d1"] [col-id="ota_window"]')?.textContent).toBe("any time");
    expect(view.grid.matching()).toHaveLength(4);
  });

  it("filters by the toggle, the quick search and a summary bar, with a clearable chip", async () => {
    vi.mocked(loadFleet).mockResolvedValue(snapshot);
    const { view } = await setup();
    view.setSignedIn(true);
    await settle();

    const toggle = byTestId<HTMLInputElement>(document, "filter-needs-update");
    if (toggle) toggle.checked = true;
    toggle?.dispatchEvent(new Event("change"));
    expect(view.grid.matching().map((d) => d.device_id)).toEqual(["d1", "d4"]);
    if (toggle) toggle.checked = false;
    toggle?.dispatchEvent(new Event("change"));

    const bars = allByTestId(document, "summary-bar");
    expect(byTestId(document, "summary-by-model")?.querySelectorAll('[data-testid="summary-bar"]')).toHaveLength(2);
    bars.find((b) => b.dataset.field === "ota_mode" && b.dataset.value === "off")?.click();
    expect(view.grid.matching().map((d) => d.device_id)).toEqual(["d3"]);
    expect(byTestId(document, "active-filter")?.textContent).toContain("OTA mode: off");

    click("active-filter-clear");
    expect(byTestId(document, "active-filter")).toBeNull();
    expect(view.grid.matching()).toHaveLength(4);

    const search = byTestId<HTMLInputElement>(document, "quick-search");
    if (search) search.value = "Bravo";
    search?.dispatchEvent(new Event("input"));
    expect(view.grid.matching().map((d) => d.device_id)).toEqual(["d2"]);
  });

  it("selects all matching rows, counts them, enables the actions, clears", async () => {
    vi.mocked(loadFleet).mockResolvedValue(snapshot);
    const { view } = await setup();
    view.setSignedIn(true);
    await settle();
    expect(byTestId<HTMLButtonElement>(document, "action-schedule")?.disabled).toBe(true);

    allByTestId(document, "summary-bar")
      .find((b) => b.dataset.field === "model" && b.dataset.value === "MX-3071")
      ?.click();
    click("select-all-matching");
    await settle();
    expect(byTestId(document, "selection-count")?.textContent).toBe("3 selected");
    expect(view.grid.selected().map((d) => d.device_id).sort()).toEqual(["d1", "d3", "d4"]);
    expect(byTestId<HTMLButtonElement>(document, "action-schedule")?.disabled).toBe(false);
    expect(byTestId<HTMLButtonElement>(document, "action-ota")?.disabled).toBe(false);
    expect(byTestId<HTMLButtonElement>(document, "action-cancel")?.disabled).toBe(false);

    click("action-cancel");
    expect(allByTestId(document, "cancel-device")).toHaveLength(3);

    click("clear-selection");
    await settle();
    expect(byTestId(document, "selection-count")?.textContent).toBe("0 selected");
    expect(byTestId<HTMLButtonElement>(document, "action-cancel")?.disabled).toBe(true);
  });

  it("exports the filtered rows as CSV", async () => {
    vi.mocked(loadFleet).mockResolvedValue(snapshot);
    const { view } = await setup();
    view.setSignedIn(true);
    await settle();
    const toggle = byTestId<HTMLInputElement>(document, "filter-needs-update");
    if (toggle) toggle.checked = true;
    toggle?.dispatchEvent(new Event("change"));
    const csv = view.grid.csv();
    expect(csv).toContain("Alpha");
    expect(csv).toContain("Delta");
    expect(csv).not.toContain("Bravo");
    expect(csv.split("\n")[0]).toContain('"Needs update"');

    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    click("copy-csv");
    expect(writeText).toHaveBeenCalledWith(csv);
  });

  it("updates just the refreshed rows", async () => {
    vi.mocked(loadFleet).mockResolvedValue(snapshot);
    const { view, store } = await setup();
    view.setSignedIn(true);
    await settle();
    vi.mocked(refreshDevices).mockResolvedValue([{ ...devices[0]!, update_status: "reserved", needs_update: false }]);
    await view.refresh(["d1"]);
    expect(refreshDevices).toHaveBeenCalledWith(["d1"]);
    expect(store.device("d1")?.update_status).toBe("reserved");
    expect(byTestId(document, "device-grid")?.querySelector('[row-id="d1"] [col-id="update_status"]')?.textContent).toBe(
      "reserved",
    );
    expect(byTestId(document, "device-grid")?.querySelector('.ag-row[row-id="d1"]')?.classList.contains("needs-update")).toBe(false);
    expect(byTestId(document, "fleet-count")?.textContent).toBe("4 devices, 1 needs an update");
    expect(loadFleet).toHaveBeenCalledOnce();
  });

  it("keeps the loaded fleet when a reload fails, and reports the failure", async () => {
    vi.mocked(loadFleet).mockResolvedValueOnce(snapshot);
    const { view } = await setup();
    view.setSignedIn(true);
    await settle();
    vi.mocked(loadFleet).mockRejectedValueOnce(backendError({ code: "cloud_failed" }));
    click("fleet-refresh");
    await settle();
    expect(reports).toHaveLength(1);
    expect(view.grid.matching()).toHaveLength(4);
    expect(byTestId(document, "fleet-count")?.textContent).toBe("4 devices, 2 need an update");
  });
});
