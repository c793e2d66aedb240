import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Database } from './schema.ts';

/**
 * How many rows a query returns, counting no further than `atMost` + 1: enough to say "437" or
 * "more than 1,000" (or whether a value is common), without reading every row of a pile that grows
 * for ever. The query selects whatever one column it likes; only its rows are counted.
 */
export async function countAtMost(
  db: Kysely<Database>,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any query over any tables: only its rows are counted
  rows: SelectQueryBuilder<Database, any, object>,
  atMost: number,
): Promise<number> {
  const { found } = await db
    .selectFrom(rows.limit(atMost + 1).as('capped'))
    .select((eb) => eb.fn.countAll<number>().as('found'))
    .executeTakeFirstOrThrow();
  return Number(found);
}
