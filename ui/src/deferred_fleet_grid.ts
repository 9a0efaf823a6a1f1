// The fleet grid, loaded after the window's first paint: AG Grid is most of the app's script,
// and parsing it before anything is drawn made the window appear later. Until the grid's
// chunk has loaded (tens of milliseconds after start, long before a fleet arrives), this
// keeps what it is told (the devices, the search text, the filter) and hands it over then.
import type { DeviceView } from "./backend";
import { NO_FILTER, type FleetFilter } from "./fleet_filters";
import type { FleetGrid } from "./fleet_grid";

export interface DeferredFleetGrid extends FleetGrid {
  /** Resolves once the real grid is in place (rejects if its chunk cannot load). */
  readonly ready: Promise<void>;
}

type GridFactory = () => Promise<FleetGrid>;

export function createDeferredFleetGrid(load: GridFactory): DeferredFleetGrid {
  let real: FleetGrid | null = null;
  let devices: DeviceView[] = [];
  let quickSearch = "";
  let filter: FleetFilter = NO_FILTER;
  let columns: readonly string[] | null = null;

  const ready = load().then((grid) => {
    real = grid;
    grid.setDevices(devices);
    grid.setQuickSearch(quickSearch);
    grid.setFilter(filter);
    if (columns) grid.showColumns(columns);
    devices = [];
  });

  return {
    ready,
    setDevices: (next) => (real ? real.setDevices(next) : void (devices = next)),
    updateDevices: (changed) => {
      if (real) return real.updateDevices(changed);
      const byId = new Map(changed.map((d) => [d.device_id, d]));
      devices = devices.map((d) => byId.get(d.device_id) ?? d);
    },
    setQuickSearch: (text) => (real ? real.setQuickSearch(text) : void (quickSearch = text)),
    setFilter: (next) => (real ? real.setFilter(next) : void (filter = next)),
    showColumns: (ids) => (real ? real.showColumns(ids) : void (columns = ids)),
    selectAllMatching: () => real?.selectAllMatching(),
    clearSelection: () => real?.clearSelection(),
    focusFirstRow: () => real?.focusFirstRow(),
    // Nothing can be selected before the grid shows rows.
    selected: () => real?.selected() ?? [],
    matching: () => real?.matching() ?? [],
    csv: () => real?.csv() ?? "",
    destroy: () => {
      if (real) real.destroy();
      else void ready.then(() => real?.destroy());
    },
  };
}
