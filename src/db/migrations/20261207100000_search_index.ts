import type { Kysely } from 'kysely';

/**
 * Keyed blind indexes for the safeguarding team's search (src/records/search-index.ts): one row per
 * referral and search term, holding only an HMAC digest of the normalised value, its kind (name,
 * date of birth, NHS number, incident number, postcode) and the id of the data key it was derived
 * from. Written with the referral at intake, deleted when retention removes its personal data.
 * Referrals received before this migration are indexed by `relay personal-data reindex`: the
 * digests need the data keys, which a migration does not hold.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('referral_search_terms')
    .addColumn('referral_id', 'text', (c) => c.notNull().references('referrals.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('referral_search_terms_pk', ['referral_id', 'digest'])
    .execute();
  await db.schema
    .createIndex('referral_search_terms_digest')
    .on('referral_search_terms')
    .columns(['digest', 'referral_id'])
    .execute();
  // Rebuilding after a key rotation looks for rows under any other key.
  await db.schema
    .createIndex('referral_search_terms_key')
    .on('referral_search_terms')
    .columns(['key_id', 'referral_id'])
    .execute();
}
