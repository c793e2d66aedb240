import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

/**
 * The `mesh` channel (NHS MESH mailboxes). A delivery's and a test alert's channel may now be
 * `mesh`: the constraints that migration 20261206140000_code_checks made are widened, word for word
 * the same otherwise. A directory entry keeps its MESH workflow id beside the mailbox (`address`),
 * and a delivery keeps the message id MESH gave it on acceptance, which tracking asks about.
 */
const CHANNELS = ['email', 'webhook', 'mesh'];
const TABLES = ['deliveries', 'test_alerts'];

const list = (codes: readonly string[]) => codes.map((c) => `'${c}'`).join(', ');

export async function up(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
  db: Kysely<any>,
  dialect: Dialect,
): Promise<void> {
  for (const table of TABLES) await (dialect === 'sqlite' ? widenSqlite : widenPostgres)(db, table);
  await db.schema.alterTable('team_channels').addColumn('workflow_id', 'text').execute();
  await db.schema.alterTable('deliveries').addColumn('provider_message_id', 'text').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
async function widenPostgres(db: Kysely<any>, table: string) {
  const name = `${table}_channel_code`;
  await sql.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${name}`).execute(db);
  await sql
    .raw(`ALTER TABLE ${table} ADD CONSTRAINT ${name} CHECK (channel IN (${list(CHANNELS)}))`)
    .execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
async function widenSqlite(db: Kysely<any>, table: string) {
  const when = `WHEN NEW.channel NOT IN (${list(CHANNELS)})`;
  const refuse = `BEGIN SELECT RAISE(ABORT, 'violates check constraint ${table}_channel_code'); END`;
  for (const [op, on] of [
    ['insert', 'INSERT'],
    ['update', 'UPDATE OF channel'],
  ] as const) {
    const trigger = `${table}_channel_code_${op}`;
    await sql.raw(`DROP TRIGGER ${trigger}`).execute(db);
    await sql
      .raw(`CREATE TRIGGER ${trigger} BEFORE ${on} ON ${table} FOR EACH ROW ${when} ${refuse}`)
      .execute(db);
  }
}
