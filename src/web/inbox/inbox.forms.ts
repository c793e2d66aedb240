import type { FieldIssue } from '../../errors.ts';
import { MAX_REDIRECT_REASON } from '../../response/redirect.service.ts';
import type { Outcome } from '../../response/outcome.service.ts';
import type { TeamKind } from '../../directory/directory.types.ts';
import { OUTCOME_LABELS } from '../crew/referral-form.fields.ts';

export { OUTCOME_LABELS };

type Recorded = Exclude<Outcome, 'redirected'>;
const choice = (value: Recorded, hint: string) => ({ value, text: OUTCOME_LABELS[value] ?? value, hint });

/** The outcomes a person records here; "redirected" is recorded by the redirect form, which also re-routes. */
export const OUTCOME_CHOICES: { value: Recorded; text: string; hint: string }[] = [
  choice('s42-enquiry', 'Care Act 2014 safeguarding enquiry started'),
  choice('child-protection-enquiry', 'Section 47, Children Act 1989'),
  choice('assessment', 'Care and support, or child in need, assessment'),
  choice('advice-given', 'No enquiry or assessment needed'),
  choice('no-further-action', 'Say why in the note'),
];

/**
 * The outcomes a team of this kind can record: an adults team makes Care Act (section 42) enquiries,
 * not child protection enquiries, and a children's team the reverse. An out-of-hours team covers
 * both, and a team no longer in the directory is offered everything rather than nothing.
 */
const NOT_FOR: Record<TeamKind, Outcome[]> = {
  adults: ['child-protection-enquiry'],
  children: ['s42-enquiry'],
  'out-of-hours': [],
};

export function outcomeChoicesFor(kind: TeamKind | undefined): typeof OUTCOME_CHOICES {
  const excluded = kind ? NOT_FOR[kind] : [];
  return OUTCOME_CHOICES.filter((c) => !excluded.includes(c.value));
}

export const MAX_NOTE = 4000;

/** Errors keyed by the id of the field they belong to, so the error summary can link to it. */
export type FieldErrors = Record<string, string>;

export function field(body: unknown, name: string): string {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value.trim() : '';
}

export interface OutcomeForm {
  values: { outcome: string; note: string };
  errors: FieldErrors;
  valid?: { outcome: Exclude<Outcome, 'redirected'>; note: string };
}

export function readOutcomeForm(body: unknown, kind: TeamKind | undefined): OutcomeForm {
  const values = { outcome: field(body, 'outcome'), note: field(body, 'note') };
  const errors: FieldErrors = {};
  const choice = outcomeChoicesFor(kind).find((c) => c.value === values.outcome);
  if (!choice) errors.outcome = 'Select the outcome';
  if (!values.note) errors.note = 'Enter a note about the outcome';
  else if (values.note.length > MAX_NOTE) errors.note = `Note must be ${MAX_NOTE} characters or fewer`;
  if (!choice || Object.keys(errors).length > 0) return { values, errors };
  return { values, errors, valid: { outcome: choice.value, note: values.note } };
}

export interface RedirectForm {
  values: { to: string; reason: string };
  errors: FieldErrors;
}

/** Checks what the page can check; the service checks the rest (the team exists and has not got it). */
export function readRedirectForm(body: unknown, fromTeamId: string): RedirectForm {
  const values = { to: field(body, 'to'), reason: field(body, 'reason') };
  const errors: FieldErrors = {};
  if (!values.to) errors['redirect-to'] = 'Select the team to send this referral to';
  else if (values.to === fromTeamId) errors['redirect-to'] = 'Select a team other than your own';
  if (!values.reason) errors['redirect-reason'] = 'Enter why this referral belongs with that team';
  else if (values.reason.length > MAX_REDIRECT_REASON)
    errors['redirect-reason'] = `Reason must be ${MAX_REDIRECT_REASON} characters or fewer`;
  return { values, errors };
}

/** The redirect service names fields by their API path; the page names them by element id. */
export function redirectErrors(issues: FieldIssue[] | undefined): FieldErrors {
  const ids: Record<string, string> = { to: 'redirect-to', reason: 'redirect-reason' };
  const errors: FieldErrors = {};
  for (const issue of issues ?? []) errors[ids[issue.path] ?? 'redirect-to'] ??= issue.message;
  return errors;
}
