import type { Selectable } from 'kysely';
import { addDays, londonLocal } from '../directory/hours.ts';
import type { ReviewCaseTable, ReviewTable } from '../db/tables/review.table.ts';

/** What puts a referral into a review's cohort (docs/operations.md, Incident reviews and the audit log); a case may match several. */
export const REVIEW_CONDITIONS = [
  'failed',
  'bounced',
  'breached-send-by',
  'breached-ack-by',
  'escalated',
  'missing-in-reconciliation',
] as const;
export type ReviewCondition = (typeof REVIEW_CONDITIONS)[number];

/** A review's files: the cases as CSV, the report as PDF (review.export.ts writes them). */
export const EXPORT_FORMATS = ['csv', 'pdf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CASE_STATUSES = [
  'not-started',
  'in-review',
  'no-harm-found',
  'harm-found',
  'action-taken',
] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

/** A case is finished once the reviewer has reached a finding; the rest are still to do. */
export const FINISHED_STATUSES: ReadonlySet<CaseStatus> = new Set([
  'no-harm-found',
  'harm-found',
  'action-taken',
]);

export const CONDITION_LABELS: Record<ReviewCondition, string> = {
  failed: 'Delivery failed',
  bounced: 'Email bounced',
  'breached-send-by': 'Not sent by the send-by deadline',
  'breached-ack-by': 'Not acknowledged by the deadline',
  escalated: 'Escalated',
  'missing-in-reconciliation': 'Missing from Relay in a reconciliation',
};

export const STATUS_LABELS: Record<CaseStatus, string> = {
  'not-started': 'Not started',
  'in-review': 'In review',
  'no-harm-found': 'No harm found',
  'harm-found': 'Harm found',
  'action-taken': 'Action taken',
};

export const isCondition = (value: string): value is ReviewCondition =>
  (REVIEW_CONDITIONS as readonly string[]).includes(value);
export const isCaseStatus = (value: string): value is CaseStatus =>
  (CASE_STATUSES as readonly string[]).includes(value);

export interface Review {
  id: string;
  title: string;
  from: string;
  to: string;
  conditions: ReviewCondition[];
  createdBy: string;
  createdByName: string;
  createdAt: string;
  caseCount: number;
}

export interface ReviewCase {
  id: string;
  reviewId: string;
  position: number;
  referralId: string | null;
  escalationId: string | null;
  reference: string;
  sourceSystem: string | null;
  sourceReference: string | null;
  receivedAt: string | null;
  urgency: string | null;
  conditions: ReviewCondition[];
  reviewerId: string | null;
  status: CaseStatus;
  updatedAt: string;
}

export function reviewRowToReview(row: Selectable<ReviewTable>): Review {
  return {
    id: row.id,
    title: row.title,
    from: row.period_from,
    to: row.period_to,
    conditions: JSON.parse(row.conditions) as ReviewCondition[],
    createdBy: row.created_by,
    createdByName: row.created_by_name,
    createdAt: row.created_at,
    caseCount: row.case_count,
  };
}

export function caseRowToCase(row: Selectable<ReviewCaseTable>): ReviewCase {
  return {
    id: row.id,
    reviewId: row.review_id,
    position: row.position,
    referralId: row.referral_id,
    escalationId: row.escalation_id,
    reference: row.reference,
    sourceSystem: row.source_system,
    sourceReference: row.source_reference,
    receivedAt: row.received_at,
    urgency: row.urgency,
    conditions: JSON.parse(row.conditions) as ReviewCondition[],
    reviewerId: row.reviewer_id,
    status: isCaseStatus(row.status) ? row.status : 'not-started',
    updatedAt: row.updated_at,
  };
}

export interface Progress {
  total: number;
  byStatus: Record<CaseStatus, number>;
  finished: number;
  /** Whole per cent of cases finished; an empty review is complete. */
  percentComplete: number;
}

export function progressFromCounts(counts: Partial<Record<CaseStatus, number>>): Progress {
  const byStatus = Object.fromEntries(CASE_STATUSES.map((s) => [s, counts[s] ?? 0])) as Record<
    CaseStatus,
    number
  >;
  const total = CASE_STATUSES.reduce((n, s) => n + byStatus[s], 0);
  const finished = CASE_STATUSES.filter((s) => FINISHED_STATUSES.has(s)).reduce((n, s) => n + byStatus[s], 0);
  return {
    total,
    byStatus,
    finished,
    percentComplete: total === 0 ? 100 : Math.floor((finished * 100) / total),
  };
}

export function progressOf(statuses: readonly CaseStatus[]): Progress {
  const counts: Partial<Record<CaseStatus, number>> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return progressFromCounts(counts);
}

/**
 * A period of whole London days as its first and last day (YYYY-MM-DD, both inclusive), which is
 * how people state one; undefined when either end is not a London midnight.
 */
export function periodDays(from: string, to: string): { first: string; last: string } | undefined {
  const start = londonLocal(new Date(from));
  const end = londonLocal(new Date(to));
  if (start.minutes !== 0 || end.minutes !== 0) return undefined;
  return { first: start.date, last: addDays(end.date, -1) };
}

/** Who does something to a review: the audit actor and the name shown on it. */
export interface ReviewActor {
  actor: string;
  name: string;
}
