import type { Kysely } from 'kysely';

/**
 * The team inbox at a million referrals. Routes had no index by team, so every inbox page read
 * every team's routes: 0.6–1.2 s at 1,000,000 referrals on SQLite. Now a team's piles (new: not
 * acknowledged; due: acknowledged, no outcome; done: an outcome) are ranges of one index, newest
 * first, and its finished work is read in the order the page shows it, the latest decision first.
 * On PostgreSQL each CREATE INDEX blocks writes to routes while it builds (seconds at 1M rows).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('routes_team_pile')
    .on('routes')
    .columns(['team_id', 'outcome', 'acknowledged_at', 'created_at'])
    .execute();
  await db.schema.createIndex('routes_team_done').on('routes').columns(['team_id', 'outcome_at']).execute();
}
