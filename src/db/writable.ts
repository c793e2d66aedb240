import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Database } from './schema.ts';

// PostgreSQL: a read-only transaction (a replica, default_transaction_read_only), a disk that is
// full, and a role that may read but not write.
const PG_NOT_WRITABLE = new Set(['25006', '53100', '42501']);

/**
 * The database answers but refuses writes: read-only (a file, a role, a replica) or full. Retrying
 * later is the right answer for a client, and nothing was written.
 */
export function isDatabaseNotWritable(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return false;
  return PG_NOT_WRITABLE.has(code) || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_FULL';
}

/** The heartbeat row each node writes to prove the database takes writes (see probeWrites). */
export const WRITE_PROBE = 'write-probe';
// Per machine, not per process: `relay check` from cron and restarts would otherwise add rows for ever.
const NODE = hostname();

/**
 * Writes and commits one small row, so readiness knows whether the database accepts writes: a
 * read-only or full database answers reads as usual, and only a real commit finds it out. Returns
 * false when it refuses; any other failure is thrown.
 */
export async function probeWrites(db: Kysely<Database>, clock: Clock): Promise<boolean> {
  const beat_at = clock.now().toISOString();
  try {
    await db
      .insertInto('heartbeats')
      .values({ component: WRITE_PROBE, node: NODE, beat_at })
      .onConflict((oc) => oc.columns(['component', 'node']).doUpdateSet({ beat_at }))
      .execute();
    return true;
  } catch (error) {
    if (isDatabaseNotWritable(error)) return false;
    throw error;
  }
}
