import type { Kysely } from 'kysely';
import { addedRouteDeadline, type AddedRouteDeadline } from '../directory/deadlines.ts';
import { resolveEscalationIn, type Resolver } from '../records/escalation.service.ts';
import type { RelayContext } from '../context.ts';
import type { Database } from '../db/schema.ts';
import { insertDeliveries } from '../records/delivery.repository.ts';
import type { CurrentDirectory } from '../directory/directory.service.ts';
import { findTeam, type Team } from '../directory/directory.types.ts';
import type { Urgency } from '../directory/router.ts';
import { RelayError } from '../errors.ts';
import { appendAudit } from '../records/audit.ts';
import { coverFor, planAddedRoutes, type AddedRoutes, type CoverOutcome } from './added-routes.plan.ts';
import { insertEvent, insertRoutes, type ReferralRow } from '../records/referral.repository.ts';
import { changeReferral } from '../records/referral-change.ts';

export interface HandRouting {
  routeId: string;
  referralId: string;
  reference: string;
  teamId: string;
  ackBy: string;
  /** Set when the deadline from receipt had already passed, so the team's deadline runs from now. */
  deadlineFromNow: boolean;
  deliveries: number;
  /** Whether the hours rule also sent it to the authority's out-of-hours team. */
  cover: CoverOutcome;
}

/** The team's acknowledgement deadline: from receipt, as intake would have set it, unless that is already past. */
export function handRoutedDeadline(
  referral: Pick<ReferralRow, 'received_at' | 'urgency'>,
  team: Team,
  current: CurrentDirectory,
  ctx: RelayContext,
): AddedRouteDeadline {
  const urgency = referral.urgency as Urgency;
  const holidays = current.directory.bankHolidays;
  const receivedAt = new Date(referral.received_at);
  return addedRouteDeadline(receivedAt, ctx.clock.now(), urgency, team, holidays, ctx.config.deadlines);
}

/** What the hours rule would add if the referral were sent to this team now, for the confirmation page. */
export function handRoutedCover(
  referral: Pick<ReferralRow, 'id' | 'received_at' | 'urgency'>,
  team: Team,
  current: CurrentDirectory,
  now: Date,
): CoverOutcome {
  return coverFor({
    referral: {
      id: referral.id,
      urgency: referral.urgency as Urgency,
      receivedAt: new Date(referral.received_at),
    },
    team,
    directory: current.directory,
    routedTeamIds: [],
    now,
  });
}

function teamToRouteTo(current: CurrentDirectory, teamId: string): Team {
  const team = findTeam(current.directory, teamId);
  if (!team) {
    throw new RelayError('validation-failed', 'No team with that id in the current directory', [
      { path: 'teamId', message: 'Choose a team from the list' },
    ]);
  }
  return team;
}

/**
 * Routes a triaged referral to a team chosen by a person, in one transaction: the route and its
 * outbox deliveries (as intake writes them), the triage item resolved, its overdue escalation
 * resolved, the timeline and the audit log. The item is claimed under the referral's lock
 * (changeReferral), so two people routing the same item at once cannot both succeed.
 */
export async function routeByHand(
  ctx: RelayContext,
  triageItemId: string,
  teamId: string,
  by: Resolver,
): Promise<HandRouting> {
  const current = await ctx.directories.current();
  if (!current) throw new RelayError('state-conflict', 'No directory has been loaded, so there is no team');
  const team = teamToRouteTo(current, teamId);
  const now = ctx.clock.now();
  const item = await ctx.db.kysely
    .selectFrom('triage_items')
    .select(['id', 'referral_id'])
    .where('id', '=', triageItemId)
    .executeTakeFirst();
  if (!item) throw new RelayError('not-found', 'No triage item with that id');
  const result = await changeReferral(ctx.db.kysely, item.referral_id, now, async (trx, referral) => {
    await claimTriageItem(trx, item.id, team, by, now);
    const plan = await planHandRoutes(trx, ctx, referral, team, current, now);
    await insertRoutes(trx, plan.routes);
    await insertDeliveries(trx, plan.deliveries);
    if (referral.directory_version === null) {
      await trx
        .updateTable('referrals')
        .set({ directory_version: current.versionId })
        .where('id', '=', referral.id)
        .execute();
    }
    await resolveTriageEscalations(trx, referral.id, team, by, now);
    const route = plan.routes[0]!;
    const routing: HandRouting = {
      routeId: route.id,
      referralId: referral.id,
      reference: referral.reference,
      teamId: team.id,
      ackBy: route.ack_by,
      deadlineFromNow: plan.deadline.fromNow,
      deliveries: plan.deliveries.filter((d) => d.route_id === route.id).length,
      cover: plan.cover,
    };
    await recordHandRouting(trx, routing, item.id, plan, by, now);
    return routing;
  });
  ctx.signals.emit('deliveries-queued');
  return result;
}

/** The chosen team's route and, under intake's hours rule, the out-of-hours team's, as intake writes them. */
async function planHandRoutes(
  trx: Kysely<Database>,
  ctx: RelayContext,
  referral: ReferralRow,
  team: Team,
  current: CurrentDirectory,
  now: Date,
) {
  const existing = await trx
    .selectFrom('routes')
    .select(['team_id', 'position'])
    .where('referral_id', '=', referral.id)
    .execute();
  return planAddedRoutes({
    referral: {
      id: referral.id,
      urgency: referral.urgency as Urgency,
      receivedAt: new Date(referral.received_at),
    },
    team,
    reason: 'manual',
    directory: current.directory,
    routedTeamIds: existing.map((r) => r.team_id),
    position: existing.length === 0 ? 0 : Math.max(...existing.map((r) => r.position)) + 1,
    now,
    policy: ctx.config.deadlines,
    messageDomain: ctx.config.bounceDomain,
  });
}

/** Resolves the item, once: of two people routing it at once, the second is refused. */
async function claimTriageItem(trx: Kysely<Database>, id: string, team: Team, by: Resolver, now: Date) {
  const resolved = await trx
    .updateTable('triage_items')
    .set({
      resolved_at: now.toISOString(),
      resolved_by: by.name,
      resolution: `routed by hand to ${team.id}`,
      outcome: 'routed',
    })
    .where('id', '=', id)
    .where('resolved_at', 'is', null)
    .executeTakeFirst();
  if (resolved.numUpdatedRows === 0n)
    throw new RelayError('state-conflict', 'This referral has already been routed from the triage queue');
}

async function resolveTriageEscalations(
  trx: Kysely<Database>,
  referralId: string,
  team: Team,
  by: Resolver,
  now: Date,
): Promise<void> {
  const open = await trx
    .selectFrom('escalations')
    .select('id')
    .where('referral_id', '=', referralId)
    .where('reason', '=', 'triage-overdue')
    .where('state', '!=', 'resolved')
    .execute();
  for (const { id } of open)
    await resolveEscalationIn(trx, id, `Routed by hand to ${team.name} by ${by.name}`, by, now);
}

async function recordHandRouting(
  trx: Kysely<Database>,
  r: HandRouting,
  triageItemId: string,
  plan: AddedRoutes,
  by: Resolver,
  now: Date,
): Promise<void> {
  const detail = {
    routes: plan.routes.map((route) => ({ team: route.team_id, reason: route.reason })),
    triage: triageItemId,
    ackBy: r.ackBy,
    deadlineFrom: r.deadlineFromNow ? 'routing' : 'receipt',
    cover: r.cover.kind,
  };
  await insertEvent(trx, {
    referral_id: r.referralId,
    at: now.toISOString(),
    kind: 'routed',
    actor: by.actor,
    detail: JSON.stringify({ ...detail, by: by.name }),
  });
  await appendAudit(trx, now, {
    actor: by.actor,
    action: 'referral.routed-by-hand',
    entityType: 'referral',
    entityId: r.referralId,
    detail: {
      reference: r.reference,
      route: r.routeId,
      deliveries: plan.deliveries.map((d) => d.id),
      ...detail,
    },
  });
}
