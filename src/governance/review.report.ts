import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import {
  progressOf,
  REVIEW_CONDITIONS,
  type Progress,
  type Review,
  type ReviewCondition,
} from './review.model.ts';
import { findReview, reviewCases, type CaseListing } from './review.queries.ts';

/**
 * What a review's exports show: the review, its cases and counts. It carries references, codes,
 * statuses and staff names only, never a referral's content or a case's notes, so the CSV and PDF
 * can go to a board or the regulator without anyone's personal data.
 */
export interface ReviewReport {
  review: Review;
  cases: CaseListing[];
  progress: Progress;
  byCondition: Record<ReviewCondition, number>;
}

export async function loadReport(db: Kysely<Database>, reviewId: string): Promise<ReviewReport> {
  const review = await findReview(db, reviewId);
  const cases = await reviewCases(db, reviewId);
  const byCondition = Object.fromEntries(
    REVIEW_CONDITIONS.map((c) => [c, cases.filter((k) => k.conditions.includes(c)).length]),
  ) as Record<ReviewCondition, number>;
  return { review, cases, progress: progressOf(cases.map((c) => c.status)), byCondition };
}
