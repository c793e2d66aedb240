import type { DeadlinePolicy } from '../config.ts';
import type { BankHoliday, OpeningHours, Team } from './directory.types.ts';
import type { Urgency } from './router.ts';
import {
  addDays,
  effectiveHours,
  isBankHoliday,
  londonLocal,
  londonToInstant,
  parseClock,
  weekdayOf,
} from './hours.ts';

// Bank holidays and closures rarely run past a fortnight; a year bounds the search on odd data.
const SEARCH_DAYS = 366;

export function sendBy(receivedAt: Date, p: DeadlinePolicy): Date {
  return new Date(receivedAt.getTime() + p.sendByMs);
}

export function triageBy(receivedAt: Date, p: DeadlinePolicy): Date {
  return new Date(receivedAt.getTime() + p.triageByMs);
}

function lastClosing(ranges: [string, string][] | undefined): string | undefined {
  let latest: { time: string; minutes: number } | undefined;
  for (const [, end] of ranges ?? []) {
    const minutes = parseClock(end);
    if (minutes !== null && (latest === undefined || minutes > latest.minutes)) {
      latest = { time: end, minutes };
    }
  }
  return latest?.time;
}

/** Close of the team's first working day strictly after the London date of receipt. */
export function nextWorkingDayEnd(
  hours: OpeningHours,
  bankHolidays: readonly BankHoliday[],
  receivedAt: Date,
): Date {
  const received = londonLocal(receivedAt).date;
  if (hours.always !== true) {
    for (let day = 1; day <= SEARCH_DAYS; day++) {
      const date = addDays(received, day);
      if (hours.openOnBankHolidays !== true && isBankHoliday(bankHolidays, date)) continue;
      const close = lastClosing(hours.weekly?.[weekdayOf(date)]);
      if (close !== undefined) return londonToInstant(date, close);
    }
  }
  // Always open, or never open at all: a referral still needs a deadline, so end of the next day.
  return londonToInstant(addDays(received, 1), '24:00');
}

export function ackBy(
  receivedAt: Date,
  urgency: Urgency,
  team: Team,
  bankHolidays: readonly BankHoliday[],
  p: DeadlinePolicy,
): Date {
  const window = p.ackBy[urgency];
  if (window === 'next-working-day') return nextWorkingDayEnd(effectiveHours(team), bankHolidays, receivedAt);
  return new Date(receivedAt.getTime() + window);
}

export function reminderAt(receivedAt: Date, ackByAt: Date, p: DeadlinePolicy): Date {
  const start = receivedAt.getTime();
  const end = ackByAt.getTime();
  // A window shorter than reminderBefore would put the reminder before receipt; mid-window still helps.
  return new Date(Math.max(end - p.reminderBeforeMs, start + Math.floor((end - start) / 2)));
}

export interface AddedRouteDeadline {
  ackBy: Date;
  reminderAt: Date;
  /** The deadline counted from receipt, whether or not it still stands. */
  fromReceipt: Date;
  /** True when that had passed, so the team's window runs from now. */
  fromNow: boolean;
}

/**
 * A route added after receipt (routed by hand, redirected, out-of-hours cover). The person at risk
 * has waited since receipt, so the team inherits the deadline from receipt while it is still ahead;
 * once it has passed the window starts again from now, since a deadline already behind us would
 * alert the team's secondary address before its primary had even been sent.
 */
export function addedRouteDeadline(
  receivedAt: Date,
  now: Date,
  urgency: Urgency,
  team: Team,
  bankHolidays: readonly BankHoliday[],
  p: DeadlinePolicy,
): AddedRouteDeadline {
  const fromReceipt = ackBy(receivedAt, urgency, team, bankHolidays, p);
  const fromNow = fromReceipt <= now;
  const due = fromNow ? ackBy(now, urgency, team, bankHolidays, p) : fromReceipt;
  // The team's window opens now, so its reminder is placed within that window.
  return { ackBy: due, reminderAt: reminderAt(now, due, p), fromReceipt, fromNow };
}
