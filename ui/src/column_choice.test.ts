import { describe, expect, it } from "vitest";
import { defaultShownColumns, loadShownColumns, saveShownColumns } from "./column_choice";

function memory(initial: string | null = null) {
  let value = initial;
  return {
    getItem: () => value,
    setItem: (_key: string, next: string) => void (value = next),
  };
}

describe("the fleet grid's column choice", () => {
  it("shows the columns an admin decides on by default, and keeps the rest one click away", () => {
    expect(defaultShownColumns()).toEqual([
      "name",
      "model",
      "firmware",
      "latest",
      "update_status",
      "ota_mode",
      "ota_window",
      "connection",
    ]);
    expect(loadShownColumns(memory())).toEqual(defaultShownColumns());
  });

  it("remembers a choice, dropping ids it no longer knows", () => {
    const storage = memory();
    saveShownColumns(["name", "serial", "gone"], storage);
    expect(loadShownColumns(storage)).toEqual(["name", "serial"]);
  });

  it("falls back to the defaults on a broken or empty saved value", () => {
    expect(loadShownColumns(memory("{not json"))).toEqual(defaultShownColumns());
    expect(loadShownColumns(memory("[]"))).toEqual(defaultShownColumns());
    expect(loadShownColumns(memory('{"a":1}'))).toEqual(defaultShownColumns());
  });
});
