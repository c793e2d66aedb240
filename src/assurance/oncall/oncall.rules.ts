import { isValidIsoDate, londonToInstant } from '../../directory/hours.ts';
import type { FieldIssue } from '../../errors.ts';
import { DAY } from '../../time.ts';

/** How far ahead a hole in the rota is an alarm (`rota-gap`): a week gives time to find cover. */
export const GAP_HORIZON_MS = 7 * DAY;
/** An entry longer than this is almost certainly a typo (a year for a month), so it is refused. */
export const MAX_SHIFT_MS = 31 * DAY;

const EMAIL = /^[^\s@<>(),;:"[\]]+@[^\s@<>(),;:"[\]]+\.[^\s@<>(),;:"[\]]+$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const LONDON_LOCAL = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})$/;

export const TIME_HINT = 'a time like 2026-12-07 09:00 (London) or 2026-12-07T09:00:00Z';

/**
 * A rota time: an ISO 8601 instant with its offset, or London wall-clock time (how the team plans
 * its shifts), which stays right across the clock changes. Undefined when it is neither.
 */
export function parseRotaTime(raw: string): Date | undefined {
  const text = raw.trim();
  if (ISO_INSTANT.test(text)) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : new Date(ms);
  }
  const local = LONDON_LOCAL.exec(text);
  if (!local || !isValidIsoDate(local[1] ?? '')) return undefined;
  try {
    return londonToInstant(local[1] as string, local[2] as string);
  } catch {
    return undefined;
  }
}

export function isWellFormedEmail(email: string): boolean {
  return email.length <= 254 && EMAIL.test(email);
}

export interface ShiftInput {
  email: string;
  from: string;
  to: string;
}

export interface ValidShift {
  email: string;
  from: Date;
  to: Date;
}

/** Every problem with a new rota entry at once, by field; none when it is valid. */
export function validateShift(input: ShiftInput, now: Date): { shift?: ValidShift; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const email = input.email.trim().toLowerCase();
  if (!email) issues.push({ path: 'email', message: 'Enter the email address of the person on call' });
  else if (!isWellFormedEmail(email))
    issues.push({
      path: 'email',
      message: 'Enter an email address in the correct format, like name@example.org',
    });
  const from = input.from.trim() ? parseRotaTime(input.from) : undefined;
  const to = input.to.trim() ? parseRotaTime(input.to) : undefined;
  if (!input.from.trim()) issues.push({ path: 'from', message: 'Enter when the shift starts' });
  else if (!from) issues.push({ path: 'from', message: `Enter when the shift starts as ${TIME_HINT}` });
  if (!input.to.trim()) issues.push({ path: 'to', message: 'Enter when the shift ends' });
  else if (!to) issues.push({ path: 'to', message: `Enter when the shift ends as ${TIME_HINT}` });
  if (from && to) {
    if (to.getTime() <= from.getTime())
      issues.push({ path: 'to', message: 'The shift must end after it starts' });
    else if (to.getTime() <= now.getTime())
      issues.push({ path: 'to', message: 'The shift must end in the future' });
    else if (to.getTime() - from.getTime() > MAX_SHIFT_MS)
      issues.push({ path: 'to', message: 'A shift can be at most 31 days long' });
  }
  if (issues.length > 0 || !from || !to) return { issues };
  return { shift: { email, from, to }, issues };
}

export interface Interval {
  from: Date;
  to: Date;
}

/** The parts of [from, to) that no entry covers, in order. Entries may come in any order. */
export function findGaps(entries: readonly Interval[], from: Date, to: Date): Interval[] {
  const sorted = [...entries].sort((a, b) => a.from.getTime() - b.from.getTime());
  const gaps: Interval[] = [];
  let cursor = from.getTime();
  for (const entry of sorted) {
    if (entry.to.getTime() <= cursor) continue;
    if (entry.from.getTime() >= to.getTime()) break;
    if (entry.from.getTime() > cursor) gaps.push({ from: new Date(cursor), to: entry.from });
    cursor = Math.max(cursor, entry.to.getTime());
  }
  if (cursor < to.getTime()) gaps.push({ from: new Date(cursor), to });
  return gaps;
}

/** Half-open intervals overlap when each starts before the other ends; back-to-back shifts do not. */
export function overlaps(a: Interval, b: Interval): boolean {
  return a.from.getTime() < b.to.getTime() && b.from.getTime() < a.to.getTime();
}
