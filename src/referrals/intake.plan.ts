import type { Insertable } from 'kysely';
import { newRowId } from '../records/row-id.ts';
import type { DeadlinePolicy } from '../config.ts';
import { ackBy, reminderAt, sendBy, triageBy } from '../directory/deadlines.ts';
import type { NewDelivery } from '../records/delivery.repository.ts';
import { targetsOf } from '../directory/targets.ts';
import { chosenTeam, type Directory, type Team } from '../directory/directory.types.ts';
import { urgencyRank, type RouteDecision } from '../directory/router.ts';
import type { RouteTable, TriageItemTable } from '../db/tables/referral.table.ts';

export interface IntakePlan {
  routes: Insertable<RouteTable>[];
  deliveries: NewDelivery[];
  triage?: Insertable<TriageItemTable>;
}

interface PlanInput {
  referralId: string;
  urgency: 'immediate' | 'urgent' | 'routine';
  receivedAt: Date;
  decision: RouteDecision | { kind: 'triage'; reason: 'no-directory'; detail: string; authorityId?: string };
  directory: Directory | undefined;
  policy: DeadlinePolicy;
  messageDomain: string;
}

/**
 * Turns a routing decision into the rows intake writes in one transaction: a route per team with
 * its acknowledgement deadline, and an outbox delivery per team address (primary email, webhook,
 * MESH mailbox). Pure, so every combination is cheap to test.
 */
export function planIntake(input: PlanInput): IntakePlan {
  const { decision, receivedAt } = input;
  const at = receivedAt.toISOString();
  if (decision.kind === 'triage') {
    return {
      routes: [],
      deliveries: [],
      triage: {
        id: newRowId(receivedAt),
        referral_id: input.referralId,
        reason: decision.reason,
        detail: decision.detail,
        authority_id: decision.authorityId ?? null,
        created_at: at,
        triage_by: triageBy(receivedAt, input.policy).toISOString(),
        resolved_at: null,
        resolved_by: null,
        resolution: null,
      },
    };
  }
  const plan: IntakePlan = { routes: [], deliveries: [] };
  for (const planned of decision.routes) {
    const team = chosenTeam(input.directory, planned.teamId);
    const routeId = newRowId(receivedAt);
    const due = ackBy(receivedAt, input.urgency, team, input.directory?.bankHolidays ?? [], input.policy);
    plan.routes.push({
      id: routeId,
      referral_id: input.referralId,
      authority_id: planned.authorityId,
      team_id: planned.teamId,
      team_kind: planned.teamKind,
      reason: planned.reason,
      position: plan.routes.length,
      urgency_rank: urgencyRank(input.urgency),
      ack_by: due.toISOString(),
      reminder_at: reminderAt(receivedAt, due, input.policy).toISOString(),
      reminded_at: null,
      alerted_at: null,
      acknowledged_at: null,
      outcome: null,
      outcome_note: null,
      outcome_at: null,
      created_at: at,
    });
    plan.deliveries.push(
      ...teamDeliveries({
        referralId: input.referralId,
        routeId,
        team,
        now: input.receivedAt,
        policy: input.policy,
        messageDomain: input.messageDomain,
      }),
    );
  }
  return plan;
}

export interface TeamDeliveryInput {
  referralId: string;
  routeId: string;
  team: Team;
  /** When the deliveries are queued; `sendBy` runs from here. */
  now: Date;
  policy: DeadlinePolicy;
  messageDomain: string;
}

/**
 * The outbox rows for one team's copy: its primary email, its webhooks and its MESH mailboxes (the
 * secondary address is the watchdog's to use). Intake, redirects and hand routing all queue a team's copy this way.
 */
export function teamDeliveries(input: TeamDeliveryInput): NewDelivery[] {
  const { team, routeId } = input;
  const at = input.now.toISOString();
  const due = sendBy(input.now, input.policy).toISOString();
  return targetsOf(team, 'referral').map(({ channel, address }) => {
    const id = newRowId(input.now);
    return {
      id,
      referral_id: input.referralId,
      route_id: routeId,
      team_id: team.id,
      channel,
      address,
      purpose: 'referral',
      state: 'queued',
      attempts: 0,
      next_attempt_at: at,
      locked_by: null,
      lease_until: null,
      last_error: null,
      send_by: due,
      message_id: `<${id}@${input.messageDomain}>`,
      created_at: at,
      updated_at: at,
      sent_at: null,
      acknowledged_at: null,
    };
  });
}
