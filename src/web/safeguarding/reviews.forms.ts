import { isValidIsoDate, londonToInstant } from '../../directory/hours.ts';
import type { RelayError } from '../../errors.ts';
import { isCaseStatus, isCondition, type ReviewActor } from '../../governance/review.model.ts';
import { NOTE_MAX, TITLE_MAX } from '../../governance/review.service.ts';
import type { User } from '../../access/user.service.ts';
import { formField } from './page.helpers.ts';

export type FieldErrors = Record<string, string>;

/** The signed-in person as a review's actor: audited by id, shown by name. */
export const reviewActor = (user: User): ReviewActor => ({ actor: `user:${user.id}`, name: user.name });

/** Ids of the controls each field's error links to (a checkbox group's first box has its prefix as id). */
export const NEW_REVIEW_FIELD_IDS = { title: 'title', from: 'from', to: 'to', conditions: 'conditions' };
export const CASE_FIELD_IDS = { status: 'status', reviewer: 'reviewer', note: 'note' };
export const ASSIGN_FIELD_IDS = { reviewer: 'assign-reviewer', cases: 'cases' };

/** A repeated form field (checkboxes) as a list; a single value is a list of one. */
export function formList(body: unknown, name: string): string[] {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  const values = Array.isArray(value) ? value : [value];
  return values.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim());
}

export interface NewReviewForm {
  title: string;
  from: string;
  to: string;
  conditions: string[];
}

export function readNewReviewForm(body: unknown): NewReviewForm {
  return {
    title: formField(body, 'title'),
    from: formField(body, 'from'),
    to: formField(body, 'to'),
    conditions: formList(body, 'conditions'),
  };
}

/**
 * Every problem with the new-review form at once, worded as what to do. Dates are London days, both
 * inclusive, so "1 to 30 November" means the whole of November as the team lived it.
 */
export function checkNewReviewForm(form: NewReviewForm): { errors: FieldErrors; from?: Date; to?: Date } {
  const errors: FieldErrors = {};
  if (!form.title) errors.title = 'Enter a title for the review';
  else if (form.title.length > TITLE_MAX) errors.title = `Title must be ${TITLE_MAX} characters or fewer`;
  if (!form.from) errors.from = 'Enter the first day of the period';
  else if (!isValidIsoDate(form.from)) errors.from = 'The first day of the period must be a real date';
  if (!form.to) errors.to = 'Enter the last day of the period';
  else if (!isValidIsoDate(form.to)) errors.to = 'The last day of the period must be a real date';
  else if (!errors.from && form.to < form.from)
    errors.to = 'The last day of the period must be the same as or after the first day';
  if (form.conditions.length === 0) errors.conditions = 'Select at least one condition';
  else if (!form.conditions.every(isCondition)) errors.conditions = 'Select conditions from the list';
  if (Object.keys(errors).length > 0) return { errors };
  return { errors, from: londonToInstant(form.from, '00:00'), to: londonToInstant(form.to, '24:00') };
}

export interface CaseForm {
  status: string;
  /** '' takes the reviewer off; absent (a form without the field) leaves the reviewer as is. */
  reviewer?: string;
  note: string;
}

export function readCaseForm(body: unknown): CaseForm {
  const hasReviewer = body !== null && typeof body === 'object' && 'reviewer' in body;
  return {
    status: formField(body, 'status'),
    reviewer: hasReviewer ? formField(body, 'reviewer') : undefined,
    note: formField(body, 'note'),
  };
}

export function checkCaseForm(form: CaseForm, reviewerIds: ReadonlySet<string>): FieldErrors {
  const errors: FieldErrors = {};
  if (!isCaseStatus(form.status)) errors.status = 'Select the status of the case';
  if (form.reviewer && !reviewerIds.has(form.reviewer))
    errors.reviewer = 'Select a reviewer from the safeguarding team';
  if (form.note.length > NOTE_MAX)
    errors.note = `Note must be ${NOTE_MAX.toLocaleString('en-GB')} characters or fewer`;
  return errors;
}

/** A service's validation failure (it re-checks what the form checked) as errors beside the fields. */
export function errorsFromService(error: RelayError, fields: Record<string, string>): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.errors ?? []) {
    const field = issue.path in fields ? issue.path : Object.keys(fields)[0];
    if (field && !errors[field]) errors[field] = issue.message;
  }
  return errors;
}
