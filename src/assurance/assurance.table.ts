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
  reason: string;
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
}
