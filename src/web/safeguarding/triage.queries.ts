import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

const QUEUE_LIMIT = 500;

function triageRows(db: Kysely<Database>) {
  return db
    .selectFrom('triage_items')
    .innerJoin('referrals', 'referrals.id', 'triage_items.referral_id')
    .select([
      'triage_items.id',
      'triage_items.reason',
      'triage_items.detail',
      'triage_items.triage_by',
      'triage_items.created_at',
      'triage_items.resolved_at',
      'triage_items.resolved_by',
      'triage_items.resolution',
      'triage_items.outcome',
      'referrals.id as referral_id',
      'referrals.reference',
      'referrals.urgency',
      'referrals.subject_type',
      'referrals.received_at',
    ]);
}

export type TriageListRow = Awaited<ReturnType<ReturnType<typeof triageRows>['execute']>>[number];

/** The open queue, most urgent deadline first; no personal data, so listing it is not a view. */
export async function openTriageItems(db: Kysely<Database>): Promise<TriageListRow[]> {
  return triageRows(db)
    .where('triage_items.resolved_at', 'is', null)
    .orderBy('triage_items.triage_by')
    .orderBy('triage_items.id')
    .limit(QUEUE_LIMIT)
    .execute();
}

export async function findTriageItem(db: Kysely<Database>, id: string): Promise<TriageListRow | undefined> {
  return triageRows(db).where('triage_items.id', '=', id).executeTakeFirst();
}
