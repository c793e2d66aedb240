import type { Kysely, Transaction } from 'kysely';
import { isPostgres } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import { RelayError } from '../errors.ts';
import { refreshStatus, type ReferralRow } from './referral.repository.ts';

/**
 * The one way to change a referral: its routes, deliveries, triage items, escalations or the row
 * itself. Every such transaction takes the same locks in the same order:
 *
 *   1. the audit head (every audited write bumps it, so every writer queues there anyway);
 *   2. the referral's row;
 *   3. whatever the change touches (a route, a triage item, deliveries).
 *
 * Two transactions that took them in opposite orders (a redirect holding the referral row and
 * waiting for the audit head, a sweep holding the head and waiting for the row) would deadlock on
 * PostgreSQL. Here the order is not a convention each caller has to remember: the change is handed
 * the transaction (`Transaction<Database>`, so it cannot be called outside one) only once both
 * locks are held, and the referral's status is recomputed from its parts before commit.
 *
 * SQLite has one writer at a time, so there the locks cost nothing and the order cannot invert.
 * Inside an open transaction the change joins it; the caller must not have locked the referral's
 * parts before calling.
 */
export async function changeReferral<T>(
  db: Kysely<Database>,
  referralId: string,
  now: Date,
  change: (trx: Transaction<Database>, referral: ReferralRow) => Promise<T>,
): Promise<T> {
  const run = async (trx: Transaction<Database>) => {
    const referral = await lockInOrder(trx, referralId);
    const result = await change(trx, referral);
    await refreshStatus(trx, referralId, now);
    return result;
  };
  return db.isTransaction ? run(db as Transaction<Database>) : db.transaction().execute(run);
}

async function lockInOrder(trx: Transaction<Database>, referralId: string): Promise<ReferralRow> {
  const postgres = isPostgres(trx);
  if (postgres) await trx.selectFrom('audit_head').select('id').where('id', '=', 1).forUpdate().execute();
  let query = trx.selectFrom('referrals').selectAll().where('id', '=', referralId);
  // NO KEY UPDATE, the lock an UPDATE of the row takes: it does not conflict with the KEY SHARE lock
  // that inserting a child row (an escalation, an event) takes on the referral through its foreign key.
  if (postgres) query = query.forNoKeyUpdate();
  const referral = await query.executeTakeFirst();
  if (!referral) throw new RelayError('not-found', 'No referral with that id');
  return referral;
}
