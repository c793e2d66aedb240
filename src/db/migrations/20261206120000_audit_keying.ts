import type { Kysely } from 'kysely';
import { keyedFromSeal } from '../audit-keying.ts';
import type { Dialect } from '../database.ts';
import type { MigrationSecrets } from '../migrate.ts';

/**
 * Keyed audit hashing: entries from here on are HMAC-SHA256 under AUDIT_KEY. The entries already
 * written were hashed without a key and stay as they are (rewriting them would break every copy of
 * the head kept outside Relay), so the start of keyed hashing is recorded, sealed with the key.
 * Nodes running the previous version must be stopped first: they would go on writing unkeyed entries.
 */
export async function up(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
  db: Kysely<any>,
  dialect: Dialect,
  secrets: MigrationSecrets,
): Promise<void> {
  await db.schema
    .createTable('audit_keying')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('keyed_from', 'integer', (c) => c.notNull())
    .addColumn('seal', 'text', (c) => c.notNull())
    .execute();
  // On PostgreSQL, appenders wait on the head's row lock until the start is recorded.
  const query = db.selectFrom('audit_head').select('seq').where('id', '=', 1);
  const head = await (dialect === 'postgres' ? query.forUpdate() : query).executeTakeFirstOrThrow();
  const keyedFrom = Number(head.seq) + 1;
  await db
    .insertInto('audit_keying')
    .values({ id: 1, keyed_from: keyedFrom, seal: keyedFromSeal(secrets.auditKey, keyedFrom) })
    .execute();
}
