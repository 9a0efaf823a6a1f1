// Which of the fleet grid's columns the user chose to see, remembered between runs (in the web
// view's localStorage: a view preference, not a setting of the profile). Unknown or missing
// saved ids fall back to the defaults, so a column added later still shows when it should.
import { FLEET_COLUMNS } from "./fleet_filters";

const STORAGE_KEY = "mcp-rmm.fleet.shown-columns";

/** The ids of the columns shown by default, in grid order. */
export function defaultShownColumns(): string[] {
  return FLEET_COLUMNS.filter((c) => c.shownByDefault).map((c) => c.id);
}

/** The saved choice, or the defaults when nothing (or nothing usable) was saved. */
export function loadShownColumns(storage: Pick<Storage, "getItem"> = localStorage): string[] {
  let saved: unknown = null;
  try {
    saved = JSON.parse(storage.getItem(STORAGE_KEY) ?? "null");
  } catch {
    saved = null;
  }
  if (!Array.isArray(saved)) return defaultShownColumns();
  const known = new Set(FLEET_COLUMNS.map((c) => c.id));
  const ids = saved.filter((id): id is string => typeof id === "string" && known.has(id));
  return ids.length > 0 ? ids : defaultShownColumns();
}

export function saveShownColumns(ids: readonly string[], storage: Pick<Storage, "setItem"> = localStorage): void {
  try {
    storage.setItem(STORAGE_KEY, JSON.stringify(ids));
  } catch {
    // A full or disabled storage only means the choice is not remembered.
  }
}
