import type { Kysely } from 'kysely';

/**
 * Indexes for the safeguarding dashboard and the status document at a million referrals (ten years
 * of a large region). Open work is counted through the existing (status, updated_at) and
 * (state, next_attempt_at) indexes; finished work only over a recent period, which needs these.
 * On PostgreSQL each CREATE INDEX blocks writes to its table while it builds (seconds at 1M rows).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  // Referrals received in a period, by status, read from the index alone. It leads with received_at,
  // so it also serves everything the received_at index it replaces did.
  await db.schema
    .createIndex('referrals_received_status')
    .on('referrals')
    .columns(['received_at', 'status'])
    .execute();
  await db.schema.dropIndex('referrals_received').execute();
  // Deliveries created in a period, by state.
  await db.schema
    .createIndex('deliveries_created')
    .on('deliveries')
    .columns(['created_at', 'state'])
    .execute();
  // Time to acknowledge reads the routes sent to teams in a period.
  await db.schema.createIndex('routes_created').on('routes').column('created_at').execute();
  // The status document reads a referral's triage items; without this it scans them all.
  await db.schema.createIndex('triage_items_referral').on('triage_items').column('referral_id').execute();
}
