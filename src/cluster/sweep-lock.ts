import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/**
 * Relay's advisory-lock namespace ('RELY'). The second key is a hash of the schema, so Relays that
 * share one database in different schemas (the tests do) never wait on each other.
 */
export const SWEEP_LOCK_CLASS = 0x52454c59;

/**
 * Runs `work` only if no other node is sweeping, and says whether it ran. On PostgreSQL the lock is
 * `pg_try_advisory_xact_lock` in a transaction held open around the work (which runs on other pool
 * connections): a node that dies loses its connection, its transaction and so the lock, and any
 * other node takes it on its next tick — within one interval. A transaction lock, not a session
 * lock, so nothing stays checked out between ticks, and `idle_in_transaction_session_timeout`
 * bounds how long a frozen node can keep it. SQLite has one process, so there is nothing to lock.
 *
 * The lock saves duplicate work; it is not what keeps sweeps correct. Every sweep step is
 * idempotent, so the brief overlap when a holder loses its connection mid-sweep is harmless.
 */
export async function withSweepLock(db: Db, work: () => Promise<void>): Promise<boolean> {
  if (db.dialect !== 'postgres') {
    await work();
    return true;
  }
  let ran = false;
  let finished = false;
  try {
    await db.kysely.transaction().execute(async (trx) => {
      const { rows } = await sql<{ locked: boolean }>`
        select pg_try_advisory_xact_lock(${SWEEP_LOCK_CLASS}, hashtext(current_schema())) as locked
      `.execute(trx);
      if (rows[0]?.locked !== true) return;
      ran = true;
      await work();
      finished = true;
    });
  } catch (error) {
    // Losing the lock's connection after the work is done undoes nothing: the sweep committed.
    if (!finished) throw error;
  }
  return ran;
}

/** Server process ids of the sessions holding this schema's sweep lock now (for tests and operators). */
export async function sweepLockHolders(db: Db): Promise<number[]> {
  if (db.dialect !== 'postgres') return [];
  const { rows } = await sql<{ pid: number }>`
    select pid from pg_locks
    where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())
      and classid = ${SWEEP_LOCK_CLASS}::bigint::oid
      and objid = (hashtext(current_schema())::bigint & 4294967295)::oid
      and objsubid = 2
  `.execute(db.kysely);
  return rows.map((r) => r.pid);
}
