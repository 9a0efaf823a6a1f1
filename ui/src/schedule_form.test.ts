// The times a new schedule starts from: the transfer at a full hour at least an hour ahead,
// the update at the next 02:00 at least an hour after the transfer.
import { describe, expect, it } from "vitest";
import { defaultTimes } from "./schedule_form";

describe("defaultTimes", () => {
  it("sends the file at a full hour ahead and updates at the night's 02:00", () => {
    expect(defaultTimes(new Date(2026, 11, 4, 19, 40))).toEqual({ transfer: "2026-12-04T21:00", execute: "2026-12-05T02:00" });
  });
  it("moves the update to the next night when 02:00 is too close", () => {
    expect(defaultTimes(new Date(2026, 11, 4, 0, 30))).toEqual({ transfer: "2026-12-04T02:00", execute: "2026-12-05T02:00" });
    expect(defaultTimes(new Date(2026, 11, 3, 23, 10))).toEqual({ transfer: "2026-12-04T01:00", execute: "2026-12-04T02:00" });
  });
});
