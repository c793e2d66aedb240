/**
 * The crew's form and the referral body: reading the posted controls, building the body the API
 * takes, and validating it with the API's own schema, so a referral from the web meets exactly the
 * rules a referral from an ePCR does. Problems come back keyed by control id for the page to show.
 */
import { randomUUID } from 'node:crypto';
import { londonLocal } from '../../directory/hours.ts';
import type { User } from '../../access/user.service.ts';
import { formatIssues } from '../../http/request-body.ts';
import { checkAgainstClock, ReferralInput, type ReferralInputType } from '../../referrals/referral.schema.ts';
import type { CrewProfile } from './crew-profile.ts';
import { londonDateTime, parseDateParts, parseTime, type Parsed } from './form-dates.ts';
import { allCategories, LIST_FIELDS, TEXT_FIELDS, type FormValues } from './referral-form.fields.ts';
import { fieldErrors, issue, type FieldError, type FormIssue } from './referral-form.errors.ts';

export type { FieldError } from './referral-form.errors.ts';

export const SOURCE_SYSTEM = 'relay-web';

/** On success: the body as the form built it (what intake receives) and as the schema parsed it. */
export type FormResult =
  { ok: true; body: Record<string, unknown>; input: ReferralInputType } | { ok: false; errors: FieldError[] };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A fresh form: a new source reference (the idempotency key), the crew member's own details from
 * their account and last referral, and the incident's date and time set to now in London, since a
 * crew usually refers from the scene. Each can be changed.
 */
export function blankForm(user: User, profile: CrewProfile | undefined, now: Date): FormValues {
  const values = readForm({});
  values.referrerName = user.name;
  values.referrerEmail = user.email;
  values.referrerRole = profile?.role ?? '';
  values.referrerStaffId = profile?.staffId ?? '';
  values.referrerPhone = profile?.phone ?? '';
  const local = londonLocal(now);
  const [year, month, day] = local.date.split('-');
  values['incidentDate[day]'] = String(Number(day));
  values['incidentDate[month]'] = String(Number(month));
  values['incidentDate[year]'] = year ?? '';
  const pad = (n: number) => String(n).padStart(2, '0');
  values.incidentTime = `${pad(Math.floor(local.minutes / 60))}:${pad(local.minutes % 60)}`;
  return values;
}

/** Only the form's own controls, each as text or a list of ticks, whatever else was posted. */
export function readForm(body: unknown): FormValues {
  const raw = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const own = (name: string) => (Object.hasOwn(raw, name) ? raw[name] : undefined);
  const values = {} as FormValues;
  for (const name of TEXT_FIELDS) {
    const value = own(name);
    const first: unknown = Array.isArray(value) ? value[0] : value;
    // Browsers post line breaks as CRLF; stored text uses LF, as API clients send it.
    values[name] = typeof first === 'string' ? first.replace(/\r\n?/g, '\n') : '';
  }
  for (const name of LIST_FIELDS) {
    const value = own(name);
    values[name] = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
  }
  // A missing or altered key would lose the double-submit protection, never a reason to reject the form.
  if (!UUID.test(values.sourceReference)) values.sourceReference = randomUUID();
  return values;
}

/** Every control as hidden fields, so the check page can post the draft back unchanged. */
export function hiddenFields(values: FormValues): { name: string; value: string }[] {
  return [
    ...TEXT_FIELDS.map((name) => ({ name, value: values[name] })).filter((f) => f.value !== ''),
    ...LIST_FIELDS.flatMap((name) => values[name].map((value) => ({ name, value }))),
  ];
}

function text(value: string): string | undefined {
  return value.trim() === '' ? undefined : value;
}

/** Yes and No radios as booleans; anything else goes through so the schema can name the field. */
function yesNo(value: string): boolean | string | undefined {
  if (value === 'yes') return true;
  if (value === 'no') return false;
  return text(value);
}

function count(value: string): number | string | undefined {
  const trimmed = value.trim();
  return /^\d{1,3}$/.test(trimmed) ? Number(trimmed) : text(value);
}

/** Drops the keys left empty, as an ePCR would leave out fields it does not have. */
function compact<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function nonEmpty<T extends Record<string, unknown>>(record: T): Partial<T> | undefined {
  const kept = compact(record);
  return Object.keys(kept).length > 0 ? kept : undefined;
}

function valueOf<T>(parsed: Parsed<T>): T | undefined {
  return 'value' in parsed ? parsed.value : undefined;
}

function occurredAt(v: FormValues, issues: FormIssue[]): string | undefined {
  const path = 'incident.occurredAt';
  const date = parseDateParts(
    { day: v['incidentDate[day]'], month: v['incidentDate[month]'], year: v['incidentDate[year]'] },
    'Date of the incident',
  );
  const time = parseTime(v.incidentTime, 'Time of the incident');
  if ('empty' in date) issues.push(issue('incidentDate', path, 'Enter the date of the incident'));
  if ('problem' in date) issues.push(issue('incidentDate', path, date.problem));
  if ('empty' in time) issues.push(issue('incidentTime', path, 'Enter the time of the incident'));
  if ('problem' in time) issues.push(issue('incidentTime', path, time.problem));
  const day = valueOf(date);
  const clock = valueOf(time);
  return day && clock ? londonDateTime(day, clock) : undefined;
}

function dateOfBirth(v: FormValues, issues: FormIssue[]): string | undefined {
  const parsed = parseDateParts(
    { day: v['dateOfBirth[day]'], month: v['dateOfBirth[month]'], year: v['dateOfBirth[year]'] },
    'Date of birth',
  );
  if ('problem' in parsed) {
    issues.push(issue('dateOfBirth', 'subject.dateOfBirth', parsed.problem));
    // Present but unusable: the schema must not also ask for a date of birth or an age estimate.
    return 'unreadable';
  }
  return valueOf(parsed);
}

function subject(v: FormValues, issues: FormIssue[]) {
  const address =
    v.noFixedAbode === 'yes'
      ? { noFixedAbode: true }
      : compact({
          line1: text(v.addressLine1),
          line2: text(v.addressLine2),
          town: text(v.addressTown),
          postcode: text(v.addressPostcode),
        });
  return compact({
    givenName: text(v.givenName),
    familyName: text(v.familyName),
    dateOfBirth: dateOfBirth(v, issues),
    ageEstimate: count(v.ageEstimate),
    gender: text(v.gender),
    nhsNumber: text(v.nhsNumber),
    address,
    phone: text(v.subjectPhone),
    communicationNeeds: text(v.communicationNeeds),
    gp: text(v.gp),
  });
}

/** The referral body (docs/api.md, Raise a referral) that the form describes, and the problems only the form can see. */
export function toBody(v: FormValues): { body: Record<string, unknown>; issues: FormIssue[] } {
  const issues: FormIssue[] = [];
  const body = compact({
    source: { system: SOURCE_SYSTEM, reference: v.sourceReference },
    incident: compact({
      number: text(v.incidentNumber),
      occurredAt: occurredAt(v, issues),
      callSign: text(v.incidentCallSign),
      location: compact({ postcode: text(v.incidentPostcode), description: text(v.incidentLocation) }),
      conveyed: yesNo(v.incidentConveyed),
    }),
    referrer: compact({
      name: text(v.referrerName),
      role: text(v.referrerRole),
      staffId: text(v.referrerStaffId),
      phone: text(v.referrerPhone),
      email: text(v.referrerEmail),
    }),
    subject: subject(v, issues),
    referralType: text(v.referralType),
    categories: allCategories(v),
    urgency: text(v.urgency),
    concern: text(v.concern),
    vulnerabilities: v.vulnerabilities.length > 0 ? v.vulnerabilities : undefined,
    householdChildren: count(v.householdChildren),
    allegedPerson: nonEmpty({
      name: text(v.allegedName),
      relationship: text(v.allegedRelationship),
      details: text(v.allegedDetails),
    }),
    consent: compact({
      discussed: yesNo(v.consentDiscussed),
      given: yesNo(v.consentGiven),
      capacity: text(v.consentCapacity),
      overrideReason: text(v.consentOverrideReason),
    }),
    actionsTaken: text(v.actionsTaken),
    otherAgencies: text(v.otherAgencies),
  });
  return { body, issues };
}

/** The same checks as the API's intake: the schema, then the rules that need the current time. */
export function validateForm(v: FormValues, now: Date): FormResult {
  const { body, issues: formIssues } = toBody(v);
  const parsed = ReferralInput.safeParse(body);
  const issues = parsed.success ? checkAgainstClock(parsed.data, now) : formatIssues(parsed.error);
  if (parsed.success && formIssues.length === 0 && issues.length === 0) {
    return { ok: true, body, input: parsed.data };
  }
  return { ok: false, errors: fieldErrors(issues, formIssues, v) };
}
