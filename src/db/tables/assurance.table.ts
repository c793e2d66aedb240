import type { Generated } from 'kysely';
import type { EscalationReason } from '../codes.ts';

export interface AcknowledgementTable {
  id: string;
  referral_id: string;
  route_id: string;
  team_id: string;
  delivery_id: string | null;
  at: string;
  method: string;
  by_name: string;
  by_user: string | null;
  by_key: string | null;
}

export interface EscalationTable {
  id: string;
  /** `referral:team:reason`, unique, so concurrent sweeps cannot open the same escalation twice. */
  dedupe_key: string;
  referral_id: string | null;
  team_id: string | null;
  reason: EscalationReason;
  state: string;
  detail: string;
  opened_at: string;
  claimed_by: string | null;
  claimed_at: string | null;
  resolved_by: string | null;
  resolved_at: string | null;
  /** Encrypted when a person wrote it (src/governance/personal-data.ts). */
  note: string | null;
  /** A team's free text on a manifest dispute, encrypted; kept out of `detail`, which the audit log copies. */
  team_note: string | null;
  /** Who the escalation was first pushed to: the person on call, or SAFEGUARDING_EMAIL. */
  assigned_to: string | null;
  /** The ladder rung last pushed (0: on call); climbs while nobody claims it. */
  rung: Generated<number>;
  /** When the current rung was pushed; null until the escalation is first pushed. */
  pushed_at: string | null;
  /** The resolved escalation this one re-opens, when its condition still stood. */
  previous_id: string | null;
  /** Resolved: when to check again whether the condition still stands; null once checked. */
  follow_up_at: string | null;
}
