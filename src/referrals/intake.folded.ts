import type { Insertable, Kysely, QueryCreator } from 'kysely';
import type { Database } from '../db/schema.ts';
import { chainEntries, type AuditEntry } from '../records/audit.ts';
import type { NewDelivery } from '../records/delivery.repository.ts';
import type { NewEvent } from '../records/referral.repository.ts';
import type { SearchTermRow } from '../records/search-index.ts';
import { formatReference } from './reference.ts';
import type { ReferralTable, RouteTable, TriageItemTable } from '../db/tables/referral.table.ts';

/** Everything a batch of intakes writes, in the order the statement writes it. */
export interface IntakeRows {
  referrals: Insertable<ReferralTable>[];
  routes: Insertable<RouteTable>[];
  triage: Insertable<TriageItemTable>[];
  deliveries: NewDelivery[];
  searchRows: SearchTermRow[];
  events: NewEvent[];
}

/**
 * On PostgreSQL each statement is a round trip, and the audit head's row lock is held from the
 * first to the commit, so a batch's new referrals are written in two statements (after BEGIN and
 * the batch's idempotency read in intake.writer.ts, before COMMIT): one takes the year's reference
 * numbers and moves the audit head on by the batch's count, under both row locks; the other writes
 * every row, the audit entries chained from the head, and the head's new hash. The audit chain is
 * the one appendAuditEntries writes, entry for entry.
 */
export async function reserveNumbers(
  trx: Kysely<Database>,
  year: number,
  count: number,
): Promise<{ references: string[]; head: { seq: number; hash: string } }> {
  const taken = await trx
    .with('counter', (db) =>
      db
        .insertInto('reference_counters')
        .values({ year, last: count })
        .onConflict((oc) =>
          oc.column('year').doUpdateSet((eb) => ({ last: eb('reference_counters.last', '+', count) })),
        )
        .returning('last'),
    )
    .with('head', (db) =>
      db
        .updateTable('audit_head')
        .set((eb) => ({ seq: eb('seq', '+', count) }))
        .where('id', '=', 1)
        .returning(['seq', 'hash']),
    )
    .selectFrom(['counter', 'head'])
    .select(['counter.last', 'head.seq', 'head.hash'])
    .executeTakeFirstOrThrow();
  const references = Array.from({ length: count }, (_, i) =>
    formatReference(year, Number(taken.last) - count + 1 + i),
  );
  return { references, head: { seq: Number(taken.seq), hash: taken.hash } };
}

/** The second statement: every row of the batch, its audit entries and the head's new hash. */
export async function writeFolded(
  trx: Kysely<Database>,
  rows: IntakeRows,
  head: { seq: number; hash: string },
  at: Date,
  audit: AuditEntry[],
): Promise<void> {
  const chained = chainEntries(head, at, audit);
  // A data-modifying WITH runs whether or not the outer statement reads it; empty parts are left out.
  const parts = [
    ['referrals_in', 'referrals', rows.referrals],
    ['routes_in', 'routes', rows.routes],
    ['triage_in', 'triage_items', rows.triage],
    ['deliveries_in', 'deliveries', rows.deliveries],
    ['terms_in', 'referral_search_terms', rows.searchRows],
    ['events_in', 'referral_events', rows.events],
    ['audit_in', 'audit_log', chained.rows],
  ] as const;
  let query: QueryCreator<Database> = trx;
  for (const [name, table, values] of parts) {
    if (values.length === 0) continue;
    // Each part's rows are typed by their own table; the loop only names them.
    query = query.with(name, (db) =>
      db.insertInto(table).values(values as never),
    ) as unknown as QueryCreator<Database>;
  }
  await query.updateTable('audit_head').set({ hash: chained.hash }).where('id', '=', 1).execute();
}
