// Spreadsheet-safe CSV cells: device names and other values come from the printers and the
// cloud, so a cell that a spreadsheet would read as a formula (=, +, -, @, or a leading tab or
// carriage return) is written with a leading apostrophe, which spreadsheets show as text.

const FORMULA_START = /^[=+\-@\t\r]/;

/** `text` as a CSV cell no spreadsheet runs as a formula. */
export function spreadsheetSafe(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}
