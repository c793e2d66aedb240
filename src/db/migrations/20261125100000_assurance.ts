import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('routes').addColumn('alerted_at', 'text').execute();
  await db.schema
    .createTable('heartbeats')
    .addColumn('component', 'text', (c) => c.notNull())
    .addColumn('node', 'text', (c) => c.notNull())
    .addColumn('beat_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('heartbeats_pk', ['component', 'node'])
    .execute();
  // One row per (job, period) claims a daily job once, however many nodes sweep.
  await db.schema
    .createTable('scheduled_runs')
    .addColumn('job', 'text', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('ran_at', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('scheduled_runs_pk', ['job', 'period'])
    .execute();
  await db.schema
    .createTable('test_alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('delivery_id', 'text', (c) => c.notNull().references('deliveries.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('ack_by', 'text', (c) => c.notNull())
    .addColumn('acknowledged_at', 'text')
    .addColumn('acknowledged_by', 'text')
    .execute();
  await db.schema
    .createIndex('test_alerts_address')
    .on('test_alerts')
    .columns(['address', 'created_at'])
    .execute();
}
