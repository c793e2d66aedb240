import type { EscalationItem } from '../../assurance/escalation.queries.ts';
import { escalationReason, telHref } from './labels.ts';
import { formField } from './page.helpers.ts';

export const NOTE_MAX = 5000;
export const NAME_MAX = 200;

/** The resolve form's field ids, so the error summary links land on the right control. */
export const RESOLVE_FIELD_IDS = {
  note: 'note',
  confirmedByPhone: 'confirmed-by-phone',
  confirmedBy: 'confirmed-by',
};

export interface ResolveForm {
  note: string;
  confirmedByPhone: boolean;
  confirmedBy: string;
}

export function readResolveForm(body: unknown): ResolveForm {
  return {
    note: formField(body, 'note'),
    confirmedByPhone: formField(body, 'confirmedByPhone') === 'yes',
    confirmedBy: formField(body, 'confirmedBy'),
  };
}

/**
 * Every problem at once, keyed by field, worded as the NHS error message pattern asks: what to do.
 * `canConfirm` is false when the escalation is not about a team's copy of a referral, so there is
 * no receipt for the team to confirm.
 */
export function validateResolveForm(form: ResolveForm, canConfirm: boolean): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!form.note) errors.note = 'Enter a note saying what was done';
  else if (form.note.length > NOTE_MAX)
    errors.note = `Note must be ${NOTE_MAX.toLocaleString('en-GB')} characters or fewer`;
  if (form.confirmedByPhone && !canConfirm) {
    errors.confirmedByPhone =
      'This escalation is not about a referral sent to a team, so there is no receipt to confirm';
  } else if (form.confirmedByPhone && !form.confirmedBy) {
    errors.confirmedBy = 'Enter the name of the person at the team who confirmed receipt';
  } else if (form.confirmedBy.length > NAME_MAX) {
    errors.confirmedBy = `Name must be ${NAME_MAX} characters or fewer`;
  }
  return errors;
}

/** An escalation as the pages show it: plain-English reason and phone numbers ready to dial. */
export function escalationView(item: EscalationItem) {
  return {
    ...item,
    reasonText: escalationReason(item.reason),
    teamLabel: item.teamName ?? item.team ?? 'Not about one team',
    phones: item.phones.map((p) => ({ ...p, href: telHref(p.number) })),
  };
}
