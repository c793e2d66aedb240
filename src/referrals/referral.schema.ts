/**
 * The body of POST /api/v1/referrals (SPEC §3). Parse with ReferralInput.safeParse, turn a failure
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
import { checkCrossField, type Issue } from './referral.rules.ts';

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

/** zod's issues as `{ path, message }`: dotted paths, plain messages, one per field problem. */
export function formatIssues(error: z.ZodError): Issue[] {
  const seen = new Set<string>();
  return error.issues.flatMap(splitIssue).filter((issue) => {
    // A field can fail several checks at once (say, not an integer and too big); one message is enough.
    if (seen.has(issue.path)) return false;
    seen.add(issue.path);
    return true;
  });
}

function splitIssue(issue: z.core.$ZodIssue): Issue[] {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    // The key goes in the path, so a client can point at it; the message stays free of submitted text.
    return issue.keys.map((key) => ({
      path: [...path, key].join('.'),
      message: 'Unknown field; check its spelling.',
    }));
  }
  return [{ path: path.join('.'), message: issue.message }];
}
