import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Clock } from '../clock.ts';
import { isPostgres } from './database.ts';
import type { Database } from './schema.ts';

/**
 * Now in milliseconds as an SQL expression: the database server's clock on PostgreSQL, the one
 * clock every node shares, so a lease or an age does not depend on whose clock is right. SQLite
 * runs inside this process, so there it is Relay's own clock.
 */
export function nowMsSql(db: Kysely<Database>, clock: Clock): RawBuilder<number> {
  return isPostgres(db)
    ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`
    : sql<number>`${clock.now().getTime()}`;
}

/** Now in milliseconds by the clock `nowMsSql` reads. */
export async function databaseNowMs(db: Kysely<Database>, clock: Clock): Promise<number> {
  if (!isPostgres(db)) return clock.now().getTime();
  const { rows } = await sql<{ ms: number }>`select ${nowMsSql(db, clock)} as ms`.execute(db);
  return Number(rows[0]?.ms);
}

/**
 * How far this process's clock is ahead of the database server's (negative: behind), in
 * milliseconds; null on SQLite, which has no clock of its own. Measured against the middle of the
 * round trip, so the error is at most half of it.
 */
export async function clockSkewMs(db: Kysely<Database>, clock: Clock): Promise<number | null> {
  if (!isPostgres(db)) return null;
  const sent = clock.now().getTime();
  const serverMs = await databaseNowMs(db, clock);
  const received = clock.now().getTime();
  return Math.round((sent + received) / 2 - serverMs);
}
