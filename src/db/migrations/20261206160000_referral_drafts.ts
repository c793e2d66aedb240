import type { Kysely } from 'kysely';

/**
 * The crew form's drafts, saved as the crew member types and on every Continue, so a timed-out
 * session or a lost signal never loses a referral. `answers` is the form's controls as sealed JSON
 * (field encryption, PERSONAL_FIELDS.draftAnswers); retention deletes a draft 72 hours after it was
 * last saved. `id` is the form's source reference, the idempotency key the referral is sent with.
 * A draft posted after the session ended has no user yet: it waits for the sign-in that claims it by
 * the hash of a one-time token. Crew profiles keep the referrer details a crew member gives on every
 * referral (role, staff ID, phone), to fill the next form in for them.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('referral_drafts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.references('users.id'))
    .addColumn('claim_hash', 'text')
    .addColumn('answers', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('referral_drafts_user')
    .on('referral_drafts')
    .columns(['user_id', 'updated_at'])
    .execute();
  await db.schema.createIndex('referral_drafts_updated').on('referral_drafts').column('updated_at').execute();
  await db.schema
    .createTable('crew_profiles')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id'))
    .addColumn('role', 'text')
    .addColumn('staff_id', 'text')
    .addColumn('phone', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}
