export const REFERRAL_STATUSES = [
  'received',
  'triage',
  'routed',
  'sent',
  'acknowledged',
  'escalated',
  'closed',
] as const;
export type ReferralStatus = (typeof REFERRAL_STATUSES)[number];

export interface StatusFacts {
  closed: boolean;
  openEscalations: number;
  openTriage: boolean;
  routes: { id: string; acknowledged: boolean }[];
  deliveries: { routeId: string | null; state: string }[];
}

const DELIVERED = new Set(['sent', 'acknowledged']);

/**
 * The referral's status is derived from its parts, never set by hand, so it cannot drift from them.
 * What needs a person comes first: an open escalation or triage outranks progress elsewhere.
 */
export function deriveStatus(facts: StatusFacts): ReferralStatus {
  if (facts.closed) return 'closed';
  if (facts.openEscalations > 0) return 'escalated';
  if (facts.openTriage) return 'triage';
  if (facts.routes.length === 0) return 'received';
  if (facts.routes.every((r) => r.acknowledged)) return 'acknowledged';
  const delivered = (routeId: string) =>
    facts.deliveries.some((d) => d.routeId === routeId && DELIVERED.has(d.state));
  if (facts.routes.every((r) => r.acknowledged || delivered(r.id))) return 'sent';
  return 'routed';
}
