import { sql, type Kysely } from 'kysely';

/**
 * Triage can finish a referral three ways: routed to a team, handed off to another area's service
 * (which one and how it was sent), or closed with a reason. The outcome is a column so the
 * dashboard counts them over a period through the resolved_at index; items resolved before this
 * migration were all routed by hand.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('triage_items').addColumn('outcome', 'text').execute();
  await db.schema.alterTable('triage_items').addColumn('handoff_service', 'text').execute();
  await db.schema.alterTable('triage_items').addColumn('handoff_method', 'text').execute();
  await sql`update triage_items set outcome = 'routed' where resolved_at is not null`.execute(db);
  await db.schema.createIndex('triage_items_resolved').on('triage_items').column('resolved_at').execute();
}
