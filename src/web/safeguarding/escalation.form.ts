import type { RelayContext } from '../../context.ts';
import { HOUR, MINUTE } from '../../time.ts';
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
  followUp: 'follow-up',
};

export interface ResolveForm {
  note: string;
  confirmedByPhone: boolean;
  confirmedBy: string;
  /** '' for ESCALATION_REOPEN_AFTER, else one of FOLLOW_UPS. */
  followUp: string;
}

/** When Relay looks again whether the problem still stands, if not after ESCALATION_REOPEN_AFTER. */
export const FOLLOW_UPS: Record<string, { text: string; ms: number }> = {
  '15m': { text: 'In 15 minutes', ms: 15 * MINUTE },
  '30m': { text: 'In 30 minutes', ms: 30 * MINUTE },
  '2h': { text: 'In 2 hours', ms: 2 * HOUR },
  '4h': { text: 'In 4 hours', ms: 4 * HOUR },
  '8h': { text: 'In 8 hours', ms: 8 * HOUR },
  '24h': { text: 'In 24 hours', ms: 24 * HOUR },
};

export function readResolveForm(body: unknown): ResolveForm {
  return {
    note: formField(body, 'note'),
    confirmedByPhone: formField(body, 'confirmedByPhone') === 'yes',
    confirmedBy: formField(body, 'confirmedBy'),
    followUp: formField(body, 'followUp'),
  };
}

export function followUpFrom(form: ResolveForm, now: Date): Date | undefined {
  const choice = FOLLOW_UPS[form.followUp];
  return choice ? new Date(now.getTime() + choice.ms) : undefined;
}

/** The radios, the default (ESCALATION_REOPEN_AFTER) first. */
export function followUpItems(ctx: RelayContext, form: ResolveForm) {
  const after = formatDuration(ctx.config.escalation.reopenAfterMs);
  return [
    { value: '', text: `After ${after} (the usual)`, checked: form.followUp === '' },
    ...Object.entries(FOLLOW_UPS).map(([value, f]) => ({
      value,
      text: f.text,
      checked: form.followUp === value,
    })),
  ];
}

function formatDuration(ms: number): string {
  if (ms % HOUR === 0) return ms === HOUR ? '1 hour' : `${ms / HOUR} hours`;
  return `${Math.round(ms / MINUTE)} minutes`;
}

/**
 * Every problem at once, keyed by field, worded as the NHS error message pattern asks: what to do.
 * `canConfirm` is false when the escalation is not about a team's copy of a referral, so there is
 * no receipt for the team to confirm.
 */
export function validateResolveForm(
  form: ResolveForm,
  canConfirm: boolean,
  canFollowUp = false,
): Record<string, string> {
  const errors: Record<string, string> = {};
  if (form.followUp !== '' && (!canFollowUp || !FOLLOW_UPS[form.followUp]))
    errors.followUp = 'Choose when Relay should look again from the list';
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
