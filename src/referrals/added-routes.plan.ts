import type { Insertable } from 'kysely';
import type { DeadlinePolicy } from '../config.ts';
import { addedRouteDeadline, type AddedRouteDeadline } from '../directory/deadlines.ts';
import type { NewDelivery } from '../records/delivery.repository.ts';
import { chosenTeam, type Directory, type Team } from '../directory/directory.types.ts';
import { outOfHoursCover, type PlannedRoute, type Urgency } from '../directory/router.ts';
import { planIntake } from './intake.plan.ts';
import type { RouteTable } from '../db/tables/referral.table.ts';

/** What the hours rule gave a route a person added: nothing, the duty team, or a duty team it lacks. */
export type CoverOutcome =
  | { kind: 'not-needed' }
  | { kind: 'added'; teamId: string }
  | { kind: 'already-routed'; teamId: string }
  | { kind: 'no-cover-team' };

export interface AddedRoutesInput {
  referral: { id: string; urgency: Urgency; receivedAt: Date };
  /** The team a person chose. */
  team: Team;
  reason: 'manual' | 'redirected';
  directory: Directory;
  /** Teams the referral already has a route to: one route per team, so none is added twice. */
  routedTeamIds: readonly string[];
  /** The position of the first new route, after the referral's existing ones. */
  position: number;
  now: Date;
  policy: DeadlinePolicy;
  messageDomain: string;
}

export interface AddedRoutes {
  /** The chosen team's route first, then the out-of-hours team's when the hours rule adds it. */
  routes: Insertable<RouteTable>[];
  deliveries: NewDelivery[];
  /** The chosen team's deadline, as the confirmation page and the timeline describe it. */
  deadline: AddedRouteDeadline;
  cover: CoverOutcome;
}

/**
 * The rows for routes a person adds after intake (by hand from triage, or a redirect): intake's own
 * plan, so each team gets its route and outbox deliveries as intake would have written them, with
 * intake's hours rule applied at this moment. Only the chosen route's reason and the deadlines,
 * which count from receipt while that still stands, differ. Pure, like planIntake.
 */
export function planAddedRoutes(input: AddedRoutesInput): AddedRoutes {
  const { team, directory, now } = input;
  const cover = coverFor(input);
  const planned: PlannedRoute[] = [
    { authorityId: team.authorityId, teamId: team.id, teamKind: team.kind, reason: 'subject-type' },
  ];
  if (cover.kind === 'added') {
    const duty = chosenTeam(directory, cover.teamId);
    planned.push({
      authorityId: duty.authorityId,
      teamId: duty.id,
      teamKind: duty.kind,
      reason: 'out-of-hours',
    });
  }
  const plan = planIntake({
    referralId: input.referral.id,
    urgency: input.referral.urgency,
    receivedAt: now,
    decision: {
      kind: 'routed',
      authorityId: team.authorityId,
      locationSource: 'incident',
      matchedPrefix: '',
      routes: planned,
    },
    directory,
    policy: input.policy,
    messageDomain: input.messageDomain,
  });
  const deadlines = planned.map((p) => deadlineFor(input, chosenTeam(directory, p.teamId)));
  const routes = plan.routes.map((route, i) => ({
    ...route,
    reason: i === 0 ? input.reason : route.reason,
    position: input.position + i,
    ack_by: deadlines[i]!.ackBy.toISOString(),
    reminder_at: deadlines[i]!.reminderAt.toISOString(),
  }));
  return { routes, deliveries: plan.deliveries, deadline: deadlines[0]!, cover };
}

/** The hours rule for the chosen team alone, at this moment; the confirmation page asks it too. */
export function coverFor(
  input: Pick<AddedRoutesInput, 'referral' | 'team' | 'directory' | 'routedTeamIds' | 'now'>,
): CoverOutcome {
  const authority = input.directory.authorities.find((a) => a.id === input.team.authorityId);
  if (!authority) return { kind: 'not-needed' };
  const { urgency } = input.referral;
  const cover = outOfHoursCover(authority, [input.team], urgency, input.directory.bankHolidays, input.now);
  if (cover.kind !== 'cover') return cover.kind === 'not-needed' ? cover : { kind: 'no-cover-team' };
  const teamId = cover.team.id;
  return input.routedTeamIds.includes(teamId)
    ? { kind: 'already-routed', teamId }
    : { kind: 'added', teamId };
}

function deadlineFor(input: AddedRoutesInput, team: Team): AddedRouteDeadline {
  const { referral, now, directory, policy } = input;
  return addedRouteDeadline(referral.receivedAt, now, referral.urgency, team, directory.bankHolidays, policy);
}
