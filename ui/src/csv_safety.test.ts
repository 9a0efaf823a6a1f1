// Issue 13, finding 6: CSV export left cells starting with =, +, -, @ as they were.
import { describe, expect, it } from "vitest";
import { spreadsheetSafe } from "./csv_safety";

describe("spreadsheetSafe", () => {
  it("quotes what a spreadsheet would run as a formula", () => {
    for (const hostile of ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]) {
      expect(spreadsheetSafe(hostile)).toBe(`'${hostile}`);
    }
  });

  it("leaves ordinary values as they are", () => {
    for (const plain of ["MX-3071", "Printer 1", "2.0", "", "a=b", "offline"]) {
      expect(spreadsheetSafe(plain)).toBe(plain);
    }
  });
});
