// Tests of the grid loaded after the first paint: what it is told before its chunk has loaded
// reaches the real grid, later calls go straight through, and a failed load is reported.
import { describe, expect, it } from "vitest";
import type { DeviceView } from "./backend";
import { createDeferredFleetGrid } from "./deferred_fleet_grid";
import type { FleetFilter } from "./fleet_filters";
import type { FleetGrid } from "./fleet_grid";
import { device } from "./test_fixtures";

function fakeGrid() {
  const calls: string[] = [];
  let rows: DeviceView[] = [];
  let search = "";
  let filter: FleetFilter | null = null;
  let columns: readonly string[] | null = null;
  const grid: FleetGrid = {
    setDevices: (d) => {
      calls.push("setDevices");
      rows = d;
    },
    updateDevices: (d) => {
      calls.push("updateDevices");
      rows = rows.map((r) => d.find((x) => x.device_id === r.device_id) ?? r);
    },
    setQuickSearch: (t) => {
      calls.push("setQuickSearch");
      search = t;
    },
    focusFirstRow: () => calls.push("focusFirstRow"),
    setFilter: (f) => {
      calls.push("setFilter");
      filter = f;
    },
    showColumns: (ids) => {
      calls.push("showColumns");
      columns = ids;
    },
    selectAllMatching: () => calls.push("selectAllMatching"),
    clearSelection: () => calls.push("clearSelection"),
    selected: () => rows.slice(0, 1),
    matching: () => rows,
    csv: () => rows.map((r) => r.device_id).join("\n"),
    destroy: () => calls.push("destroy"),
  };
  return { grid, calls, rows: () => rows, search: () => search, filter: () => filter, columns: () => columns };
}

describe("the fleet grid loaded after the first paint", () => {
  it("hands over the devices, updates, search and filter it was given before loading", async () => {
    const fake = fakeGrid();
    let finishLoad: (g: FleetGrid) => void = () => undefined;
    const deferred = createDeferredFleetGrid(() => new Promise((resolve) => (finishLoad = resolve)));
    deferred.setDevices([device("d1", { name: "Alpha" }), device("d2", { name: "Bravo" })]);
    deferred.updateDevices([device("d2", { name: "Bravo 2" })]);
    deferred.setQuickSearch("brav");
    const filter: FleetFilter = { needsUpdateOnly: true, bar: null };
    deferred.setFilter(filter);
    deferred.showColumns(["name", "serial"]);
    // Before loading nothing can be selected or exported.
    expect(deferred.selected()).toEqual([]);
    expect(deferred.matching()).toEqual([]);
    expect(deferred.csv()).toBe("");

    finishLoad(fake.grid);
    await deferred.ready;
    expect(fake.rows().map((d) => d.name)).toEqual(["Alpha", "Bravo 2"]);
    expect(fake.search()).toBe("brav");
    expect(fake.filter()).toEqual(filter);
    expect(fake.columns()).toEqual(["name", "serial"]);

    // Once loaded, calls go straight to the grid.
    deferred.updateDevices([device("d1", { name: "Alpha 2" })]);
    expect(fake.calls).toContain("updateDevices");
    expect(deferred.matching().map((d) => d.name)).toEqual(["Alpha 2", "Bravo 2"]);
    expect(deferred.csv()).toBe("d1\nd2");
    deferred.selectAllMatching();
    expect(fake.calls).toContain("selectAllMatching");
  });

  it("says when the grid cannot load, and ignores calls meanwhile", async () => {
    const deferred = createDeferredFleetGrid(() => Promise.reject(new Error("chunk missing")));
    deferred.setDevices([device("d1")]);
    deferred.selectAllMatching();
    await expect(deferred.ready).rejects.toThrow("chunk missing");
    expect(deferred.matching()).toEqual([]);
  });
});
