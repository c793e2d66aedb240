import type { Kysely } from 'kysely';

/**
 * The last mile of an escalation: who it is assigned to, which rung of the ladder it has reached,
 * and every push (email or pager) sent to a named person, with its retry state, so one that cannot
 * be delivered stays visible. A resolved escalation whose condition may still stand carries the time
 * it is checked again (follow_up_at); the escalation that re-opens it points back at it
 * (previous_id). A referral closed by hand keeps who closed it and why (the reason encrypted).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  for (const column of ['assigned_to', 'pushed_at', 'previous_id', 'follow_up_at']) {
    await db.schema.alterTable('escalations').addColumn(column, 'text').execute();
  }
  await db.schema
    .alterTable('escalations')
    .addColumn('rung', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  for (const column of ['close_reason', 'closed_by']) {
    await db.schema.alterTable('referrals').addColumn(column, 'text').execute();
  }
  await db.schema
    .createTable('escalation_pushes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('escalation_id', 'text', (c) => c.notNull())
    .addColumn('rung', 'integer', (c) => c.notNull())
    .addColumn('cause', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .execute();
  await db.schema
    .createIndex('escalation_pushes_escalation')
    .on('escalation_pushes')
    .columns(['escalation_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('escalation_pushes_due')
    .on('escalation_pushes')
    .columns(['state', 'next_attempt_at'])
    .execute();
  // The ladder and claim checks read open and claimed escalations each sweep; the follow-ups read
  // resolved ones still waiting to be checked.
  await db.schema.createIndex('escalations_follow_up').on('escalations').columns(['follow_up_at']).execute();
}
