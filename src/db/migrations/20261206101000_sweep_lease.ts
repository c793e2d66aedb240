import type { Kysely } from 'kysely';

/**
 * Leadership of the watchdog's sweep as a lease with an expiry, in place of PostgreSQL's advisory
 * lock, which a frozen node kept for as long as it stayed frozen.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_ms', 'bigint', (c) => c.notNull())
    .addColumn('acquired_ms', 'bigint', (c) => c.notNull())
    .execute();
}
