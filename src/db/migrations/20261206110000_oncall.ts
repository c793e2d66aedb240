import type { Kysely } from 'kysely';

/**
 * The safeguarding team's on-call rota: who is told about an escalation at a given time. Entries are
 * removed by marking them, never deleted, so the record of who was on call when stays.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('oncall_shifts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('starts_at', 'text', (c) => c.notNull())
    .addColumn('ends_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('removed_at', 'text')
    .addColumn('removed_by', 'text')
    .execute();
  await db.schema.createIndex('oncall_shifts_ends').on('oncall_shifts').columns(['ends_at']).execute();
}
