// Time zones as rmm-core takes them ("UTC+01:00"), and the conversions from what the user types
// in a datetime-local field to what a schedule request carries.

/** "UTC+01:00" for 60 minutes east of UTC, "UTC-05:00" for 300 west, "UTC+00:00" for UTC. */
export function offsetText(minutesEast: number): string {
  const sign = minutesEast < 0 ? "-" : "+";
  const abs = Math.abs(Math.round(minutesEast));
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `UTC${sign}${hh}:${mm}`;
}

/** The system's offset at `at` (daylight saving moves it, hence the date). */
export function systemOffsetText(at: Date = new Date()): string {
  // getTimezoneOffset counts minutes *west* of UTC.
  return offsetText(-at.getTimezoneOffset());
}

/** Minutes east of UTC for "UTC±hh:mm", or null when the text is not in that form. */
export function parseOffset(text: string): number | null {
  const m = /^UTC([+-])(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const hours = Number(m[2]);
  const minutes = Number(m[3]);
  if (hours > 14 || minutes > 59) return null;
  return (m[1] === "-" ? -1 : 1) * (hours * 60 + minutes);
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

/** The parts of a datetime-local value ("2026-12-01T14:30", seconds optional), or null. */
export function parseWallClock(value: string): WallClock | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?$/.exec(value.trim());
  if (!m) return null;
  return {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4]),
    minute: Number(m[5]),
  };
}

/**
 * Unix milliseconds of the wall-clock time `value` read in a zone `minutesEast` of UTC; 0 when
 * `value` is empty or not a datetime-local value (rmm-core then says what is missing).
 */
export function wallClockToUnixMs(value: string, minutesEast: number): number {
  const w = parseWallClock(value);
  if (!w) return 0;
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute) - minutesEast * 60_000;
}

/** "YYYYMMDDHHMM" of the wall-clock time as typed; "" when empty or malformed. */
export function executeStamp(value: string): string {
  const w = parseWallClock(value);
  if (!w) return "";
  const two = (n: number) => String(n).padStart(2, "0");
  return `${w.year}${two(w.month)}${two(w.day)}${two(w.hour)}${two(w.minute)}`;
}

/** An instant in the user's own time zone (or `timeZone`, an IANA name, for tests). */
export function formatInstant(ms: number, timeZone?: string): string {
  const options: Intl.DateTimeFormatOptions = { dateStyle: "medium", timeStyle: "short" };
  if (timeZone) options.timeZone = timeZone;
  return new Intl.DateTimeFormat(undefined, options).format(new Date(ms));
}
