import type { Kysely } from 'kysely';
import type { RelayContext } from '../context.ts';
import type { Database } from '../db/schema.ts';
import { appendAudit } from '../records/audit.ts';
import { newestKey } from '../records/field-crypto.ts';
import { deleteSearchRows, insertSearchRows, searchRowsOfStored } from '../records/search-index.ts';

/**
 * Builds the search index (src/records/search-index.ts) of every referral that needs it: one
 * received before the index existed (no rows), or one whose rows were made under a data key other
 * than the newest (after `relay keys rotate`, which runs this when it is done). A batch per
 * transaction, found afresh each time, so a run stopped half way is finished by running it again.
 * Purged referrals have nothing to index and are left alone.
 */

export interface ReindexOptions {
  batchSize: number;
  actor: string;
  /** Called after each committed batch with the number of referrals it indexed. */
  onBatch?: (indexed: number) => void | Promise<void>;
}

function dueQuery(db: Kysely<Database>, newest: string) {
  return db
    .selectFrom('referrals')
    .select(['id', 'payload', 'received_at'])
    .where('purged_at', 'is', null)
    .where((eb) => {
      const terms = () =>
        eb
          .selectFrom('referral_search_terms as t')
          .select('t.digest')
          .whereRef('t.referral_id', '=', 'referrals.id');
      return eb.or([
        eb.not(eb.exists(terms().where('t.key_id', '=', newest))),
        eb.exists(terms().where('t.key_id', '<>', newest)),
      ]);
    });
}

/** Returns how many referrals were (re)indexed. */
export async function reindexSearchTerms(ctx: RelayContext, options: ReindexOptions): Promise<number> {
  const keys = ctx.config.dataKeys;
  const newest = newestKey(keys).id;
  let total = 0;
  let after = '';
  for (;;) {
    const due = await dueQuery(ctx.db.kysely, newest)
      .where('id', '>', after)
      .orderBy('id')
      .limit(options.batchSize)
      .execute();
    const last = due.at(-1);
    if (!last) return total;
    after = last.id;
    const indexed = await ctx.db.kysely.transaction().execute(async (trx) => {
      // Retention may have purged one since it was read: its rows must not come back.
      const live = await trx
        .selectFrom('referrals')
        .select('id')
        .where(
          'id',
          'in',
          due.map((r) => r.id),
        )
        .where('purged_at', 'is', null)
        .execute();
      const ids = new Set(live.map((r) => r.id));
      const referrals = due.filter((r) => ids.has(r.id));
      await deleteSearchRows(trx, [...ids]);
      await insertSearchRows(
        trx,
        referrals.flatMap((r) => searchRowsOfStored(keys, r)),
      );
      if (referrals.length > 0) {
        await appendAudit(trx, ctx.clock.now(), {
          actor: options.actor,
          action: 'search-index.rebuilt',
          entityType: 'data-key',
          entityId: newest,
          detail: { referrals: referrals.length },
        });
      }
      return referrals.length;
    });
    total += indexed;
    await options.onBatch?.(indexed);
    if (due.length < options.batchSize) return total;
  }
}
