import type { Kysely } from 'kysely';

/**
 * A webhook entry may ask for the referral as a FHIR R4 message Bundle instead of Relay's JSON
 * (`format` in the directory file). Null for email entries and for webhooks written before, which
 * read as `json`, so no existing directory version changes meaning.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('team_channels').addColumn('format', 'text').execute();
}
