import type { Generated } from 'kysely';

/** A review's cohort is frozen at creation: its cases are copied, never re-selected. */
export interface ReviewTable {
  id: string;
  title: string;
  /** The period of receipt, [from, to), as ISO 8601 UTC instants. */
  period_from: string;
  period_to: string;
  /** JSON array of ReviewCondition. */
  conditions: string;
  /** `user:<id>` or `cli`, as in the audit log. */
  created_by: string;
  created_by_name: string;
  created_at: string;
  case_count: number;
}

export interface ReviewCaseTable {
  id: string;
  review_id: string;
  position: number;
  referral_id: string | null;
  /** Set for a source record missing from Relay: the escalation that reported it. */
  escalation_id: string | null;
  /** The referral's SR reference, or the source system's reference when Relay never had it. */
  reference: string;
  source_system: string | null;
  source_reference: string | null;
  received_at: string | null;
  urgency: string | null;
  /** JSON array of the conditions this case matched when the review was created. */
  conditions: string;
  reviewer_id: string | null;
  status: string;
  updated_at: string;
}

/** Append-only: notes are never edited, so what a reviewer wrote at the time stays on record. */
export interface ReviewNoteTable {
  id: Generated<number>;
  case_id: string;
  at: string;
  author: string;
  author_name: string;
  /**
   * May hold personal data: sealed (field encryption, PERSONAL_FIELDS.reviewNote) and never copied
   * into the audit log, the CSV or the PDF. Emptied by retention, which sets `purged_at`.
   */
  text: string;
  purged_at: string | null;
}
