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
