import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { RouteTable } from '../db/tables/referral.table.ts';

/** What the team's response reads of a route: its state and outcome, and its referral's reference. */
export type RouteFacts = Pick<
  Selectable<RouteTable>,
  'id' | 'referral_id' | 'team_id' | 'acknowledged_at' | 'outcome' | 'outcome_note' | 'outcome_at'
> & { reference: string };

/** Routes joined to their referral: acknowledging and recording an outcome both start here. */
export function selectRouteFacts(db: Kysely<Database>) {
  return db
    .selectFrom('routes')
    .innerJoin('referrals', 'referrals.id', 'routes.referral_id')
    .select([
      'routes.id',
      'routes.referral_id',
      'routes.team_id',
      'routes.acknowledged_at',
      'routes.outcome',
      'routes.outcome_note',
      'routes.outcome_at',
      'referrals.reference',
    ]);
}
