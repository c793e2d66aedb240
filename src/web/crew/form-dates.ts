/**
 * Dates and times as crews type them (day, month and year boxes; a clock time) turned into the
 * body's YYYY-MM-DD and ISO 8601 with offset. Crews work in England, so times are London time.
 */

export type DateParts = { day: string; month: string; year: string };
export type Parsed<T> = { value: T } | { problem: string } | { empty: true };

const PART_NAMES = ['day', 'month', 'year'] as const;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** "12", "4", "1939" → "1939-04-12"; names the missing parts the way the NHS date pattern does. */
export function parseDateParts(parts: DateParts, name: string): Parsed<string> {
  const trimmed = PART_NAMES.map((p) => parts[p].trim());
  if (trimmed.every((p) => p === '')) return { empty: true };
  const missing = PART_NAMES.filter((_, i) => trimmed[i] === '');
  if (missing.length > 0) return { problem: `${name} must include a ${missing.join(' and ')}` };
  if (!trimmed.every((p) => /^\d+$/.test(p))) return { problem: `${name} must be a real date` };
  const [day, month, year] = trimmed.map(Number) as [number, number, number];
  if (String(year).length !== 4) return { problem: `${name} must include a 4-digit year, for example 1984` };
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return { problem: `${name} must be a real date` };
  }
  return { value: `${year}-${pad(month)}-${pad(day)}` };
}

/** "14:30", "14.30", "1430" or "9:05" → "14:30"; a 24-hour clock, as crews record call times. */
export function parseTime(text: string, name: string): Parsed<string> {
  const compact = text.replace(/\s+/g, '');
  if (compact === '') return { empty: true };
  const match = /^(\d{1,2})[:.]?(\d{2})$/.exec(compact);
  const hours = Number(match?.[1]);
  const minutes = Number(match?.[2]);
  if (!match || hours > 23 || minutes > 59) {
    return { problem: `${name} must be a real time on the 24-hour clock, for example 14:30` };
  }
  return { value: `${pad(hours)}:${pad(minutes)}` };
}

const LONDON = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
});

/** Minutes London is ahead of UTC at that instant: 0 in winter, 60 in summer. */
function londonOffsetMinutes(instant: number): number {
  const parts = Object.fromEntries(LONDON.formatToParts(instant).map((p) => [p.type, Number(p.value)]));
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!);
  return Math.round((wall - Math.floor(instant / 60_000) * 60_000) / 60_000);
}

/**
 * A London wall-clock date and time as ISO 8601 with its offset, e.g. "2026-06-25T10:15:00+01:00".
 * The offset is re-checked at the candidate instant, so times near a clock change get the offset in
 * force then; in the repeated hour of October the later (GMT) reading is taken.
 */
export function londonDateTime(date: string, time: string): string {
  const wall = Date.parse(`${date}T${time}:00Z`);
  const guess = londonOffsetMinutes(wall);
  const offset = londonOffsetMinutes(wall - guess * 60_000);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${date}T${time}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
