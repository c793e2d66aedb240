/**
 * Field-level building blocks of the referral schema. Every message is written here in plain English
 * and never quotes the submitted value: it may be personal data, and error bodies end up in logs.
 */
import { z } from 'zod';
import { isValidNhsNumber, normaliseNhsNumber } from './nhs-number.ts';

export const ADULT_CATEGORIES = [
  'physical',
  'domestic-abuse',
  'sexual',
  'psychological',
  'financial',
  'modern-slavery',
  'discriminatory',
  'organisational',
  'neglect',
  'self-neglect',
] as const;
export const CHILD_CATEGORIES = ['physical', 'emotional', 'sexual', 'neglect', 'exploitation'] as const;
export const EITHER_CATEGORIES = ['mental-health-crisis', 'other'] as const;
export type Category =
  (typeof ADULT_CATEGORIES)[number] | (typeof CHILD_CATEGORIES)[number] | (typeof EITHER_CATEGORIES)[number];
export const CATEGORIES = [...new Set([...ADULT_CATEGORIES, ...CHILD_CATEGORIES, ...EITHER_CATEGORIES])] as [
  Category,
  ...Category[],
];
export const VULNERABILITIES = [
  'dementia',
  'learning-disability',
  'mental-health',
  'substance-misuse',
  'frailty',
  'sensory-impairment',
  'physical-disability',
  'autism',
  'pregnancy',
  'homelessness',
  'other',
] as const;
export const SUBJECT_TYPES = ['adult', 'child'] as const;
export type SubjectType = (typeof SUBJECT_TYPES)[number];

const REQUIRED = 'This field is required.';

/** Tells a missing field apart from one of the wrong JSON type, which zod reports with the same code. */
function expecting(what: string) {
  return (issue: { input?: unknown }) => (issue.input === undefined ? REQUIRED : `Must be ${what}.`);
}

export function text(max: number) {
  return (
    z
      .string({ error: expecting('text') })
      .trim()
      .normalize('NFC')
      // No `abort: true` here: an aborting issue anywhere stops the root's cross-field rules too.
      // formatIssues keeps only the first message per field, and these come first.
      .min(1, 'Must not be blank.')
      .max(max, `Must be at most ${max} characters.`)
  );
}

export function wholeNumber(min: number, max: number) {
  // z.int() also reports numbers beyond the safe-integer range; those are simply too big here.
  const limits = `Must be a whole number from ${min} to ${max}.`;
  return z
    .int({ error: (issue) => (issue.input === undefined ? REQUIRED : limits) })
    .min(min, limits)
    .max(max, limits);
}

export function flag() {
  return z.boolean({ error: expecting('true or false') });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: expecting(`one of: ${values.join(', ')}`) });
}

/** Strict, so that a misspelt optional field is reported instead of silently dropped. */
export function record<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? undefined : expecting('an object')(issue)),
  });
}

/** A list whose entries must not repeat; each repeat is reported at its own index. */
export function uniqueList<T extends z.ZodType<string>>(item: T, max: number) {
  return z
    .array(item, { error: expecting('a list') })
    .max(max, `Must have at most ${max} entries.`)
    .superRefine((list, ctx) => {
      list.forEach((entry, i) => {
        if (list.indexOf(entry) !== i)
          ctx.addIssue({ code: 'custom', path: [i], message: 'Listed more than once.' });
      });
    });
}

export function email() {
  return text(254).check(z.email({ error: 'Must be an email address such as name@example.org.' }));
}

/** UK numbers (10 or 11 digits with the leading 0, optionally written +44) or international (+ and 7–15 digits). */
export function isPhoneNumber(s: string): boolean {
  const compact = s.replace(/[\s\-()]/g, '');
  if (compact.startsWith('+44')) return /^0?\d{9,10}$/.test(compact.slice(3));
  if (compact.startsWith('+')) return /^\+[1-9]\d{6,14}$/.test(compact);
  return /^0\d{9,10}$/.test(compact);
}

export function phone() {
  return text(30).refine(isPhoneNumber, 'Must be a phone number such as 0121 496 0000 or +44 121 496 0000.');
}

const OUTWARD = '(?:[A-PR-UWYZ][0-9][0-9A-HJKPSTUW]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRV-Y]?)';
const FULL_POSTCODE = new RegExp(`^${OUTWARD} [0-9][ABD-HJLNP-UW-Z]{2}$`);
const OUTWARD_CODE = new RegExp(`^${OUTWARD}$`);

/** Upper case with one space before the inward code, the form the routing table's prefixes use. */
export function normalisePostcode(s: string): string {
  const compact = s.replace(/\s+/g, '').toUpperCase();
  return compact.length >= 5 && /[0-9][A-Z]{2}$/.test(compact)
    ? `${compact.slice(0, -3)} ${compact.slice(-3)}`
    : compact;
}

export function isFullPostcode(s: string): boolean {
  return FULL_POSTCODE.test(normalisePostcode(s));
}

export function postcode() {
  return text(10)
    .overwrite(normalisePostcode)
    .refine(isFullPostcode, 'Must be a full UK postcode such as B15 2TT.');
}

/** Crews do not always know the full postcode of a roadside or public place, so a district will do. */
export function postcodeOrDistrict() {
  return text(10)
    .overwrite(normalisePostcode)
    .refine(
      (s) => isFullPostcode(s) || OUTWARD_CODE.test(s),
      'Must be a UK postcode such as B15 2TT, or its first part such as B15.',
    );
}

export function nhsNumber() {
  // Room for the digits grouped with spaces or dashes, as they are printed on letters and cards.
  return text(20)
    .refine(isValidNhsNumber, 'Must be a valid 10-digit NHS number (the check digit does not match).')
    .overwrite(normaliseNhsNumber);
}

export function calendarDate() {
  return text(10)
    .check(z.iso.date({ error: 'Must be a real date written YYYY-MM-DD.' }))
    .refine((s) => s >= '1900-01-01', 'Must not be before 1900-01-01.');
}

export function dateTimeWithOffset() {
  return text(40).check(
    z.iso.datetime({
      offset: true,
      error:
        'Must be a date and time with a time zone, such as 2026-11-25T10:15:00Z or 2026-06-25T10:15:00+01:00.',
    }),
  );
}
