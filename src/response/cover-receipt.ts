import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { RelayContext } from '../context.ts';
import type { Database } from '../db/schema.ts';
import { urgencyRank, type Urgency } from '../directory/router.ts';
import { RelayError } from '../errors.ts';
import { addedRouteDeadline } from '../directory/deadlines.ts';

/** A delivery as far as acknowledging it goes: whose copy it is, and which route it is about. */
export interface AckedDelivery {
  id: string;
  referral_id: string;
  route_id: string;
  team_id: string;
  created_at: string;
}

/**
 * The route a delivery's acknowledgement stamps: its own team's copy of the referral. For nearly
 * every delivery that is the route it hangs on. An out-of-hours alert hangs on the closed day team's
 * route (it is about that route, and names that team) but goes to the out-of-hours team, so the
 * out-of-hours team acknowledging it records the out-of-hours team's receipt — on its own route,
 * made now if it had none — and never the day team's, which stays chased until the day team
 * acknowledges or someone confirms its receipt by phone.
 */
export async function ownRouteOf(
  trx: Kysely<Database>,
  ctx: RelayContext,
  delivery: AckedDelivery,
): Promise<string> {
  const own = await routeOfTeam(trx, delivery.referral_id, delivery.team_id);
  if (own) return own;
  const about = await trx
    .selectFrom('routes')
    .select('team_id')
    .where('id', '=', delivery.route_id)
    .executeTakeFirstOrThrow();
  // Only a copy sent to another team (cover) can be missing its team's route.
  if (about.team_id === delivery.team_id) return delivery.route_id;
  await insertCoverRoute(trx, ctx, delivery);
  const made = await routeOfTeam(trx, delivery.referral_id, delivery.team_id);
  if (!made) throw new Error(`No route for ${delivery.team_id} after making one`);
  return made;
}

async function routeOfTeam(trx: Kysely<Database>, referralId: string, teamId: string) {
  const row = await trx
    .selectFrom('routes')
    .select('id')
    .where('referral_id', '=', referralId)
    .where('team_id', '=', teamId)
    .executeTakeFirst();
  return row?.id;
}

/**
 * The out-of-hours team's route, as from the moment it was alerted: reason `out-of-hours`, like the
 * route intake gives it, with the deadline a route added then would have had. It is acknowledged in
 * the same transaction, so the watchdog never chases it; the day team's route is what stays chased.
 */
async function insertCoverRoute(trx: Kysely<Database>, ctx: RelayContext, delivery: AckedDelivery) {
  const referral = await trx
    .selectFrom('referrals')
    .select(['urgency', 'received_at', 'directory_version'])
    .where('id', '=', delivery.referral_id)
    .executeTakeFirstOrThrow();
  const directory = referral.directory_version
    ? await ctx.directories.version(referral.directory_version)
    : undefined;
  const team = directory?.authorities.flatMap((a) => a.teams).find((t) => t.id === delivery.team_id);
  if (!directory || !team)
    throw new RelayError('not-found', 'The team this link was sent to is not in the directory');
  const alertedAt = new Date(delivery.created_at);
  const deadline = addedRouteDeadline(
    new Date(referral.received_at),
    alertedAt,
    referral.urgency as Urgency,
    team,
    directory.bankHolidays,
    ctx.config.deadlines,
  );
  const last = await trx
    .selectFrom('routes')
    .select((eb) => eb.fn.max('position').as('position'))
    .where('referral_id', '=', delivery.referral_id)
    .executeTakeFirst();
  await trx
    .insertInto('routes')
    .values({
      id: randomUUID(),
      referral_id: delivery.referral_id,
      authority_id: team.authorityId,
      team_id: team.id,
      team_kind: team.kind,
      reason: 'out-of-hours',
      position: Number(last?.position ?? -1) + 1,
      urgency_rank: urgencyRank(referral.urgency),
      ack_by: deadline.ackBy.toISOString(),
      reminder_at: deadline.reminderAt.toISOString(),
      reminded_at: null,
      alerted_at: null,
      acknowledged_at: null,
      outcome: null,
      outcome_note: null,
      outcome_at: null,
      created_at: delivery.created_at,
    })
    // Two people at the duty team acknowledging at once: one route, and the second sees it acknowledged.
    .onConflict((oc) => oc.columns(['referral_id', 'team_id']).doNothing())
    .execute();
}
