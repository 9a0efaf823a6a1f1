// What decides which devices the fleet grid shows and how: the columns, the text each cell
// shows, the "Needs update only" toggle and the summary-bar filter, and which rows stand out.
// Kept apart from the grid so that the rules are tested without rendering AG Grid.
import type { DeviceView } from "./backend";

/** The fields a summary bar filters on; `firmware` is a firmware step (model + current version). */
export type BarField = "model" | "firmware" | "update_status" | "ota_mode";

/** A clicked summary bar: devices whose `field` equals `value` (and, for firmware, of `model`). */
export interface BarFilter {
  field: BarField;
  value: string;
  model: string | null;
  label: string;
}

/** The filters the grid applies on top of its own column filters and quick search. */
export interface FleetFilter {
  needsUpdateOnly: boolean;
  bar: BarFilter | null;
}

export const NO_FILTER: FleetFilter = { needsUpdateOnly: false, bar: null };

/** rmm-core writes "no window" (OTA at any hour) as "-1--1". */
export function otaWindowText(window: string | null | undefined): string {
  if (window === null || window === undefined || window === "") return "";
  return window === "-1--1" ? "any time" : window;
}

/** Whether `device` passes the toggle and the summary-bar filter. */
export function passesFleetFilter(device: DeviceView, filter: FleetFilter): boolean {
  if (filter.needsUpdateOnly && !device.needs_update) return false;
  const bar = filter.bar;
  if (!bar) return true;
  switch (bar.field) {
    case "model":
      return device.model === bar.value;
    case "firmware":
      return device.firmware === bar.value && (bar.model === null || device.model === bar.model);
    case "update_status":
      return device.update_status === bar.value;
    case "ota_mode":
      return device.ota_mode === bar.value;
  }
}

export function isFilterActive(filter: FleetFilter): boolean {
  return filter.needsUpdateOnly || filter.bar !== null;
}

/** The class of rows that need an update, so they stand out (see style.css). */
export const NEEDS_UPDATE_CLASS = "needs-update";

/** Whether the row of `device` gets NEEDS_UPDATE_CLASS. */
export function standsOut(device: DeviceView | undefined): boolean {
  return device?.needs_update === true;
}

/** One grid column: its id (the field name the end-to-end tests use), header and cell text. */
export interface FleetColumn {
  id: string;
  header: string;
  text: (d: DeviceView) => string;
  /** Starting width in pixels (the user can resize). */
  width: number;
  /**
   * Shown until the user chooses otherwise: the columns an admin decides on, sized so that
   * they fit the default window (1100 px) beside nothing else; the rest are one click away.
   */
  shownByDefault: boolean;
}

export const FLEET_COLUMNS: readonly FleetColumn[] = [
  { id: "name", header: "Name", text: (d) => d.name ?? "", width: 150, shownByDefault: true },
  { id: "model", header: "Model", text: (d) => d.model, width: 100, shownByDefault: true },
  { id: "firmware", header: "Firmware", text: (d) => d.firmware, width: 100, shownByDefault: true },
  { id: "latest", header: "Latest", text: (d) => d.latest ?? "", width: 95, shownByDefault: true },
  { id: "update_status", header: "Update status", text: (d) => d.update_status, width: 120, shownByDefault: true },
  { id: "ota_mode", header: "OTA mode", text: (d) => d.ota_mode, width: 105, shownByDefault: true },
  { id: "ota_window", header: "OTA window", text: (d) => otaWindowText(d.ota_window), width: 110, shownByDefault: true },
  { id: "connection", header: "Connection", text: (d) => d.connection, width: 110, shownByDefault: true },
  { id: "ota_setting", header: "OTA setting", text: (d) => d.ota_setting, width: 110, shownByDefault: false },
  { id: "needs_update", header: "Needs update", text: (d) => (d.needs_update ? "yes" : "no"), width: 120, shownByDefault: false },
  { id: "serial", header: "Serial", text: (d) => d.serial, width: 130, shownByDefault: false },
  { id: "ip", header: "IP", text: (d) => d.ip ?? "", width: 125, shownByDefault: false },
  { id: "device_id", header: "Device ID", text: (d) => d.device_id, width: 260, shownByDefault: false },
];

/** "250 devices, 80 need an update" (singulars where they apply). */
export function fleetCountText(total: number, needing: number): string {
  const devices = total === 1 ? "1 device" : `${total} devices`;
  const need = needing === 1 ? "1 needs an update" : `${needing} need an update`;
  return `${devices}, ${need}`;
}

export function selectionCountText(n: number): string {
  return `${n} selected`;
}
