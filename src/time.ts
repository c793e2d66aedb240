/** Durations with units, so that `15 * SECOND` reads as what it means. */
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Timestamps are stored as ISO 8601 UTC text on both engines, which sorts and compares correctly. */
export function iso(date: Date): string {
  return date.toISOString();
}
