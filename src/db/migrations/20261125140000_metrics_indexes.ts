import type { Kysely } from 'kysely';

/**
 * `/metrics` counts today's send attempts by outcome on every scrape; without this it read every
 * attempt ever recorded (over a million after ten years of a large region). Building it blocks writes
 * to delivery_attempts on PostgreSQL for a few seconds at that size.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('delivery_attempts_finished')
    .on('delivery_attempts')
    .columns(['finished_at', 'outcome'])
    .execute();
}
