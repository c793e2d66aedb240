import type { RelayContext } from '../../context.ts';
import { addDays, londonLocal } from '../../directory/hours.ts';
import { openEscalation, resolveCleared } from '../../records/escalation.service.ts';
import type { SweepJob } from '../watchdog.ts';
import { runOnceInTransaction } from './schedule.ts';

export const DIRECTORY_STALE_JOB = 'directory-stale';
/** A list that runs out within this many days is an alarm: time for someone to import the next year's. */
export const BANK_HOLIDAY_HORIZON_DAYS = 90;

/** The last bank holiday the current directory knows of, or null for an empty list. */
async function listEnd(ctx: RelayContext): Promise<{ end: string | null; version: number } | undefined> {
  const current = await ctx.directories.current();
  if (!current) return undefined;
  const dates = current.directory.bankHolidays.map((h) => h.date).sort();
  return { end: dates.at(-1) ?? null, version: current.versionId };
}

/** True when the list ends before the horizon: after that date every bank holiday looks like a working day. */
function isStale(end: string | null, today: string): boolean {
  return end === null || end < addDays(today, BANK_HOLIDAY_HORIZON_DAYS);
}

/**
 * Once per London day: a bank-holiday list that ends within 90 days opens a `directory-stale`
 * escalation, because past its end day teams would be taken as open on bank holidays and urgent
 * referrals would not go out of hours. On every sweep, an open one whose list has since been
 * extended is resolved by Relay, so an import clears the alarm without waiting for the next day.
 */
export function directoryStaleJob(): SweepJob {
  return async (ctx, now) => {
    const today = londonLocal(now).date;
    const list = await listEnd(ctx);
    if (!list) return false;
    if (!isStale(list.end, today))
      return resolveCleared(ctx.db.kysely, 'directory-stale', extendedNote(list.end), now);
    return runOnceInTransaction(ctx.db.kysely, DIRECTORY_STALE_JOB, today, now, async (trx) => {
      const detail = { bankHolidaysEnd: list.end, directoryVersion: list.version };
      const opened = await openEscalation(
        trx,
        {
          referralId: null,
          teamId: null,
          reason: 'directory-stale',
          detail,
          // A list that is extended, but not far enough, is a new alarm.
          occasion: list.end ?? 'empty',
        },
        now,
      );
      return { ...detail, opened };
    });
  };
}

function extendedNote(end: string | null): string {
  return `The directory's bank-holiday list now runs to ${end ?? 'an unknown date'}.`;
}
