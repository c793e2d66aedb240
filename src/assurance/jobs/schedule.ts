import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { addDays, londonLocal, londonToInstant, parseClock } from '../../directory/hours.ts';
import { MINUTE } from '../../time.ts';

/** The London date before `now`'s: daily jobs report on the last whole day. */
export function londonYesterday(now: Date): string {
  return addDays(londonLocal(now).date, -1);
}

/** The instants bounding a London date, as ISO text to compare with stored timestamps: [from, to). */
export function londonDayWindow(date: string): { from: string; to: string } {
  return {
    from: londonToInstant(date, '00:00').toISOString(),
    to: londonToInstant(date, '24:00').toISOString(),
  };
}

/** True once London wall-clock time on `now`'s date has reached `time` ('HH:MM'). */
export function londonTimeReached(now: Date, time: string): boolean {
  return londonLocal(now).minutes >= (parseClock(time) ?? 0);
}

/**
 * Claims (job, period) and does database-only work in the same transaction, so the day's run either
 * happens completely or not at all. On PostgreSQL a second node's insert waits for the first to
 * commit and then finds the row; on SQLite the write lock serialises them. Returns whether this call
 * ran the work.
 */
export async function runOnceInTransaction(
  db: Kysely<Database>,
  job: string,
  period: string,
  now: Date,
  work: (trx: Kysely<Database>) => Promise<Record<string, unknown>>,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('scheduled_runs')
      .values({ job, period, ran_at: now.toISOString(), detail: JSON.stringify({ status: 'running' }) })
      .onConflict((oc) => oc.columns(['job', 'period']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) return false;
    const detail = await work(trx);
    await finish(trx, job, period, detail);
    return true;
  });
}

interface RunState {
  status: 'running' | 'done' | 'failed';
  attempts: number;
}

// A send that fails is tried again a few times, not every sweep; a node that died mid-send loses
// its claim after the lease, so the day's email is not silently lost.
const RETRY_AFTER_MS = 10 * MINUTE;
const LEASE_MS = 5 * MINUTE;
export const MAX_ATTEMPTS = 6;

function stateOf(detail: string): RunState {
  const parsed = JSON.parse(detail) as Partial<RunState>;
  return { status: parsed.status ?? 'done', attempts: parsed.attempts ?? 1 };
}

/**
 * Claims (job, period) for work with an outside effect (an email) that cannot share a transaction:
 * the first claim inserts the row; a failed or abandoned attempt may be claimed again later by a
 * compare-and-set on ran_at. Returns the attempt number when this call holds the claim.
 */
export async function claimRun(
  db: Kysely<Database>,
  job: string,
  period: string,
  now: Date,
): Promise<number | undefined> {
  const at = now.toISOString();
  const inserted = await db
    .insertInto('scheduled_runs')
    .values({ job, period, ran_at: at, detail: JSON.stringify({ status: 'running', attempts: 1 }) })
    .onConflict((oc) => oc.columns(['job', 'period']).doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) return 1;
  const row = await db
    .selectFrom('scheduled_runs')
    .selectAll()
    .where('job', '=', job)
    .where('period', '=', period)
    .executeTakeFirst();
  if (!row) return undefined;
  const state = stateOf(row.detail);
  const waitMs = state.status === 'running' ? LEASE_MS : RETRY_AFTER_MS;
  const due = now.getTime() - Date.parse(row.ran_at) >= waitMs;
  if (state.status === 'done' || state.attempts >= MAX_ATTEMPTS || !due) return undefined;
  const attempts = state.attempts + 1;
  const updated = await db
    .updateTable('scheduled_runs')
    .set({ ran_at: at, detail: JSON.stringify({ status: 'running', attempts }) })
    .where('job', '=', job)
    .where('period', '=', period)
    .where('ran_at', '=', row.ran_at)
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n ? attempts : undefined;
}

/** Whether (job, period) needs no more work from this node: done, or out of attempts. */
export async function isSettled(db: Kysely<Database>, job: string, period: string): Promise<boolean> {
  const row = await db
    .selectFrom('scheduled_runs')
    .select('detail')
    .where('job', '=', job)
    .where('period', '=', period)
    .executeTakeFirst();
  if (!row) return false;
  const state = stateOf(row.detail);
  return state.status === 'done' || (state.status === 'failed' && state.attempts >= MAX_ATTEMPTS);
}

export async function finish(
  db: Kysely<Database>,
  job: string,
  period: string,
  detail: Record<string, unknown>,
): Promise<void> {
  await db
    .updateTable('scheduled_runs')
    .set({ detail: JSON.stringify({ ...detail, status: 'done' }) })
    .where('job', '=', job)
    .where('period', '=', period)
    .execute();
}

export async function fail(
  db: Kysely<Database>,
  job: string,
  period: string,
  attempts: number,
  error: string,
): Promise<void> {
  await db
    .updateTable('scheduled_runs')
    .set({ detail: JSON.stringify({ status: 'failed', attempts, error: error.slice(0, 300) }) })
    .where('job', '=', job)
    .where('period', '=', period)
    .execute();
}
