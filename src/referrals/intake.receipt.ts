import type { Directory } from '../directory/directory.types.ts';
import type { StatusDocument } from './referral.document.schema.ts';
import { documentOf, type ReferralParts } from './referral.document.ts';
import type { PreparedIntake, WrittenIntake } from './intake.writer.ts';

/**
 * The answer to a new referral, from the rows intake has just committed rather than read back:
 * the same document GET /api/v1/referrals/:id gives at that moment (nothing else can have changed
 * a referral nobody has seen yet, bar a dispatcher already sending it, whose `queued` is then the
 * truth at acceptance). Parts come in the order the reads sort them.
 */
export function receiptDocument(
  prepared: PreparedIntake,
  written: WrittenIntake,
  directory: Directory | undefined,
): StatusDocument {
  const referral = { ...written.referral, directory_version: written.referral.directory_version ?? null };
  return documentOf(referral, receiptParts(prepared, written), directory);
}

function receiptParts({ plan }: PreparedIntake, written: WrittenIntake): ReferralParts {
  return {
    // Planned in position order, as routesOf sorts them.
    routes: plan.routes.map((r) => ({
      id: r.id,
      authority_id: r.authority_id,
      team_id: r.team_id,
      team_kind: r.team_kind,
      reason: r.reason,
      ack_by: r.ack_by,
      acknowledged_at: r.acknowledged_at ?? null,
      outcome: r.outcome ?? null,
    })),
    triage: plan.triage
      ? [
          {
            reason: plan.triage.reason,
            detail: plan.triage.detail,
            triage_by: plan.triage.triage_by,
            resolved_at: plan.triage.resolved_at ?? null,
          },
        ]
      : [],
    // deliveriesOfReferral's order: created_at (one time for all), team, channel, id.
    deliveries: [...plan.deliveries].sort(byTeamChannelId).map((d) => ({
      id: d.id,
      routeId: d.route_id ?? null,
      teamId: d.team_id,
      channel: d.channel,
      address: d.address,
      purpose: d.purpose,
      state: d.state,
      attempts: d.attempts ?? 0,
      lastError: d.last_error ?? null,
      sendBy: d.send_by,
      sentAt: d.sent_at ?? null,
      acknowledgedAt: d.acknowledged_at ?? null,
    })),
    acknowledgements: [],
    escalations: [],
    // Inserted in this order, so their ids sort them so.
    events: written.events.map((e) => ({ at: e.at, kind: e.kind, actor: e.actor, detail: e.detail })),
  };
}

type Sortable = { team_id: string; channel: string; id: string };

function byTeamChannelId(a: Sortable, b: Sortable): number {
  return compare(a.team_id, b.team_id) || compare(a.channel, b.channel) || compare(a.id, b.id);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
