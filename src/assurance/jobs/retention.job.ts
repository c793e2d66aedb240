import type { Kysely } from 'kysely';
import type { SweepJob } from '../watchdog.ts';
import type { Database } from '../../db/schema.ts';
import { londonLocal } from '../../directory/hours.ts';
import {
  heldPastRetention,
  purgeExpired,
  purgeReviewNotes,
  purgeStaleDrafts,
  purgeSystemEscalationNotes,
} from '../../governance/retention.ts';

export const RETENTION_JOB = 'retention-purge';

/**
 * A first run over years of closed referrals could hold the watchdog for minutes, and deadline
 * sweeps must not wait, so each sweep purges at most this many and the day's run carries on next sweep.
 */
export const PURGES_PER_SWEEP = 100;

interface RunDetail {
  status: 'running' | 'done';
  purged: number;
  escalationNotes: number;
  reviewNotes?: number;
  heldBack?: number;
}

async function readRun(db: Kysely<Database>, period: string): Promise<RunDetail | undefined> {
  const row = await db
    .selectFrom('scheduled_runs')
    .select('detail')
    .where('job', '=', RETENTION_JOB)
    .where('period', '=', period)
    .executeTakeFirst();
  return row ? (JSON.parse(row.detail) as RunDetail) : undefined;
}

async function writeRun(db: Kysely<Database>, period: string, now: Date, detail: RunDetail): Promise<void> {
  const values = { job: RETENTION_JOB, period, ran_at: now.toISOString(), detail: JSON.stringify(detail) };
  await db
    .insertInto('scheduled_runs')
    .values(values)
    .onConflict((oc) =>
      oc.columns(['job', 'period']).doUpdateSet({ ran_at: values.ran_at, detail: values.detail }),
    )
    .execute();
}

/**
 * Every sweep: deletes crew drafts unsaved for 72 hours. Once per London day: removes the personal data of referrals closed longer than RETENTION_PERIOD
 * ago and not on legal hold, and records the run (counts only) in scheduled_runs. Each purge is
 * conditional and idempotent, so a crashed or repeated run is harmless.
 */
export function retentionJob(perSweep = PURGES_PER_SWEEP): SweepJob {
  let settled: string | undefined;
  return async (ctx, now) => {
    // Every sweep, not once a day: a draft is due 72 hours after its last save, to the minute.
    await purgeStaleDrafts(ctx, now);
    const period = londonLocal(now).date;
    if (settled === period) return false;
    const db = ctx.db.kysely;
    const run = (await readRun(db, period)) ?? { status: 'running', purged: 0, escalationNotes: 0 };
    if (run.status === 'done') {
      settled = period;
      return false;
    }
    const report = await purgeExpired(ctx, now, perSweep);
    const next: RunDetail = { ...run, purged: run.purged + report.purged };
    if (!report.more) {
      next.status = 'done';
      next.escalationNotes += await purgeSystemEscalationNotes(ctx, now);
      next.reviewNotes = (run.reviewNotes ?? 0) + (await purgeReviewNotes(ctx, now));
      next.heldBack = await heldPastRetention(ctx, now);
      settled = period;
    }
    await writeRun(db, period, now, next);
    return next;
  };
}
