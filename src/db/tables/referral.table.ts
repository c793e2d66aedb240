import type { Generated } from 'kysely';

/** Row types of referrals and what hangs off them. Timestamps are ISO 8601 UTC text. */
export interface ReferralTable {
  id: string;
  reference: string;
  source_system: string;
  source_reference: string;
  body_hash: string;
  /** The referral as received (personal data), encrypted (src/governance/personal-data.ts). */
  payload: string;
  subject_type: string;
  referral_type: string;
  urgency: string;
  categories: string;
  status: string;
  received_at: string;
  updated_at: string;
  /** Null only when no directory had been loaded: the referral then waits in triage. */
  directory_version: number | null;
  raised_by_key: string | null;
  raised_by_user: string | null;
  closed_at: string | null;
  /** Why a person closed it by hand (personal data, encrypted); null when it closed with its outcomes. */
  close_reason: string | null;
  closed_by: string | null;
  /** 1 while on legal hold: retention leaves its personal data alone (0/1 on both engines). */
  legal_hold: Generated<number>;
  legal_hold_reason: string | null;
  legal_hold_by: string | null;
  legal_hold_at: string | null;
  /** When retention blanked its personal data; the row, routes, deadlines and timeline stay. */
  purged_at: string | null;
}

export interface RouteTable {
  id: string;
  referral_id: string;
  authority_id: string;
  team_id: string;
  team_kind: string;
  reason: string;
  /** The router's order: day teams first, then out-of-hours. */
  position: number;
  /** The referral's urgency, 2 (immediate) to 0 (routine): urgencyRank in src/directory/router.ts. */
  urgency_rank: number;
  ack_by: string;
  reminder_at: string;
  reminded_at: string | null;
  /** When the secondary address (and out-of-hours team) were alerted at the deadline. */
  alerted_at: string | null;
  acknowledged_at: string | null;
  outcome: string | null;
  outcome_note: string | null;
  outcome_at: string | null;
  created_at: string;
}

export interface TriageItemTable {
  id: string;
  referral_id: string;
  reason: string;
  detail: string;
  authority_id: string | null;
  created_at: string;
  triage_by: string;
  resolved_at: string | null;
  resolved_by: string | null;
  resolution: string | null;
  /** How triage finished it: 'routed', 'handed-off' or 'closed'; null while open. */
  outcome: string | null;
  /** Handed off: the other area's service (an organisation, never a person) and how it was sent. */
  handoff_service: string | null;
  handoff_method: string | null;
}

export interface ReferralEventTable {
  id: Generated<number>;
  referral_id: string;
  at: string;
  kind: string;
  actor: string;
  /** JSON without personal data: ids, states, reasons. */
  detail: string;
}

export interface ReferenceCounterTable {
  year: number;
  last: number;
}

/**
 * A keyed blind index of one search term of a referral (src/records/search-index.ts): an HMAC
 * digest of the normalised value, never the value. Deleted when retention removes the personal data.
 */
export interface ReferralSearchTermTable {
  referral_id: string;
  /** name, full-name, dob, nhs, incident or postcode (src/records/search-terms.ts). */
  kind: string;
  /** The personal-data key the HMAC key was derived from. */
  key_id: string;
  digest: string;
  /** The referral's received_at, so that the index by digest lists the newest holders first. */
  received_at: string;
}
