import type { Kysely } from 'kysely';

/**
 * Sign-in failures are counted per account and client (docs/operations.md, Sign-in), so a stranger's wrong
 * passwords slow the stranger and never lock the real person out from their own machine. Both keys
 * are keyed hashes (HMAC with RELAY_SECRET): neither the typed email nor the address is stored.
 * The per-account counter on users is no longer used. An admin's password reset sets
 * must_change_password, and the person must choose a new one at their next sign-in.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sign_in_throttles')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('client', 'text', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sign_in_throttles_pk', ['account', 'client'])
    .execute();
  await db.schema
    .createIndex('sign_in_throttles_updated')
    .on('sign_in_throttles')
    .column('updated_at')
    .execute();
  await db.schema
    .alterTable('users')
    .addColumn('must_change_password', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
