// The fleet grid: a thin wrapper around AG Grid Community (virtualised rows, sort, column
// filters, quick search, checkbox selection, CSV export). The rules of what shows and how live
// in fleet_filters.ts; this file only hands them to the grid.
//
// Styling uses AG Grid's legacy CSS-file theme (theme: "legacy" + ag-grid.css and
// ag-theme-quartz.css bundled by Vite) rather than the Theming API, which injects <style>
// elements: that way the app's CSP keeps style-src 'self'. The "auto-dark" theme class follows
// the system light/dark setting.
import { spreadsheetSafe } from "./csv_safety";
import {
  ClientSideRowModelApiModule,
  ClientSideRowModelModule,
  ColumnApiModule,
  CsvExportModule,
  ExternalFilterModule,
  ModuleRegistry,
  QuickFilterModule,
  RowSelectionModule,
  RowStyleModule,
  TextFilterModule,
  ValueCacheModule,
  createGrid,
  type ColDef,
  type GridApi,
  type IRowNode,
} from "ag-grid-community";
import "ag-grid-community/styles/ag-grid.css";
import "ag-grid-community/styles/ag-theme-quartz.css";
import type { DeviceView } from "./backend";
import {
  FLEET_COLUMNS,
  NEEDS_UPDATE_CLASS,
  NO_FILTER,
  isFilterActive,
  passesFleetFilter,
  standsOut,
  type FleetFilter,
} from "./fleet_filters";

// Only what the fleet grid uses, to keep the bundle small.
ModuleRegistry.registerModules([
  ClientSideRowModelModule,
  ClientSideRowModelApiModule,
  ColumnApiModule,
  RowSelectionModule,
  RowStyleModule,
  TextFilterModule,
  QuickFilterModule,
  ExternalFilterModule,
  CsvExportModule,
  // `valueCache: true` below is ignored without it.
  ValueCacheModule,
]);

export interface FleetGrid {
  setDevices(devices: DeviceView[]): void;
  /** Updates these rows in place (a grid transaction), keeping sort, filters and selection. */
  updateDevices(devices: DeviceView[]): void;
  setQuickSearch(text: string): void;
  setFilter(filter: FleetFilter): void;
  /** Shows exactly these columns (ids of FLEET_COLUMNS), hiding the others. */
  showColumns(ids: readonly string[]): void;
  /** Selects every row passing the current filters, scrolled into view or not. */
  selectAllMatching(): void;
  clearSelection(): void;
  /** Moves the keyboard focus to the first row shown (from the search box's ArrowDown). */
  focusFirstRow(): void;
  selected(): DeviceView[];
  /** The devices passing the filters, in the grid's current sort order. */
  matching(): DeviceView[];
  /** The current view (filtered, sorted) as CSV text. */
  csv(): string;
  destroy(): void;
}

export function createFleetGrid(
  container: HTMLElement,
  onSelectionChanged: (selected: DeviceView[]) => void,
  shownColumns: readonly string[],
  onOpen: (device: DeviceView) => void = () => undefined,
): FleetGrid {
  container.classList.add("ag-theme-quartz-auto-dark", "fleet-grid");
  let filter: FleetFilter = NO_FILTER;

  const columnDefs: ColDef<DeviceView>[] = FLEET_COLUMNS.map((c) => ({
    colId: c.id,
    headerName: c.header,
    // Shares of the grid's width (at least `width`): the shown columns fill the window.
    flex: c.width,
    minWidth: c.width,
    hide: !shownColumns.includes(c.id),
    // The shown text is the value, so sort, filters, quick search and CSV all agree with it.
    valueGetter: (p) => (p.data ? c.text(p.data) : ""),
  }));

  const api: GridApi<DeviceView> = createGrid<DeviceView>(container, {
    theme: "legacy",
    columnDefs,
    defaultColDef: {
      sortable: true,
      filter: "agTextColumnFilter",
      floatingFilter: true,
      resizable: true,
      minWidth: 80,
    },
    rowData: [],
    // Every cell is computed by a valueGetter: keep each computed value, and each row's
    // quick-search text, instead of computing them again on every comparison of a sort or
    // every keystroke of a search over 10,000 rows (rows are replaced, never edited in place).
    valueCache: true,
    cacheQuickFilter: true,
    // Rows jump to their new place: sliding thousands of them costs more than it shows.
    animateRows: false,
    // Rows drawn beyond the visible ones (default 10 each side): a sort or a search redraws
    // every drawn row, and most of a repaint's script time is building those rows.
    rowBuffer: 4,
    getRowId: (p) => p.data.device_id,
    rowSelection: {
      mode: "multiRow",
      checkboxes: true,
      headerCheckbox: true,
      selectAll: "filtered",
      enableClickSelection: false,
    },
    // A class rule (not getRowClass), so the grid re-applies it when a refreshed row changes.
    rowClassRules: { [NEEDS_UPDATE_CLASS]: (p) => standsOut(p.data) },
    isExternalFilterPresent: () => isFilterActive(filter),
    doesExternalFilterPass: (node) => (node.data ? passesFleetFilter(node.data, filter) : false),
    onSelectionChanged: () => onSelectionChanged(api.getSelectedRows()),
    // A row's device opens in the side panel: a click outside its checkbox, or Enter.
    onRowClicked: (e) => {
      const target = e.event?.target;
      if (target instanceof HTMLElement && target.closest(".ag-selection-checkbox, input")) return;
      if (e.data) onOpen(e.data);
    },
    onCellKeyDown: (e) => {
      const key = e.event instanceof KeyboardEvent ? e.event.key : "";
      if (key === "Enter" && e.data) onOpen(e.data);
    },
    overlayNoRowsTemplate: "No devices to show",
  });

  const collect = (each: (cb: (n: IRowNode<DeviceView>) => void) => void): DeviceView[] => {
    const rows: DeviceView[] = [];
    each((n) => {
      if (n.data) rows.push(n.data);
    });
    return rows;
  };

  return {
    setDevices: (devices) => api.setGridOption("rowData", devices),
    updateDevices: (devices) => {
      api.applyTransaction({ update: devices });
      // A refreshed row may now pass or fail the filters.
      api.onFilterChanged();
    },
    setQuickSearch: (text) => api.setGridOption("quickFilterText", text),
    setFilter: (next) => {
      filter = next;
      api.onFilterChanged();
    },
    showColumns: (ids) => {
      const shown = new Set(ids);
      api.setColumnsVisible(
        FLEET_COLUMNS.filter((c) => shown.has(c.id)).map((c) => c.id),
        true,
      );
      api.setColumnsVisible(
        FLEET_COLUMNS.filter((c) => !shown.has(c.id)).map((c) => c.id),
        false,
      );
    },
    selectAllMatching: () => api.selectAll("filtered"),
    clearSelection: () => api.deselectAll(),
    focusFirstRow: () => {
      // The first data column's cell of the first row shown (the grid follows the DOM focus);
      // scrolled to first when it is not drawn.
      const focusCell = () => {
        const cells = container.querySelectorAll<HTMLElement>('.ag-row[row-index="0"] .ag-cell[col-id]');
        const cell = [...cells].find((c) => !(c.getAttribute("col-id") ?? "").startsWith("ag-Grid-")) ?? cells[0];
        cell?.focus();
        return cell !== undefined;
      };
      if (focusCell()) return;
      api.ensureIndexVisible(0, "top");
      requestAnimationFrame(() => void focusCell());
    },
    selected: () => api.getSelectedRows(),
    matching: () => collect((cb) => api.forEachNodeAfterFilterAndSort(cb)),
    // Every column, shown or not: the file is the data, not the view.
    // Values come from printers: no cell may run as a spreadsheet formula.
    csv: () =>
      api.getDataAsCsv({
        allColumns: true,
        processCellCallback: (p) => spreadsheetSafe(String(p.value ?? "")),
      }) ?? "",
    destroy: () => api.destroy(),
  };
}
