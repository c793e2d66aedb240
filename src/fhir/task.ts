/**
 * A referral's progress as FHIR Tasks, one per team route (and one for an open triage item), built
 * from the status document so that both APIs tell the same story and neither carries personal data.
 * Task.status is the team's own progress; businessStatus is Relay's word for it (docs/api.md, FHIR).
 */
import type { StatusDocument } from '../referrals/referral.document.schema.ts';
import { REFERENCE_SYSTEM, TASK_STATUS_SYSTEM, TEAM_SYSTEM } from './fhir.codes.ts';

type Route = StatusDocument['routes'][number];

export const BUSINESS_STATUSES = {
  triage: 'Waiting for the safeguarding team to choose the team',
  queued: 'Not yet sent to the team',
  sent: 'Sent to the team, not yet acknowledged',
  escalated: 'Escalated to the safeguarding team',
  acknowledged: 'Acknowledged by the team',
  outcome: 'The team has recorded its outcome',
  redirected: 'Redirected by the team to another team',
} as const;

type BusinessStatus = keyof typeof BUSINESS_STATUSES;

function progressOf(doc: StatusDocument, route: Route): { status: string; business: BusinessStatus } {
  if (route.outcome === 'redirected') return { status: 'cancelled', business: 'redirected' };
  if (route.outcome !== null) return { status: 'completed', business: 'outcome' };
  const escalated = doc.escalations.some((e) => e.team === route.team && e.state !== 'resolved');
  if (route.acknowledgedAt !== null) {
    return { status: 'accepted', business: escalated ? 'escalated' : 'acknowledged' };
  }
  const sent = doc.deliveries.some((d) => d.team === route.team && d.sentAt !== null);
  return {
    status: sent ? 'received' : 'requested',
    business: escalated ? 'escalated' : sent ? 'sent' : 'queued',
  };
}

function task(doc: StatusDocument, id: string, business: BusinessStatus, status: string) {
  return {
    resourceType: 'Task',
    id,
    identifier: [{ system: REFERENCE_SYSTEM, value: doc.reference }],
    status,
    businessStatus: {
      coding: [{ system: TASK_STATUS_SYSTEM, code: business }],
      text: BUSINESS_STATUSES[business],
    },
    intent: 'order',
    focus: { reference: `ServiceRequest/${doc.id}` },
    authoredOn: doc.receivedAt,
    lastModified: doc.updatedAt,
  };
}

function routeTask(doc: StatusDocument, route: Route, index: number) {
  const { status, business } = progressOf(doc, route);
  const output = [
    ...(route.acknowledgedAt
      ? [{ type: { text: 'acknowledged' }, valueDateTime: route.acknowledgedAt }]
      : []),
    ...(route.outcome ? [{ type: { text: 'outcome' }, valueCode: route.outcome }] : []),
  ];
  return {
    ...task(doc, `${doc.id}-${index + 1}`, business, status),
    owner: { identifier: { system: TEAM_SYSTEM, value: route.team }, display: route.teamName },
    // The deadline by which the team must acknowledge.
    restriction: { period: { end: route.ackBy } },
    ...(output.length > 0 ? { output } : {}),
  };
}

export function tasksOf(doc: StatusDocument) {
  const triage = doc.triage
    .filter((t) => t.resolvedAt === null)
    .map((t) => ({
      ...task(doc, `${doc.id}-triage`, 'triage', 'requested'),
      restriction: { period: { end: t.triageBy } },
    }));
  return [...triage, ...doc.routes.map((route, i) => routeTask(doc, route, i))];
}
