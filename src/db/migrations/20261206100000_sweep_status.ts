import type { Kysely } from 'kysely';

/**
 * What the watchdog's sweeps did, for readiness, `relay check` and the metrics: one row for the
 * sweep (when one last completed and when one last failed, in milliseconds by the database's clock
 * on PostgreSQL) and a running count of errors per step.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sweep_status')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('completed_ms', 'bigint')
    .addColumn('completed_by', 'text')
    .addColumn('completed_errors', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed_ms', 'bigint')
    .addColumn('failed_by', 'text')
    .addColumn('failure', 'text')
    .execute();
  await db.schema
    .createTable('sweep_errors')
    .addColumn('step', 'text', (c) => c.primaryKey())
    .addColumn('total', 'bigint', (c) => c.notNull())
    .execute();
}
