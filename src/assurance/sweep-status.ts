import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import { databaseNowMs, nowMsSql } from '../db/server-time.ts';
import type { ErrorStep, SweepError } from './watchdog.ts';

const NAME = 'sweep';
/** A failure reason is a step and an error message; kept short for the readiness document. */
const MAX_REASON = 200;

/** Adds a sweep's errors to the running totals per step. */
export async function countSweepErrors(db: Kysely<Database>, errors: readonly SweepError[]): Promise<void> {
  const perStep = new Map<ErrorStep, number>();
  for (const e of errors) perStep.set(e.step, (perStep.get(e.step) ?? 0) + 1);
  for (const [step, n] of perStep) {
    await db
      .insertInto('sweep_errors')
      .values({ step, total: n })
      .onConflict((oc) =>
        oc.column('step').doUpdateSet((eb) => ({ total: eb('sweep_errors.total', '+', n) })),
      )
      .execute();
  }
}

/** Records that a sweep completed now (by the database's clock on PostgreSQL). */
export async function recordSweepCompleted(
  db: Kysely<Database>,
  clock: Clock,
  node: string,
  errors: number,
): Promise<void> {
  const values = { completed_ms: nowMsSql(db, clock), completed_by: node, completed_errors: errors };
  await db
    .insertInto('sweep_status')
    .values({ name: NAME, ...values })
    .onConflict((oc) => oc.column('name').doUpdateSet(values))
    .execute();
}

/** Records that a sweep failed as a whole (a step could not even look), with a short reason. */
export async function recordSweepFailed(
  db: Kysely<Database>,
  clock: Clock,
  node: string,
  reason: string,
): Promise<void> {
  const values = { failed_ms: nowMsSql(db, clock), failed_by: node, failure: reason.slice(0, MAX_REASON) };
  await db
    .insertInto('sweep_status')
    .values({ name: NAME, ...values })
    .onConflict((oc) => oc.column('name').doUpdateSet(values))
    .execute();
}

export interface SweepStatus {
  completedMs: number | null;
  completedBy: string | null;
  completedErrors: number;
  failedMs: number | null;
  failedBy: string | null;
  failure: string | null;
  /** Now, by the same clock as the times above. */
  nowMs: number;
}

export async function readSweepStatus(db: Kysely<Database>, clock: Clock): Promise<SweepStatus> {
  const [row, nowMs] = await Promise.all([
    db.selectFrom('sweep_status').selectAll().where('name', '=', NAME).executeTakeFirst(),
    databaseNowMs(db, clock),
  ]);
  return {
    completedMs: row?.completed_ms ?? null,
    completedBy: row?.completed_by ?? null,
    completedErrors: row?.completed_errors ?? 0,
    failedMs: row?.failed_ms ?? null,
    failedBy: row?.failed_by ?? null,
    failure: row?.failure ?? null,
    nowMs,
  };
}

/** Errors counted since installation, per step. */
export async function readSweepErrors(db: Kysely<Database>): Promise<{ step: string; total: number }[]> {
  return db.selectFrom('sweep_errors').select(['step', 'total']).execute();
}
