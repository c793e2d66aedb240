import type { BankHoliday, OpeningHours, Team, Weekday } from './directory.types.ts';
import { WEEKDAYS } from './directory.types.ts';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

// hourCycle h23, because en-GB with hour12 false can print midnight as "24".
const LONDON = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  weekday: 'short',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

export interface LondonLocal {
  /** YYYY-MM-DD */
  date: string;
  weekday: Weekday;
  /** Minutes since local midnight, 0–1439. */
  minutes: number;
}

export function londonLocal(instant: Date): LondonLocal {
  // formatToParts is slow and intake asks about the same few minutes many times (routing, deadlines).
  const minute = Math.floor(instant.getTime() / MINUTE_MS);
  const known = RECENT.get(minute);
  if (known) return known;
  const parts: Record<string, string> = {};
  for (const part of LONDON.formatToParts(instant)) parts[part.type] = part.value;
  const local: LondonLocal = {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    weekday: (parts.weekday ?? '').toLowerCase().slice(0, 3) as Weekday,
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
  };
  if (RECENT.size >= 1000) RECENT.clear();
  RECENT.set(minute, Object.freeze(local));
  return local;
}

/** London wall-clock readings by minute since the epoch (a minute reads the same throughout). */
const RECENT = new Map<number, LondonLocal>();

/** 'HH:MM' → minutes since midnight; '24:00' → 1440; anything else → null. */
export function parseClock(time: string): number | null {
  const m = /^([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(time);
  if (m) return Number(m[1]) * 60 + Number(m[2]);
  return time === '24:00' ? 1440 : null;
}

export function isValidIsoDate(date: string): boolean {
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(date)) return false;
  const ms = Date.parse(`${date}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === date;
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

export function weekdayOf(date: string): Weekday {
  const sundayFirst = new Date(`${date}T00:00:00Z`).getUTCDay();
  return WEEKDAYS[(sundayFirst + 6) % 7] ?? 'mon';
}

function offsetMinutes(instantMs: number): number {
  const local = londonLocal(new Date(instantMs));
  const wallMs = Date.parse(`${local.date}T00:00:00Z`) + local.minutes * MINUTE_MS;
  return Math.round((wallMs - Math.floor(instantMs / MINUTE_MS) * MINUTE_MS) / MINUTE_MS);
}

/**
 * The instant at which London wall-clock time reads `time` on `date` ('24:00' is the next midnight).
 * Clock changes: a time skipped in spring is read with the winter offset, so 01:30 becomes 02:30 BST;
 * a time repeated in autumn takes the earlier (BST) instant, so a deadline is never later than meant.
 */
export function londonToInstant(date: string, time: string): Date {
  const minutes = parseClock(time);
  if (!isValidIsoDate(date) || minutes === null) {
    throw new RangeError(`Invalid London local time: "${date}" "${time}"`);
  }
  const wallMs = Date.parse(`${date}T00:00:00Z`) + minutes * MINUTE_MS;
  const before = offsetMinutes(wallMs - DAY_MS);
  const after = offsetMinutes(wallMs + DAY_MS);
  const valid = [before, after]
    .map((offset) => ({ offset, at: wallMs - offset * MINUTE_MS }))
    .filter(({ offset, at }) => offsetMinutes(at) === offset)
    .map(({ at }) => at);
  return new Date(valid.length > 0 ? Math.min(...valid) : wallMs - before * MINUTE_MS);
}

export function isBankHoliday(bankHolidays: readonly BankHoliday[], date: string): boolean {
  return bankHolidays.some((holiday) => holiday.date === date);
}

function withinRange(minutes: number, [start, end]: [string, string]): boolean {
  const from = parseClock(start);
  const to = parseClock(end);
  return from !== null && to !== null && minutes >= from && minutes < to;
}

export function isOpen(hours: OpeningHours, bankHolidays: readonly BankHoliday[], instant: Date): boolean {
  if (hours.always === true) return true;
  const local = londonLocal(instant);
  if (hours.openOnBankHolidays !== true && isBankHoliday(bankHolidays, local.date)) return false;
  return (hours.weekly?.[local.weekday] ?? []).some((range) => withinRange(local.minutes, range));
}

function hasWeeklyHours(hours: OpeningHours): boolean {
  return WEEKDAYS.some((day) => (hours.weekly?.[day]?.length ?? 0) > 0);
}

/** An out-of-hours team with no weekly schedule is the emergency duty team: it never closes. */
export function effectiveHours(team: Team): OpeningHours {
  if (team.kind === 'out-of-hours' && team.hours.always !== true && !hasWeeklyHours(team.hours)) {
    return { ...team.hours, always: true };
  }
  return team.hours;
}

export function isTeamOpen(team: Team, bankHolidays: readonly BankHoliday[], instant: Date): boolean {
  return isOpen(effectiveHours(team), bankHolidays, instant);
}
