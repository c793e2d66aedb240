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
