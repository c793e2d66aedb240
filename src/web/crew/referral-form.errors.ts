/**
 * Where the form shows each problem: schema issues (dotted paths such as `subject.nhsNumber`) mapped
 * to the control that feeds that path, reworded from the API's terse style into the NHS error style.
 */
import type { Issue } from '../../referrals/referral.schema.ts';
import { allCategories, categoryLabel, type FormValues } from './referral-form.fields.ts';

export interface FieldError {
  id: string;
  href: string;
  message: string;
}

/** A problem the form finds before the schema sees the body; it replaces the schema's issues on `path`. */
export interface FormIssue extends FieldError {
  path: string;
}

export function issue(id: string, path: string, message: string): FormIssue {
  return { id, path, href: specForId(id)?.href ?? id, message };
}

/** One control's place in the body and its words for errors. */
export interface FieldSpec {
  /** Dotted path in the referral body; an issue on it or below it belongs to this control. */
  path: string;
  /** The control's id. */
  id: string;
  /** Where the error summary links: the first input of a group. */
  href: string;
  /** Names the field when a message starts "Must …", as in "Home postcode must be …". */
  name: string;
  /** The message when it is left empty. */
  missing: string;
}

const spec = (path: string, id: string, name: string, missing: string, href = id): FieldSpec => ({
  path,
  id,
  href,
  name,
  missing,
});

/** In form order, so the error summary lists problems in the order a person meets them. */
export const FIELD_SPECS: FieldSpec[] = [
  spec('incident.number', 'incidentNumber', 'Incident number', 'Enter the incident number'),
  spec(
    'incident.occurredAt',
    'incidentDate',
    'Date and time of the incident',
    'Enter the date of the incident',
    'incidentDate-day',
  ),
  spec('', 'incidentTime', 'Time of the incident', 'Enter the time of the incident'),
  spec('incident.callSign', 'incidentCallSign', 'Call sign', 'Enter the call sign'),
  spec(
    'incident.location.postcode',
    'incidentPostcode',
    'Incident postcode',
    'Enter the postcode where the incident happened, or its first part such as B15',
  ),
  spec('incident.location.description', 'incidentLocation', 'Location description', 'Describe the location'),
  spec('incident.conveyed', 'incidentConveyed', 'Conveyed', 'Select whether the person was conveyed'),
  spec('referrer.name', 'referrerName', 'Your name', 'Enter your name'),
  spec('referrer.role', 'referrerRole', 'Your role', 'Enter your role, for example paramedic'),
  spec('referrer.staffId', 'referrerStaffId', 'Staff ID', 'Enter your staff ID'),
  spec(
    'referrer.phone',
    'referrerPhone',
    'Your phone number',
    'Enter a phone number the team can call you on',
  ),
  spec('referrer.email', 'referrerEmail', 'Your email address', 'Enter your email address'),
  spec('subject.givenName', 'givenName', 'Given name', "Enter the person's given name"),
  spec('subject.familyName', 'familyName', 'Family name', "Enter the person's family name"),
  spec('subject.dateOfBirth', 'dateOfBirth', 'Date of birth', 'Enter the date of birth', 'dateOfBirth-day'),
  spec('subjectType', 'dateOfBirth', 'Date of birth', 'Enter the date of birth', 'dateOfBirth-day'),
  spec('subject.ageEstimate', 'ageEstimate', 'Age estimate', 'Enter an age estimate'),
  spec('subject.gender', 'gender', 'Gender', 'Enter the gender'),
  spec('subject.nhsNumber', 'nhsNumber', 'NHS number', 'Enter the NHS number'),
  spec('subject.address.line1', 'addressLine1', 'Address line 1', 'Enter the first line of the address'),
  spec('subject.address.line2', 'addressLine2', 'Address line 2', 'Enter the second line of the address'),
  spec('subject.address.town', 'addressTown', 'Town or city', 'Enter the town or city'),
  spec('subject.address.postcode', 'addressPostcode', 'Home postcode', 'Enter the home postcode'),
  spec('subject.address.noFixedAbode', 'noFixedAbode', 'No fixed abode', 'Select no fixed abode'),
  spec(
    'subject.address',
    'addressLine1',
    'Address',
    'Enter the address, or select no fixed abode if they have none',
  ),
  spec('subject.phone', 'subjectPhone', "The person's phone number", 'Enter a phone number'),
  spec('subject.communicationNeeds', 'communicationNeeds', 'Communication needs', 'Enter the needs'),
  spec('subject.gp', 'gp', 'GP', 'Enter the GP practice'),
  spec('referralType', 'referralType', 'Type of referral', 'Select the type of referral'),
  spec('categories', 'categoriesAdult', 'Categories', 'Select at least one category of concern'),
  spec('urgency', 'urgency', 'Urgency', 'Select how urgent this is'),
  spec('concern', 'concern', 'Your account of the concern', 'Describe the concern: what you saw and heard'),
  spec('vulnerabilities', 'vulnerabilities', 'Vulnerabilities', 'Select the vulnerabilities'),
  spec('householdChildren', 'householdChildren', 'Children in the household', 'Enter the number of children'),
  spec('allegedPerson.name', 'allegedName', "The alleged person's name", 'Enter their name'),
  spec('allegedPerson.relationship', 'allegedRelationship', 'Relationship', 'Enter their relationship'),
  spec('allegedPerson.details', 'allegedDetails', 'Details', 'Enter the details'),
  spec(
    'consent.discussed',
    'consentDiscussed',
    'Consent discussed',
    'Select whether you discussed the referral with the person',
  ),
  spec('consent.given', 'consentGiven', 'Consent', 'Select whether the person consented to the referral'),
  spec(
    'consent.capacity',
    'consentCapacity',
    'Capacity',
    'Select whether the person has capacity to consent',
  ),
  spec('consent.overrideReason', 'consentOverrideReason', 'Reason', 'Give the reason for referring'),
  spec('actionsTaken', 'actionsTaken', 'Actions taken', 'Describe the actions taken'),
  spec('otherAgencies', 'otherAgencies', 'Other agencies', 'Name the other agencies'),
];

/** The control whose path is the longest prefix of an issue's path ("subject.address.town" before "subject.address"). */
export function specForPath(path: string): FieldSpec | undefined {
  let best: FieldSpec | undefined;
  for (const s of FIELD_SPECS) {
    if (s.path === '' || !(path === s.path || path.startsWith(`${s.path}.`))) continue;
    if (!best || s.path.length > best.path.length) best = s;
  }
  return best;
}

export function specForId(id: string): FieldSpec | undefined {
  return FIELD_SPECS.find((s) => s.id === id);
}

const REQUIRED = new Set(['This field is required.', 'Must not be blank.', 'Choose at least one category.']);

/** The schema's API-facing wording, reworded for a person looking at the form. */
function friendly(message: string, spec: { name: string; missing: string }): string {
  if (REQUIRED.has(message)) return spec.missing;
  const plain = message.replace(/\.$/, '');
  return plain.startsWith('Must ') ? `${spec.name} ${plain[0]!.toLowerCase()}${plain.slice(1)}` : plain;
}

/** A category issue is reported at its index; show it at the list the category was ticked in. */
function categoryError(path: string, message: string, v: FormValues, list: string[]): FieldError | undefined {
  const index = /^categories\.(\d+)$/.exec(path)?.[1];
  const value = index === undefined ? undefined : list[Number(index)];
  if (value === undefined) return undefined;
  const id = v.categoriesAdult.includes(value)
    ? 'categoriesAdult'
    : v.categoriesChild.includes(value)
      ? 'categoriesChild'
      : 'categoriesEither';
  const plain = message.replace(/\.$/, '');
  return { id, href: id, message: `${categoryLabel(value)}: ${plain[0]!.toLowerCase()}${plain.slice(1)}` };
}

/**
 * One message per control, the form's own findings first; a category list with several wrong ticks
 * names each of them, as the API does, rather than only the first.
 */
function onePerControl(errors: FieldError[]): Map<string, FieldError> {
  const byId = new Map<string, FieldError>();
  for (const { id, href, message } of errors) {
    const seen = byId.get(id);
    if (!seen) byId.set(id, { id, href, message });
    else if (id.startsWith('categories') && !seen.message.includes(message)) {
      seen.message = `${seen.message}. ${message}`;
    }
  }
  return byId;
}

/** Maps schema issues to controls: one message per control, in form order. */
export function fieldErrors(issues: Issue[], formIssues: FormIssue[], v: FormValues): FieldError[] {
  const replaced = new Set(formIssues.map((i) => i.path));
  const list = allCategories(v);
  const mapped = issues
    .filter((i) => !replaced.has(i.path))
    .map((i): FieldError => {
      const category = categoryError(i.path, i.message, v, list);
      if (category) return category;
      const spec = specForPath(i.path) ?? FIELD_SPECS[0]!;
      return { id: spec.id, href: spec.href, message: friendly(i.message, spec) };
    });
  const order = (e: FieldError) => {
    const at = FIELD_SPECS.findIndex((s) => s.id === e.id);
    return at === -1 ? FIELD_SPECS.findIndex((s) => s.id === 'categoriesAdult') : at;
  };
  // The form's own findings come first, so they win when a control has several problems.
  return [...onePerControl([...formIssues, ...mapped]).values()].sort((a, b) => order(a) - order(b));
}
