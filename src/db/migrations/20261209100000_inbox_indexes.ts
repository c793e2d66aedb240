import { sql, type Kysely } from 'kysely';

/**
 * The team inbox at a million referrals. Routes had no index by team, so every inbox page read
 * every team's routes: 0.6–1.7 s at 1,000,000 referrals. Now a team's piles (new: not acknowledged;
 * due: acknowledged, no outcome; done: an outcome) are read from indexes in the order the page
 * shows them: new and due most urgent first, then newest (the urgency, kept on the route for this,
 * as urgency_rank), done the latest outcome first.
 * On PostgreSQL each CREATE INDEX blocks writes to routes while it builds (seconds at 1M rows).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  // SQLite adds a NOT NULL column only with a default; every route written from now on sets it.
  await db.schema
    .alterTable('routes')
    .addColumn('urgency_rank', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`
    update routes set urgency_rank = coalesce((
      select case urgency when 'immediate' then 2 when 'urgent' then 1 else 0 end
      from referrals where referrals.id = routes.referral_id), 0)`.execute(db);
  // Counting each pile, and the new pile in its order (a range of this index read backwards).
  await db.schema
    .createIndex('routes_team_pile')
    .on('routes')
    .columns(['team_id', 'outcome', 'acknowledged_at', 'urgency_rank', 'created_at', 'id'])
    .execute();
  // The due pile in its order: acknowledged_at is a range there, so it gets an index of its own.
  await db.schema
    .createIndex('routes_team_due')
    .on('routes')
    .columns(['team_id', 'urgency_rank', 'created_at', 'id'])
    .where(sql.ref('outcome'), 'is', null)
    .where(sql.ref('acknowledged_at'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('routes_team_done')
    .on('routes')
    .columns(['team_id', 'outcome_at', 'id'])
    .execute();
}
