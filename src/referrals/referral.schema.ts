/**
 * The body of POST /api/v1/referrals (docs/api.md, Raise a referral). Parse with ReferralInput.safeParse, turn a failure
 * into problem+json `errors` with formatIssues, then run checkAgainstClock on the parsed value.
 */
import { z } from 'zod';
import {
  CATEGORIES,
  SUBJECT_TYPES,
  VULNERABILITIES,
  calendarDate,
  dateTimeWithOffset,
  email,
  flag,
  nhsNumber,
  oneOf,
  phone,
  postcode,
  postcodeOrDistrict,
  record,
  text,
  uniqueList,
  wholeNumber,
} from './referral.fields.ts';
import { checkCrossField } from './referral.rules.ts';

export { checkAgainstClock, deriveSubjectType, type AgeFacts, type Issue } from './referral.rules.ts';
export {
  ADULT_CATEGORIES,
  CATEGORIES,
  CHILD_CATEGORIES,
  EITHER_CATEGORIES,
  SUBJECT_TYPES,
  VULNERABILITIES,
  normalisePostcode,
  type Category,
  type SubjectType,
} from './referral.fields.ts';

const NAME = 100;
const SHORT = 50;
const NOTE = 2000;

const Source = record({ system: text(NAME), reference: text(NAME) });

const Incident = record({
  number: text(SHORT),
  occurredAt: dateTimeWithOffset(),
  callSign: text(SHORT).optional(),
  location: record({ postcode: postcodeOrDistrict(), description: text(500).optional() }),
  conveyed: flag().optional(),
});

const Referrer = record({
  name: text(NAME),
  role: text(NAME),
  staffId: text(SHORT),
  phone: phone(),
  email: email(),
});

const HomeAddress = record({
  line1: text(NAME),
  line2: text(NAME).optional(),
  town: text(NAME),
  postcode: postcode(),
  // Present only so the two address shapes can be told apart; the spec's shape has no such field.
  noFixedAbode: z.literal(false, { error: 'Must be true, or left out for a home address.' }).optional(),
});
const NoFixedAbode = record({ noFixedAbode: z.literal(true, { error: 'Must be true, or left out.' }) });

// Discriminated, so that a bad home address reports its own fields rather than "matches no option".
const Address = z.discriminatedUnion('noFixedAbode', [NoFixedAbode, HomeAddress], {
  error: (issue) =>
    issue.input === undefined
      ? 'This field is required.'
      : 'Must be a home address or { "noFixedAbode": true }.',
});

const Subject = record({
  givenName: text(NAME),
  familyName: text(NAME),
  dateOfBirth: calendarDate().optional(),
  ageEstimate: wholeNumber(0, 120).optional(),
  gender: text(SHORT).optional(),
  nhsNumber: nhsNumber().optional(),
  address: Address,
  phone: phone().optional(),
  communicationNeeds: text(500).optional(),
  gp: text(200).optional(),
});

const AllegedPerson = record({
  name: text(NAME).optional(),
  relationship: text(NAME).optional(),
  details: text(NOTE).optional(),
});

const Consent = record({
  discussed: flag(),
  given: flag(),
  capacity: oneOf(['has-capacity', 'lacks-capacity', 'not-assessed']),
  overrideReason: text(NOTE).optional(),
});

export const ReferralInput = record({
  source: Source,
  incident: Incident,
  referrer: Referrer,
  subject: Subject,
  subjectType: oneOf(SUBJECT_TYPES).optional(),
  referralType: oneOf(['safeguarding', 'care-concern']),
  categories: uniqueList(oneOf(CATEGORIES), CATEGORIES.length).min(1, 'Choose at least one category.'),
  urgency: oneOf(['immediate', 'urgent', 'routine']),
  concern: text(10_000),
  vulnerabilities: uniqueList(oneOf(VULNERABILITIES), VULNERABILITIES.length).optional(),
  householdChildren: wholeNumber(0, 30).optional(),
  allegedPerson: AllegedPerson.optional(),
  consent: Consent,
  actionsTaken: text(5000).optional(),
  otherAgencies: text(NOTE).optional(),
}).superRefine(
  (body, ctx) => checkCrossField(body, (path, message) => ctx.addIssue({ code: 'custom', path, message })),
  // zod skips refinements once a field has failed; these rules guard their own inputs instead.
  { when: () => true },
);

export type ReferralInputType = z.infer<typeof ReferralInput>;
