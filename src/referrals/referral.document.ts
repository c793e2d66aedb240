import type { RelayContext } from '../context.ts';
import { deliveriesOfReferral, type DeliverySummary } from '../records/delivery.repository.ts';
import { findAuthority, findTeam, type Directory } from '../directory/directory.types.ts';
import type { ReferralSummary, StatusDocument } from './referral.document.schema.ts';
import {
  acknowledgementsOf,
  escalationsOf,
  eventsOf,
  routesOf,
  triageOf,
  type ReferralRow,
  type RouteRow,
  type TriageRow,
} from '../records/referral.repository.ts';

/** The referral row's columns the document shows. */
export type DocumentReferral = Pick<
  ReferralRow,
  | 'id'
  | 'reference'
  | 'status'
  | 'source_system'
  | 'source_reference'
  | 'received_at'
  | 'updated_at'
  | 'subject_type'
  | 'referral_type'
  | 'urgency'
  | 'categories'
  | 'directory_version'
>;

/** What a status document is made of besides the referral row: its parts, in the document's order. */
export interface ReferralParts {
  routes: Pick<
    RouteRow,
    'id' | 'authority_id' | 'team_id' | 'team_kind' | 'reason' | 'ack_by' | 'acknowledged_at' | 'outcome'
  >[];
  triage: Pick<TriageRow, 'reason' | 'detail' | 'triage_by' | 'resolved_at'>[];
  deliveries: DeliverySummary[];
  acknowledgements: {
    team_id: string;
    at: string;
    method: string;
    by_name: string;
    delivery_id: string | null;
  }[];
  escalations: {
    id: string;
    team_id: string | null;
    reason: string;
    state: string;
    opened_at: string;
    claimed_by: string | null;
    resolved_at: string | null;
  }[];
  events: { at: string; kind: string; actor: string; detail: string }[];
}

/**
 * The status document (docs/api.md, Status document). It carries ids, states and deadlines, never the subject's
 * personal data, so a source system may read it for the referrals it raised.
 */
export async function statusDocument(ctx: RelayContext, referral: ReferralRow): Promise<StatusDocument> {
  const db = ctx.db.kysely;
  const [routes, triage, deliveries, acknowledgements, escalations, events] = await Promise.all([
    routesOf(db, referral.id),
    triageOf(db, referral.id),
    deliveriesOfReferral(db, referral.id),
    acknowledgementsOf(db, referral.id),
    escalationsOf(db, referral.id),
    eventsOf(db, referral.id),
  ]);
  const directory = referral.directory_version
    ? await ctx.directories.version(referral.directory_version)
    : undefined;
  return documentOf(
    referral,
    { routes, triage, deliveries, acknowledgements, escalations, events },
    directory,
  );
}

/** The document from rows in hand: read back by statusDocument, or just written by intake (intake.receipt.ts). */
export function documentOf(
  referral: DocumentReferral,
  parts: ReferralParts,
  directory: Directory | undefined,
): StatusDocument {
  const { routes, triage, deliveries, acknowledgements, escalations, events } = parts;
  const names = nameLookup(directory);
  const openTriage = triage.filter((t) => t.resolved_at === null);
  return {
    id: referral.id,
    reference: referral.reference,
    status: referral.status as StatusDocument['status'],
    source: { system: referral.source_system, reference: referral.source_reference },
    receivedAt: referral.received_at,
    updatedAt: referral.updated_at,
    subjectType: referral.subject_type as StatusDocument['subjectType'],
    referralType: referral.referral_type as StatusDocument['referralType'],
    urgency: referral.urgency as StatusDocument['urgency'],
    categories: JSON.parse(referral.categories) as string[],
    directoryVersion: referral.directory_version,
    routes: routes.map((r) => ({
      authority: r.authority_id,
      authorityName: names.authority(r.authority_id),
      team: r.team_id,
      teamName: names.team(r.team_id),
      teamKind: r.team_kind as Route['teamKind'],
      reason: r.reason as Route['reason'],
      ackBy: r.ack_by,
      acknowledgedAt: r.acknowledged_at,
      outcome: r.outcome,
    })),
    triage: triage.map((t) => ({
      reason: t.reason,
      detail: t.detail,
      triageBy: t.triage_by,
      resolvedAt: t.resolved_at,
    })),
    deliveries: deliveries.map((d) => ({
      id: d.id,
      team: d.teamId,
      channel: d.channel as Delivery['channel'],
      address: d.address,
      purpose: d.purpose,
      state: d.state as Delivery['state'],
      attempts: d.attempts,
      lastError: d.lastError,
      sendBy: d.sendBy,
      sentAt: d.sentAt,
      acknowledgedAt: d.acknowledgedAt,
    })),
    deadlines: {
      sendBy: earliest(deliveries.filter((d) => d.purpose === 'referral').map((d) => d.sendBy)),
      ackBy: earliest(routes.filter((r) => r.acknowledged_at === null).map((r) => r.ack_by)),
      triageBy: earliest(openTriage.map((t) => t.triage_by)),
    },
    acknowledgements: acknowledgements.map((a) => ({
      team: a.team_id,
      at: a.at,
      method: a.method,
      by: a.by_name,
      coverFor: coveredTeam(a, deliveries, routes),
    })),
    escalations: escalations.map((e) => ({
      id: e.id,
      team: e.team_id,
      reason: e.reason,
      state: e.state as StatusDocument['escalations'][number]['state'],
      openedAt: e.opened_at,
      claimedBy: e.claimed_by,
      resolvedAt: e.resolved_at,
    })),
    timeline: events.map((e) => ({
      at: e.at,
      kind: e.kind,
      actor: e.actor,
      detail: JSON.parse(e.detail) as Record<string, unknown>,
    })),
  };
}

type Route = StatusDocument['routes'][number];
type Delivery = StatusDocument['deliveries'][number];

/** An acknowledgement through a cover alert names the closed team the alert was about. */
function coveredTeam(
  ack: { team_id: string; delivery_id: string | null },
  deliveries: { id: string; routeId: string | null }[],
  routes: { id: string; team_id: string }[],
): string | null {
  const about = deliveries.find((d) => d.id === ack.delivery_id)?.routeId;
  const team = routes.find((r) => r.id === about)?.team_id;
  return team !== undefined && team !== ack.team_id ? team : null;
}

function earliest(values: string[]): string | null {
  return values.length === 0 ? null : values.reduce((a, b) => (a < b ? a : b));
}

function nameLookup(directory: Directory | undefined) {
  return {
    authority: (id: string) => findAuthority(directory, id)?.name ?? id,
    team: (id: string) => findTeam(directory, id)?.name ?? id,
  };
}

/** A list entry: enough to see what changed without fetching every document. */
export function summaryOf(referral: ReferralRow): ReferralSummary {
  return {
    id: referral.id,
    reference: referral.reference,
    status: referral.status as ReferralSummary['status'],
    source: { system: referral.source_system, reference: referral.source_reference },
    receivedAt: referral.received_at,
    updatedAt: referral.updated_at,
    subjectType: referral.subject_type as ReferralSummary['subjectType'],
    urgency: referral.urgency as ReferralSummary['urgency'],
  };
}
