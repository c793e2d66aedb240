import type { Kysely } from 'kysely';
import type { DataKey } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { RelayError } from '../errors.ts';
import { rowToUser } from '../access/user.service.ts';
import { PERSONAL_FIELDS, unsealField } from '../records/personal-data.ts';
import {
  caseRowToCase,
  isCaseStatus,
  progressFromCounts,
  reviewRowToReview,
  type CaseStatus,
  type Progress,
  type Review,
  type ReviewCase,
} from './review.model.ts';

export async function findReview(db: Kysely<Database>, id: string): Promise<Review> {
  const row = await db.selectFrom('reviews').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new RelayError('not-found', 'No review with that id');
  return reviewRowToReview(row);
}

async function statusCounts(db: Kysely<Database>, reviewId?: string) {
  let query = db
    .selectFrom('review_cases')
    .select(['review_id', 'status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy(['review_id', 'status']);
  if (reviewId) query = query.where('review_id', '=', reviewId);
  const rows = await query.execute();
  const byReview = new Map<string, Partial<Record<CaseStatus, number>>>();
  for (const row of rows) {
    const counts = byReview.get(row.review_id) ?? {};
    if (isCaseStatus(row.status)) counts[row.status] = Number(row.n);
    byReview.set(row.review_id, counts);
  }
  return byReview;
}

/** Every review, newest first, with its progress. */
export async function listReviews(db: Kysely<Database>): Promise<{ review: Review; progress: Progress }[]> {
  const rows = await db
    .selectFrom('reviews')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
  const counts = await statusCounts(db);
  return rows.map((row) => ({
    review: reviewRowToReview(row),
    progress: progressFromCounts(counts.get(row.id) ?? {}),
  }));
}

export interface CaseListing extends ReviewCase {
  reviewerName: string | null;
  notes: number;
}

/** A review's cases in cohort order, with the reviewer's name and how many notes each has. */
export async function reviewCases(db: Kysely<Database>, reviewId: string): Promise<CaseListing[]> {
  const rows = await db
    .selectFrom('review_cases')
    .leftJoin('users', 'users.id', 'review_cases.reviewer_id')
    .selectAll('review_cases')
    .select('users.name as reviewer_name')
    .select((eb) =>
      eb
        .selectFrom('review_notes')
        .select((n) => n.fn.countAll<number>().as('n'))
        .whereRef('review_notes.case_id', '=', 'review_cases.id')
        .as('notes'),
    )
    .where('review_cases.review_id', '=', reviewId)
    .orderBy('review_cases.position')
    .execute();
  return rows.map(({ reviewer_name, notes, ...row }) => ({
    ...caseRowToCase(row),
    reviewerName: reviewer_name,
    notes: Number(notes ?? 0),
  }));
}

export async function findCase(db: Kysely<Database>, reviewId: string, caseId: string): Promise<CaseListing> {
  const found = (await reviewCases(db, reviewId)).find((c) => c.id === caseId);
  if (!found) throw new RelayError('not-found', 'No such case in this review');
  return found;
}

export async function reviewProgress(db: Kysely<Database>, reviewId: string): Promise<Progress> {
  return progressFromCounts((await statusCounts(db, reviewId)).get(reviewId) ?? {});
}

export interface CaseNote {
  at: string;
  authorName: string;
  text: string;
  /** Removed under the retention policy. */
  removed?: boolean;
}

/** Notes opened for reading; one removed under the retention policy reads as `removed`. */
export async function caseNotes(
  db: Kysely<Database>,
  keys: readonly DataKey[],
  caseId: string,
): Promise<CaseNote[]> {
  const rows = await db
    .selectFrom('review_notes')
    .select(['id', 'at', 'author_name', 'text', 'purged_at'])
    .where('case_id', '=', caseId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    at: r.at,
    authorName: r.author_name,
    text: r.purged_at ? '' : (unsealField(keys, PERSONAL_FIELDS.reviewNote, String(r.id), r.text) ?? ''),
    ...(r.purged_at ? { removed: true } : {}),
  }));
}

export interface CaseEvent {
  at: string;
  actor: string;
  detail: Record<string, unknown>;
}

/** A case's changes, oldest first, read back from the audit log, which is their record of truth. */
export async function caseHistory(db: Kysely<Database>, caseId: string): Promise<CaseEvent[]> {
  const rows = await db
    .selectFrom('audit_log')
    .select(['at', 'actor', 'detail'])
    .where('entity_type', '=', 'review_case')
    .where('entity_id', '=', caseId)
    .where('action', '=', 'review.case-updated')
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({
    at: r.at,
    actor: r.actor,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  }));
}

export interface Person {
  id: string;
  name: string;
}

/** Who can review: enabled accounts with the safeguarding role, by name. */
export async function reviewers(db: Kysely<Database>): Promise<Person[]> {
  const rows = await db.selectFrom('users').selectAll().where('disabled_at', 'is', null).execute();
  return rows
    .map(rowToUser)
    .filter((u) => u.roles.includes('safeguarding'))
    .map((u) => ({ id: u.id, name: u.name }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** People's names by id, for showing `user:<id>` actors and reviewer ids as names. */
export async function userNames(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await db.selectFrom('users').select(['id', 'name']).where('id', 'in', unique).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}
