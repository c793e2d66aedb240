import type { DataKey } from '../config.ts';
import { encryptField, openField } from './field-crypto.ts';

/**
 * The columns that hold personal data, encrypted on write. Rotation and `relay keys status` walk
 * this list, and retention blanks these columns, so a new free-text column belongs here.
 */
export interface PersonalField {
  table: 'referrals' | 'routes' | 'escalations' | 'review_notes' | 'referral_drafts' | 'second_factors';
  column: string;
}

export const PERSONAL_FIELDS = {
  /** The whole referral as received: subject, contact details, narrative, alleged person, referrer. */
  payload: { table: 'referrals', column: 'payload' },
  /** A team's outcome note or redirect reason. */
  outcomeNote: { table: 'routes', column: 'outcome_note' },
  /** What a person wrote on resolving an escalation (Relay's own notes carry ids and staff names only). */
  escalationNote: { table: 'escalations', column: 'note' },
  /** A team's free text when disputing a manifest line. */
  teamNote: { table: 'escalations', column: 'team_note' },
  /** Why a person in the safeguarding team closed the referral by hand. */
  closeReason: { table: 'referrals', column: 'close_reason' },
  /** An incident reviewer's note on a case (it may name the people involved). */
  reviewNote: { table: 'review_notes', column: 'text' },
  /** A crew form's unsent answers: everything a referral holds. Deleted 72 hours after the last save. */
  draftAnswers: { table: 'referral_drafts', column: 'answers' },
  /**
   * A local account's TOTP secret: not about a subject, but a secret that must not sit in the
   * database in clear, and on this list so that key rotation re-seals it. Retention never blanks it.
   */
  totpSecret: { table: 'second_factors', column: 'secret' },
} as const satisfies Record<string, PersonalField>;

export const ALL_PERSONAL_FIELDS: readonly PersonalField[] = Object.values(PERSONAL_FIELDS);

export function fieldName(field: PersonalField): string {
  return `${field.table}.${field.column}`;
}

/** Binds the ciphertext to its column and row, so it cannot be moved to another and still open. */
export function fieldAad(field: PersonalField, rowId: string): string {
  return `${fieldName(field)}:${rowId}`;
}

export function sealField(
  keys: readonly DataKey[],
  field: PersonalField,
  rowId: string,
  text: string,
): string {
  return encryptField(keys, text, fieldAad(field, rowId));
}

/** Null stays null; plain text written before encryption reads as it is. */
export function unsealField(
  keys: readonly DataKey[],
  field: PersonalField,
  rowId: string,
  stored: string | null,
): string | null {
  return stored === null ? null : openField(keys, stored, fieldAad(field, rowId));
}
