/** Durations with units, so that `15 * SECOND` reads as what it means. */
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Timestamps are stored as ISO 8601 UTC text on both engines, which sorts and compares correctly. */
export function iso(date: Date): string {
  return date.toISOString();
}

const LONDON = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

/** "Wed, 25 Nov 2026, 10:15" in London time: how a social worker reads a time or a deadline. */
export function formatLondon(iso: string): string {
  return LONDON.format(new Date(iso));
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** '90s', '5m', '4h', '2d', '250ms' → milliseconds. */
export function parseDuration(s: string): number {
  const m = /^([0-9]+)(ms|s|m|h|d)$/.exec(s);
  const ms = m ? Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? NaN) : NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new Error(
      `Invalid duration ${JSON.stringify(s)}: expected a whole number and a unit ms, s, m, h or d (e.g. 90s, 5m, 4h)`,
    );
  }
  return ms;
}
