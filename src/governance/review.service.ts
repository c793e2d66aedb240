import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { DataKey } from '../config.ts';
import type { RelayContext } from '../context.ts';
import type { Dialect } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import { RelayError, type FieldIssue } from '../errors.ts';
import { rowToUser } from '../access/user.service.ts';
import { appendAudit } from '../records/audit.ts';
import { PERSONAL_FIELDS, sealField } from '../records/personal-data.ts';
import { selectCohort, type CohortCase } from './review.cohort.ts';
import {
  CASE_STATUSES,
  isCaseStatus,
  isCondition,
  REVIEW_CONDITIONS,
  type CaseStatus,
  type Review,
  type ReviewActor,
} from './review.model.ts';
import type { ReviewCaseTable } from '../db/tables/review.table.ts';

export const TITLE_MAX = 200;
export const NOTE_MAX = 5000;
const INSERT_CHUNK = 200;

export interface NewReview {
  title: string;
  from: string | Date;
  to: string | Date;
  conditions: readonly string[];
}

function instant(value: string | Date): string | undefined {
  const time = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

/** Every problem at once, by field; the conditions come back de-duplicated in their usual order. */
function validateReview(input: NewReview) {
  const issues: FieldIssue[] = [];
  const title = input.title.trim();
  if (!title) issues.push({ path: 'title', message: 'Enter a title for the review' });
  else if (title.length > TITLE_MAX)
    issues.push({ path: 'title', message: `Title must be ${TITLE_MAX} characters or fewer` });
  const from = instant(input.from);
  const to = instant(input.to);
  if (!from) issues.push({ path: 'from', message: 'Enter the start of the period as a date' });
  if (!to) issues.push({ path: 'to', message: 'Enter the end of the period as a date' });
  if (from && to && to <= from)
    issues.push({ path: 'to', message: 'The end of the period must be after its start' });
  const unknown = input.conditions.filter((c) => !isCondition(c));
  if (unknown.length > 0) issues.push({ path: 'conditions', message: 'Select conditions from the list' });
  const conditions = REVIEW_CONDITIONS.filter((c) => input.conditions.includes(c));
  if (conditions.length === 0 && unknown.length === 0)
    issues.push({ path: 'conditions', message: 'Select at least one condition' });
  if (issues.length > 0 || !from || !to)
    throw new RelayError('validation-failed', 'The review is not valid', issues);
  return { title, from, to, conditions };
}

/**
 * Creates a review and freezes its cohort: the matching cases are selected and copied in the same
 * transaction, so later changes to referrals (a late acknowledgement, a resolved escalation) never
 * add or remove a case, and the review reports on what was true when it was opened.
 */
export async function createReview(ctx: RelayContext, input: NewReview, by: ReviewActor): Promise<Review> {
  const { title, from, to, conditions } = validateReview(input);
  const now = ctx.clock.now();
  const review: Review = {
    id: randomUUID(),
    title,
    from,
    to,
    conditions,
    createdBy: by.actor,
    createdByName: by.name,
    createdAt: now.toISOString(),
    caseCount: 0,
  };
  await ctx.db.kysely.transaction().execute(async (trx) => {
    const cohort = await selectCohort(trx, { from, to }, conditions, now);
    review.caseCount = cohort.length;
    await trx
      .insertInto('reviews')
      .values({
        id: review.id,
        title,
        period_from: from,
        period_to: to,
        conditions: JSON.stringify(conditions),
        created_by: by.actor,
        created_by_name: by.name,
        created_at: review.createdAt,
        case_count: cohort.length,
      })
      .execute();
    await insertCases(trx, review.id, cohort, review.createdAt);
    await appendAudit(trx, now, {
      actor: by.actor,
      action: 'review.created',
      entityType: 'review',
      entityId: review.id,
      // The title is free text and may name someone, so the audit entry keeps to the period and counts.
      detail: { from, to, conditions, cases: cohort.length },
    });
  });
  return review;
}

async function insertCases(trx: Kysely<Database>, reviewId: string, cohort: CohortCase[], at: string) {
  const rows = cohort.map((c, i) => ({
    id: randomUUID(),
    review_id: reviewId,
    position: i + 1,
    referral_id: c.referralId,
    escalation_id: c.escalationId,
    reference: c.reference,
    source_system: c.sourceSystem,
    source_reference: c.sourceReference,
    received_at: c.receivedAt,
    urgency: c.urgency,
    conditions: JSON.stringify(c.conditions),
    reviewer_id: null,
    status: 'not-started' satisfies CaseStatus,
    updated_at: at,
  }));
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await trx
      .insertInto('review_cases')
      .values(rows.slice(i, i + INSERT_CHUNK))
      .execute();
  }
}

/** A reviewer is a person with the safeguarding role whose account is not disabled. */
async function checkReviewer(trx: Kysely<Database>, reviewerId: string): Promise<void> {
  const row = await trx.selectFrom('users').selectAll().where('id', '=', reviewerId).executeTakeFirst();
  if (!row || row.disabled_at || !rowToUser(row).roles.includes('safeguarding')) {
    throw new RelayError('validation-failed', 'The reviewer is not valid', [
      { path: 'reviewer', message: 'Select a reviewer from the safeguarding team' },
    ]);
  }
}

export interface CaseChange {
  status?: string;
  /** null unassigns. */
  reviewerId?: string | null;
  note?: string;
}

function validateChange(change: CaseChange): { status?: CaseStatus; note?: string } {
  const issues: FieldIssue[] = [];
  if (change.status !== undefined && !isCaseStatus(change.status))
    issues.push({ path: 'status', message: `Select a status: ${CASE_STATUSES.join(', ')}` });
  const note = change.note?.trim();
  if (note && note.length > NOTE_MAX)
    issues.push({
      path: 'note',
      message: `Note must be ${NOTE_MAX.toLocaleString('en-GB')} characters or fewer`,
    });
  if (issues.length > 0) throw new RelayError('validation-failed', 'The change is not valid', issues);
  return { status: change.status as CaseStatus | undefined, note: note || undefined };
}

async function lockCase(trx: Kysely<Database>, dialect: Dialect, reviewId: string, caseId: string) {
  let query = trx
    .selectFrom('review_cases')
    .selectAll()
    .where('id', '=', caseId)
    .where('review_id', '=', reviewId);
  // Two people saving the same case at once each audit a true "from" on PostgreSQL; SQLite is serial.
  if (dialect === 'postgres') query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw new RelayError('not-found', 'No such case in this review');
  return row;
}

/** What actually changes, as the audit entry records it: ids and codes only. */
function changedFields(row: Selectable<ReviewCaseTable>, status?: CaseStatus, reviewerId?: string | null) {
  const detail: Record<string, unknown> = {};
  if (status !== undefined && status !== row.status)
    Object.assign(detail, { statusFrom: row.status, statusTo: status });
  if (reviewerId !== undefined && reviewerId !== row.reviewer_id)
    Object.assign(detail, { reviewerFrom: row.reviewer_id, reviewerTo: reviewerId });
  return detail;
}

/**
 * Changes a case's status or reviewer and/or appends a note, audited as `review.case-updated` with
 * what changed from and to. The note's text stays out of the audit detail: it may name people.
 * Returns false when nothing changed (and then nothing is written).
 */
export async function updateCase(
  ctx: RelayContext,
  reviewId: string,
  caseId: string,
  change: CaseChange,
  by: ReviewActor,
): Promise<boolean> {
  const { status, note } = validateChange(change);
  const now = ctx.clock.now().toISOString();
  return ctx.db.kysely.transaction().execute(async (trx) => {
    const row = await lockCase(trx, ctx.db.dialect, reviewId, caseId);
    // A case keeps a reviewer who has since left the team until someone else takes it on.
    if (change.reviewerId && change.reviewerId !== row.reviewer_id)
      await checkReviewer(trx, change.reviewerId);
    const detail = changedFields(row, status, change.reviewerId);
    if (Object.keys(detail).length === 0 && !note) return false;
    await trx
      .updateTable('review_cases')
      .set({
        ...('statusTo' in detail ? { status } : {}),
        ...('reviewerTo' in detail ? { reviewer_id: change.reviewerId } : {}),
        updated_at: now,
      })
      .where('id', '=', caseId)
      .execute();
    if (note) {
      await insertNote(
        trx,
        ctx.config.dataKeys,
        { case_id: caseId, at: now, author: by.actor, author_name: by.name },
        note,
      );
      detail.noteAdded = true;
    }
    await appendAudit(trx, new Date(now), {
      actor: by.actor,
      action: 'review.case-updated',
      entityType: 'review_case',
      entityId: caseId,
      detail: { review: reviewId, reference: row.reference, ...detail },
    });
    return true;
  });
}

/**
 * Gives several cases to one reviewer (or none), each change audited on its own case. `unassigned`
 * picks every case of the review that has no reviewer yet; ids from another review are ignored.
 * Returns how many cases changed.
 */
export async function assignReviewer(
  ctx: RelayContext,
  reviewId: string,
  cases: readonly string[] | 'unassigned',
  reviewerId: string | null,
  by: ReviewActor,
): Promise<number> {
  if (cases !== 'unassigned' && cases.length === 0) return 0;
  let query = ctx.db.kysely.selectFrom('review_cases').select('id').where('review_id', '=', reviewId);
  query = cases === 'unassigned' ? query.where('reviewer_id', 'is', null) : query.where('id', 'in', cases);
  const rows = await query.orderBy('position').execute();
  let changed = 0;
  for (const { id } of rows) {
    if (await updateCase(ctx, reviewId, id, { reviewerId }, by)) changed += 1;
  }
  return changed;
}

/**
 * The note is sealed like every personal field, bound to its row id, which exists only once the
 * row does: so the row goes in first with an empty text, and the sealed text follows in the same
 * transaction.
 */
async function insertNote(
  trx: Kysely<Database>,
  keys: readonly DataKey[],
  row: { case_id: string; at: string; author: string; author_name: string },
  text: string,
): Promise<void> {
  const { id } = await trx
    .insertInto('review_notes')
    .values({ ...row, text: '' })
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx
    .updateTable('review_notes')
    .set({ text: sealField(keys, PERSONAL_FIELDS.reviewNote, String(id), text) })
    .where('id', '=', id)
    .execute();
}
