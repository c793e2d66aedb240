import type { DeliveryState, EscalationReason } from '../../db/codes.ts';
import type { ReferralStatus } from '../../records/referral.status.ts';

/**
 * Plain-English words for the codes the safeguarding pages show. Each table is keyed by its code's
 * union, so a new reason or state without words does not compile; a code from an older row that
 * is no longer in the union is shown as itself.
 */

const ESCALATION_REASONS: Record<EscalationReason, string> = {
  'not-sent': 'Not sent in time',
  failed: 'Delivery failed',
  bounced: 'Email bounced',
  'not-acknowledged': 'Not acknowledged by the deadline',
  'triage-overdue': 'Not routed from triage in time',
  'volume-drop': 'Far fewer referrals than usual',
  'destination-silent': 'Team has acknowledged nothing for too long',
  'test-alert-unacknowledged': 'Test alert not acknowledged',
  'manifest-disputed': 'Team disputes the daily list of referrals',
  'missing-referral': 'Referral missing from Relay',
  'rota-gap': 'Nobody on the on-call rota for part of the next 7 days',
  'clock-skew': "A server's clock disagrees with the database's, so deadlines may be wrong",
  'directory-stale': 'The directory’s bank-holiday list runs out within 90 days',
};

const TRIAGE_REASONS: Record<string, string> = {
  'no-coverage': 'No authority covers the postcode',
  'ambiguous-postcode': 'Postcode is split between authorities',
  'no-team': 'The authority has no suitable team',
  'no-directory': 'No directory was loaded',
};

const REFERRAL_STATUSES: Record<ReferralStatus, string> = {
  received: 'Received',
  triage: 'In triage',
  routed: 'Routed, not yet sent',
  sent: 'Sent, awaiting acknowledgement',
  acknowledged: 'Acknowledged',
  escalated: 'Escalated',
  closed: 'Closed',
};

const DELIVERY_STATES: Record<DeliveryState, string> = {
  queued: 'Queued',
  sending: 'Sending',
  retrying: 'Retrying',
  sent: 'Sent',
  acknowledged: 'Acknowledged',
  failed: 'Failed',
  bounced: 'Bounced',
  cancelled: 'Cancelled',
};

/** The states a person should look at: nothing in them moves on without help, or it is late. */
export const NEEDS_ATTENTION = new Set(['escalated', 'triage', 'failed', 'bounced', 'retrying']);

/** The words for a code, or the code itself when the table has none. */
function wordsFor<Code extends string>(table: Record<Code, string>): (code: string) => string {
  const words: Partial<Record<string, string>> = table;
  return (code) => words[code] ?? code;
}

export const escalationReason = wordsFor(ESCALATION_REASONS);
export const triageReason = wordsFor(TRIAGE_REASONS);
export const referralStatus = wordsFor(REFERRAL_STATUSES);
export const deliveryState = wordsFor(DELIVERY_STATES);

/** A phone number as a tel: link target: digits and a leading plus only. */
export function telHref(number: string): string {
  return `tel:${number.replace(/[^0-9+]/g, '')}`;
}

const MINUTE_MS = 60_000;

/** "45 min", "2 h 5 min", "3 d 4 h": a duration as a person reads it on a dashboard. */
export function formatDuration(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / MINUTE_MS);
  if (minutes < 1) return 'under 1 min';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}
