import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('caught_messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('envelope_from', 'text', (c) => c.notNull())
    .addColumn('envelope_to', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('html', 'text')
    .addColumn('raw', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('caught_messages_received')
    .on('caught_messages')
    .column('received_at')
    .execute();
}
