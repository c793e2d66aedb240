import type { Kysely } from 'kysely';
import type { RelayContext } from '../../context.ts';
import type { Database } from '../../db/schema.ts';
import { addDays } from '../../directory/hours.ts';
import type { SweepJob } from '../watchdog.ts';
import { openEscalation } from '../../records/escalation.service.ts';
import { londonDayWindow, londonYesterday, runOnceInTransaction } from './schedule.ts';

export const VOLUME_JOB = 'volume-check';
const WEEKS = 4;

export async function referralsReceivedOn(db: Kysely<Database>, date: string): Promise<number> {
  const { from, to } = londonDayWindow(date);
  const row = await db
    .selectFrom('referrals')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('received_at', '>=', from)
    .where('received_at', '<', to)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface VolumeCheck {
  date: string;
  count: number;
  average: number;
  previous: { date: string; count: number }[];
  dropped: boolean;
}

/** Yesterday against the same weekday of the four weeks before: weekday patterns differ, weeks less so. */
export async function checkVolume(
  ctx: RelayContext,
  db: Kysely<Database>,
  date: string,
): Promise<VolumeCheck> {
  const count = await referralsReceivedOn(db, date);
  const previous = [];
  for (let week = 1; week <= WEEKS; week++) {
    const day = addDays(date, -7 * week);
    previous.push({ date: day, count: await referralsReceivedOn(db, day) });
  }
  const average = previous.reduce((sum, p) => sum + p.count, 0) / WEEKS;
  const { volumeMinAverage, volumeDropRatio } = ctx.config.assurance;
  const dropped = average >= volumeMinAverage && count < volumeDropRatio * average;
  return { date, count, average, previous, dropped };
}

/**
 * Once per London day: a day with far fewer referrals than usual raises a system escalation, because
 * a source system that stopped sending looks exactly like a quiet day from inside Relay.
 */
export function volumeJob(): SweepJob {
  let settled: string | undefined;
  return async (ctx, now) => {
    const date = londonYesterday(now);
    if (settled === date) return false;
    const ran = await runOnceInTransaction(ctx.db.kysely, VOLUME_JOB, date, now, async (trx) => {
      const check = await checkVolume(ctx, trx, date);
      const detail = { date, count: check.count, average: check.average };
      if (check.dropped) {
        await openEscalation(
          trx,
          { referralId: null, teamId: null, reason: 'volume-drop', detail, occasion: date },
          now,
        );
      }
      return { ...detail, dropped: check.dropped };
    });
    settled = date;
    return ran;
  };
}
