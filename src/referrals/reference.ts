import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

/**
 * Takes `count` consecutive numbers of the year inside the caller's transaction, with one upsert (a
 * group commit's intakes take theirs at once). The upsert locks the counter row, so concurrent
 * intakes on PostgreSQL queue for it and no two referrals share a number.
 */
export async function nextReferences(trx: Kysely<Database>, year: number, count: number): Promise<string[]> {
  const { last } = await trx
    .insertInto('reference_counters')
    .values({ year, last: count })
    .onConflict((oc) =>
      oc.column('year').doUpdateSet((eb) => ({ last: eb('reference_counters.last', '+', count) })),
    )
    .returning('last')
    .executeTakeFirstOrThrow();
  return Array.from({ length: count }, (_, i) => formatReference(year, last - count + 1 + i));
}

export function formatReference(year: number, sequence: number): string {
  return `SR-${year}-${String(sequence).padStart(6, '0')}`;
}

export const REFERENCE_PATTERN = /^SR-\d{4}-\d{6,}$/;
