// Tests of the time-zone text and the datetime conversions of the schedule form.
import { describe, expect, it } from "vitest";
import {
  executeStamp,
  formatInstant,
  offsetText,
  parseOffset,
  systemOffsetText,
  wallClockToUnixMs,
} from "./time_zone";

describe("time zone offsets", () => {
  it("writes offsets as rmm-core reads them", () => {
    expect(offsetText(60)).toBe("UTC+01:00");
    expect(offsetText(-300)).toBe("UTC-05:00");
    expect(offsetText(0)).toBe("UTC+00:00");
    expect(offsetText(330)).toBe("UTC+05:30");
    expect(offsetText(-570)).toBe("UTC-09:30");
  });

  it("takes the system offset from the date's getTimezoneOffset (minutes west)", () => {
    const fakeDate = { getTimezoneOffset: () => -120 } as Date;
    expect(systemOffsetText(fakeDate)).toBe("UTC+02:00");
    const west = { getTimezoneOffset: () => 300 } as Date;
    expect(systemOffsetText(west)).toBe("UTC-05:00");
  });

  it("parses only UTC±hh:mm", () => {
    expect(parseOffset("UTC+01:00")).toBe(60);
    expect(parseOffset("UTC-05:30")).toBe(-330);
    expect(parseOffset(" UTC+00:00 ")).toBe(0);
    expect(parseOffset("Europe/Paris")).toBeNull();
    expect(parseOffset("UTC+1")).toBeNull();
    expect(parseOffset("UTC+15:00")).toBeNull();
    expect(parseOffset("UTC+01:60")).toBeNull();
  });
});

describe("datetime conversions", () => {
  it("reads the transfer wall-clock time in the chosen offset", () => {
    // 14:30 at UTC+01:00 is 13:30 UTC.
    expect(wallClockToUnixMs("2026-12-01T14:30", 60)).toBe(Date.UTC(2026, 11, 1, 13, 30));
    expect(wallClockToUnixMs("2026-12-01T14:30", -300)).toBe(Date.UTC(2026, 11, 1, 19, 30));
    expect(wallClockToUnixMs("2026-12-01T14:30:00", 0)).toBe(Date.UTC(2026, 11, 1, 14, 30));
  });

  it("sends 0 for an empty or malformed transfer time", () => {
    expect(wallClockToUnixMs("", 60)).toBe(0);
    expect(wallClockToUnixMs("tomorrow", 60)).toBe(0);
  });

  it("writes the execute time as typed, YYYYMMDDHHMM", () => {
    expect(executeStamp("2026-03-07T05:09")).toBe("202603070509");
    expect(executeStamp("")).toBe("");
    expect(executeStamp("2026-03-07")).toBe("");
  });

  it("formats instants in a given zone", () => {
    const text = formatInstant(Date.UTC(2026, 0, 2, 12, 0), "UTC");
    expect(text).toMatch(/2026/);
    expect(text).toMatch(/12:00|12:00 PM/);
  });
});
