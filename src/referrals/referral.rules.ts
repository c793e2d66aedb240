/**
 * Rules that span fields (age, subject type, categories, consent) and rules that need the current time.
 * The cross-field rules read the raw body defensively, because they also run when other fields are
 * invalid: a crew fixing a rejected referral should see every problem at once, not one round at a time.
 */
import { londonLocal } from '../directory/hours.ts';
import { MINUTE } from '../time.ts';
import type { ReferralInputType } from './referral.schema.ts';
import {
  ADULT_CATEGORIES,
  CHILD_CATEGORIES,
  SUBJECT_TYPES,
  calendarDate,
  dateTimeWithOffset,
  oneOf,
  wholeNumber,
  type SubjectType,
} from './referral.fields.ts';

export type Issue = { path: string; message: string };
export type Report = (path: (string | number)[], message: string) => void;

/** What deriving the subject type needs; a parsed ReferralInputType has it. */
export type AgeFacts = {
  incident: { occurredAt: string };
  subject: { dateOfBirth?: string | undefined; ageEstimate?: number | undefined };
};

const ADULT_AGE = 18;
// An estimate given beside a date of birth may be a little out, never a different person's age:
// the check-your-answers page would show one and the team's email the other.
const ESTIMATE_TOLERANCE_YEARS = 2;
// A crew's device clock may run fast, or Relay's slow (MAX_CLOCK_SKEW raises that within 30 s);
// a source does not retry a 422, so a referral must not bounce for either.
const CLOCK_SKEW = 10 * MINUTE;

/** The calendar date in England at that instant: ages and "today" are reckoned where the service runs. */
export function londonDate(instant: Date): string {
  // The shared formatter: building an Intl.DateTimeFormat per call cost a millisecond per intake.
  return londonLocal(instant).date;
}

/** Whole years between two YYYY-MM-DD dates; a 29 February birthday falls on 1 March in common years. */
export function ageOn(dateOfBirth: string, on: string): number {
  const years = Number(on.slice(0, 4)) - Number(dateOfBirth.slice(0, 4));
  return on.slice(5) < dateOfBirth.slice(5) ? years - 1 : years;
}

function aReferral(type: SubjectType): string {
  return type === 'adult' ? 'an adult referral' : 'a child referral';
}

function typeForAge(age: number): SubjectType {
  return age < ADULT_AGE ? 'child' : 'adult';
}

/** Adult or child on the incident date, from the date of birth when known, else the age estimate. */
export function deriveSubjectType(input: AgeFacts): SubjectType {
  const { dateOfBirth, ageEstimate } = input.subject;
  if (dateOfBirth !== undefined)
    return typeForAge(ageOn(dateOfBirth, londonDate(new Date(input.incident.occurredAt))));
  if (ageEstimate !== undefined) return typeForAge(ageEstimate);
  throw new Error(
    'A subject needs a date of birth or an age estimate; parse the body with ReferralInput first.',
  );
}

/** The rules that need "now", for the intake to run after a successful parse. */
export function checkAgainstClock(input: ReferralInputType, now: Date): Issue[] {
  const issues: Issue[] = [];
  const occurred = new Date(input.incident.occurredAt).getTime();
  const yearAgo = new Date(now);
  yearAgo.setUTCFullYear(yearAgo.getUTCFullYear() - 1);
  if (occurred > now.getTime() + CLOCK_SKEW) {
    issues.push({ path: 'incident.occurredAt', message: 'Must not be in the future.' });
  } else if (occurred < yearAgo.getTime()) {
    issues.push({ path: 'incident.occurredAt', message: 'Must be within the last year.' });
  }
  const dateOfBirth = input.subject.dateOfBirth;
  if (dateOfBirth !== undefined && dateOfBirth > londonDate(now)) {
    issues.push({ path: 'subject.dateOfBirth', message: 'Must not be in the future.' });
  }
  return issues;
}

const DATE = calendarDate();
const DATE_TIME = dateTimeWithOffset();
const AGE = wholeNumber(0, 120);
const SUBJECT_TYPE = oneOf(SUBJECT_TYPES);
const ALLOWED: Record<SubjectType, ReadonlySet<string>> = {
  adult: new Set(ADULT_CATEGORIES),
  child: new Set(CHILD_CATEGORIES),
};

/** Follows own properties only, so a body's prototype tricks cannot feed the rules. */
function at(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function valid<T>(
  schema: { safeParse(v: unknown): { success: boolean; data?: T } },
  value: unknown,
): T | undefined {
  const result = schema.safeParse(value);
  return result.success ? result.data : undefined;
}

function isRecord(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

type Facts = {
  age: number | undefined;
  /** The age the date of birth gives on the incident date, when both are readable. */
  ageFromDob: number | undefined;
  estimate: number | undefined;
  dobAfterIncident: boolean;
  given: SubjectType | undefined;
};

function readFacts(body: unknown): Facts {
  const rawDob = at(body, 'subject', 'dateOfBirth');
  const dob = valid(DATE, rawDob);
  const occurredAt = valid(DATE_TIME, at(body, 'incident', 'occurredAt'));
  const incidentDate = occurredAt === undefined ? undefined : londonDate(new Date(occurredAt));
  const dobAfterIncident = dob !== undefined && incidentDate !== undefined && dob > incidentDate;
  // A date of birth outranks the estimate, so when it is present but unusable the age is unknown.
  const estimate = valid(AGE, at(body, 'subject', 'ageEstimate'));
  const ageFromDob =
    dob !== undefined && incidentDate !== undefined && !dobAfterIncident
      ? ageOn(dob, incidentDate)
      : undefined;
  const age = rawDob === undefined ? estimate : ageFromDob;
  return { age, ageFromDob, estimate, dobAfterIncident, given: valid(SUBJECT_TYPE, at(body, 'subjectType')) };
}

function checkAge(body: unknown, facts: Facts, report: Report): void {
  const subject = at(body, 'subject');
  if (
    isRecord(subject) &&
    at(subject, 'dateOfBirth') === undefined &&
    at(subject, 'ageEstimate') === undefined
  ) {
    report(['subject', 'dateOfBirth'], 'Give a date of birth, or an age estimate when it is not known.');
  }
  if (facts.dobAfterIncident)
    report(['subject', 'dateOfBirth'], 'Must not be after the date of the incident.');
  const { ageFromDob, estimate } = facts;
  if (ageFromDob !== undefined && estimate !== undefined) {
    if (Math.abs(ageFromDob - estimate) > ESTIMATE_TOLERANCE_YEARS) {
      // Named on both fields: either may be the one typed wrongly.
      const why = `makes the person ${ageFromDob} on the incident date, but the age estimate is ${estimate}`;
      report(['subject', 'dateOfBirth'], `Does not match the age estimate: the date of birth ${why}.`);
      report(['subject', 'ageEstimate'], `Does not match the date of birth, which ${why}.`);
    }
  }
}

function checkSubjectType(body: unknown, facts: Facts, report: Report): SubjectType | undefined {
  const derived = facts.age === undefined ? undefined : typeForAge(facts.age);
  if (facts.given !== undefined && derived !== undefined && facts.given !== derived) {
    report(
      ['subjectType'],
      `Does not match the subject's age on the incident date, which makes this ${aReferral(derived)}.`,
    );
  }
  // On a mismatch the age decides, as the spec derives the type from it; judging the categories
  // against a type already reported as wrong would only add misleading errors.
  return derived ?? facts.given;
}

function checkCategories(body: unknown, type: SubjectType | undefined, report: Report): void {
  const categories = at(body, 'categories');
  if (type === undefined || !Array.isArray(categories)) return;
  const other = type === 'adult' ? 'child' : 'adult';
  categories.forEach((category: unknown, i) => {
    if (typeof category === 'string' && ALLOWED[other].has(category) && !ALLOWED[type].has(category)) {
      report(
        ['categories', i],
        `This category applies to ${other} referrals only; this is ${aReferral(type)}.`,
      );
    }
  });
}

function checkConsent(body: unknown, report: Report): void {
  const consent = at(body, 'consent');
  if (at(consent, 'given') === false && at(consent, 'overrideReason') === undefined) {
    report(['consent', 'overrideReason'], 'Give the reason for referring without consent.');
  }
  if (at(consent, 'given') === true && at(consent, 'discussed') === false) {
    report(['consent', 'discussed'], 'Consent cannot have been given if it was not discussed.');
  }
}

function checkAllegedPerson(body: unknown, report: Report): void {
  const person = at(body, 'allegedPerson');
  if (isRecord(person) && at(person, 'name') === undefined && at(person, 'relationship') === undefined) {
    report(['allegedPerson', 'name'], "Give the person's name, or their relationship to the subject.");
  }
}

/** Runs every cross-field rule on the (possibly invalid) body; each rule skips what it cannot judge. */
export function checkCrossField(body: unknown, report: Report): void {
  const facts = readFacts(body);
  checkAge(body, facts, report);
  const type = checkSubjectType(body, facts, report);
  checkCategories(body, type, report);
  checkConsent(body, report);
  checkAllegedPerson(body, report);
}
