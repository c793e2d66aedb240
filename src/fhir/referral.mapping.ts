/**
 * A BaRS-shaped referral request (docs/api.md, FHIR) as the JSON API's referral body, so that it goes
 * through the same validation and intake. Every field remembers the FHIRPath it came from, so a
 * problem the JSON schema finds is named on the element the sender wrote.
 */
import {
  asList,
  child,
  extensionsOf,
  field,
  firstWhere,
  type Json,
  type Located,
  type MessageBundle,
} from './bundle.read.ts';
import {
  CATEGORY_SYSTEM,
  EXTENSION,
  NHS_NUMBER_SYSTEM,
  NO_FIXED_ABODE_POSTCODE,
  REFERRAL_TYPE_SYSTEM,
  URGENCY_OF_PRIORITY,
} from './fhir.codes.ts';
import { normalisePostcode } from '../referrals/referral.schema.ts';

/** A problem only the FHIR form can have: an unknown code, a reference to nothing. */
export interface MappingIssue {
  /** The JSON field it leaves unset, so the schema's "required" for it is not reported twice. */
  field: string;
  expression: string;
  message: string;
}

export class ReferralMapping {
  readonly input: Json = {};
  readonly issues: MappingIssue[] = [];
  private readonly expressions = new Map<string, string>();

  /** Sets a JSON field (left unset when undefined) and remembers where it came from. */
  set(name: string, expression: string, value: unknown): void {
    this.expressions.set(name, expression);
    if (value !== undefined) setIn(this.input, name.split('.'), value);
  }

  /** Remembers where a field would have come from (a list's entries, an object left out). */
  from(name: string, expression: string): void {
    this.expressions.set(name, expression);
  }

  problem(name: string, expression: string, message: string): void {
    this.expressions.set(name, expression);
    this.issues.push({ field: name, expression, message });
  }

  /** The FHIRPath of a JSON field, or of its nearest mapped parent. */
  expressionOf(name: string): string {
    const parts = name.split('.');
    for (; parts.length > 0; parts.pop()) {
      const expression = this.expressions.get(parts.join('.'));
      if (expression) return expression;
    }
    return 'Bundle';
  }
}

function setIn(target: Json, [key, ...rest]: string[], value: unknown): void {
  if (key === undefined) return;
  if (rest.length === 0) {
    target[key] = value;
    return;
  }
  const next = (Object.hasOwn(target, key) ? target[key] : undefined) as Json | undefined;
  const inner = next ?? {};
  target[key] = inner;
  setIn(inner, rest, value);
}

/**
 * Parts of one field written as several FHIR strings (given names, address lines, notes), joined;
 * a part that is not a string is passed on alone, for the schema to refuse as not text.
 */
function joined(parts: unknown[], separator: string): unknown {
  const odd = parts.find((p) => typeof p !== 'string');
  if (odd !== undefined) return odd;
  return parts.length === 0 ? undefined : parts.join(separator);
}

/** The value[x] of the first extension `url` on `from`, and its FHIRPath. */
function extensionValue(from: Located | undefined, url: string, type: string): [string, unknown] {
  const found = extensionsOf(from, url)[0];
  const where = from ? `${from.path}.extension('${url}')` : `extension('${url}')`;
  return [`${where}.value`, field(found?.value, `value${type}`)];
}

function setExtension(
  m: ReferralMapping,
  name: string,
  from: Located | undefined,
  url: string,
  type: string,
) {
  const [expression, value] = extensionValue(from, url, type);
  m.set(name, expression, value);
}

/** The code of the first coding from `system` in a CodeableConcept. */
function codeFrom(concept: Located | undefined, system: string): unknown {
  return field(firstWhere(concept, 'coding', (c) => field(c, 'system') === system)?.value, 'code');
}

/** A required resource reached by a reference; a problem on the reference when it leads nowhere. */
function follow(
  m: ReferralMapping,
  bundle: MessageBundle,
  name: string,
  reference: Located | undefined,
  expression: string,
  types: readonly string[],
): Located | undefined {
  const found = bundle.resolve(reference, types);
  if (!found) {
    m.problem(name, expression, `Must refer to a ${types.join(' or ')} entry in this Bundle.`);
  }
  return found;
}

/** Relay's codes from the ServiceRequest: the referral type, the urgency and the categories. */
function mapRequestCodes(m: ReferralMapping, request: Located): void {
  const at = request.path;
  const types = asList(field(request.value, 'category')).map((_, i) =>
    codeFrom(child(request, 'category', i), REFERRAL_TYPE_SYSTEM),
  );
  m.set(
    'referralType',
    `${at}.category`,
    types.find((code) => code !== undefined),
  );
  const priority = field(request.value, 'priority');
  const urgency = URGENCY_OF_PRIORITY.get(priority);
  if (priority !== undefined && urgency === undefined) {
    m.problem('urgency', `${at}.priority`, 'Must be one of: routine, urgent, asap, stat.');
  } else {
    m.set('urgency', `${at}.priority`, urgency);
  }
  const reasons = asList(field(request.value, 'reasonCode'));
  const categories = reasons.map((_, i) => {
    const code = codeFrom(child(request, 'reasonCode', i), CATEGORY_SYSTEM);
    const where = `${at}.reasonCode[${i}]`;
    if (code === undefined)
      m.problem(`categories.${i}`, where, `Must have a coding from ${CATEGORY_SYSTEM}.`);
    else m.from(`categories.${i}`, where);
    return code ?? '';
  });
  m.set('categories', `${at}.reasonCode`, reasons.length === 0 ? undefined : categories);
}

function mapAllegedPerson(m: ReferralMapping, request: Located): void {
  const alleged = extensionsOf(request, EXTENSION.allegedPerson)[0];
  m.from('allegedPerson', `${request.path}.extension('${EXTENSION.allegedPerson}')`);
  if (!alleged) return;
  for (const part of ['name', 'relationship', 'details'] as const) {
    const value = field(extensionsOf(alleged, part)[0]?.value, 'valueString');
    m.set(`allegedPerson.${part}`, `${alleged.path}.extension('${part}').value`, value);
  }
  // Present but empty: the schema then asks for a name or relationship, on this extension.
  if (field(m.input, 'allegedPerson') === undefined) m.set('allegedPerson', alleged.path, {});
}

function mapServiceRequest(m: ReferralMapping, request: Located): void {
  mapRequestCodes(m, request);
  const notes = asList(field(request.value, 'note')).map((note) => field(note, 'text') ?? note);
  m.set('concern', `${request.path}.note.text`, joined(notes, '\n\n'));
  const vulnerabilities = extensionsOf(request, EXTENSION.vulnerability).map((v, i) => {
    m.from(`vulnerabilities.${i}`, `${v.path}.value`);
    return field(v.value, 'valueCode');
  });
  m.set(
    'vulnerabilities',
    `${request.path}.extension('${EXTENSION.vulnerability}')`,
    vulnerabilities.length === 0 ? undefined : vulnerabilities,
  );
  setExtension(m, 'householdChildren', request, EXTENSION.householdChildren, 'Integer');
  setExtension(m, 'actionsTaken', request, EXTENSION.actionsTaken, 'String');
  setExtension(m, 'otherAgencies', request, EXTENSION.otherAgencies, 'String');
  mapAllegedPerson(m, request);
}

function mapPatient(m: ReferralMapping, patient: Located): void {
  const at = patient.path;
  const names = asList(field(patient.value, 'name'));
  const nameIndex = Math.max(
    0,
    names.findIndex((n) => field(n, 'use') === 'official'),
  );
  const name = child(patient, 'name', nameIndex);
  const given = field(name?.value, 'given');
  m.set(
    'subject.givenName',
    `${at}.name[${nameIndex}].given`,
    Array.isArray(given) ? joined(given, ' ') : given,
  );
  m.set('subject.familyName', `${at}.name[${nameIndex}].family`, field(name?.value, 'family'));
  m.set('subject.dateOfBirth', `${at}.birthDate`, field(patient.value, 'birthDate'));
  setExtension(m, 'subject.ageEstimate', patient, EXTENSION.ageEstimate, 'Integer');
  m.set('subject.gender', `${at}.gender`, field(patient.value, 'gender'));
  const nhs = firstWhere(patient, 'identifier', (i) => field(i, 'system') === NHS_NUMBER_SYSTEM);
  m.set(
    'subject.nhsNumber',
    `${at}.identifier.where(system='${NHS_NUMBER_SYSTEM}').value`,
    field(nhs?.value, 'value'),
  );
  mapAddress(m, patient);
  const phone = firstWhere(patient, 'telecom', (t) => field(t, 'system') === 'phone');
  m.set('subject.phone', `${at}.telecom.where(system='phone').value`, field(phone?.value, 'value'));
  setExtension(m, 'subject.communicationNeeds', patient, EXTENSION.communicationNeeds, 'String');
  m.set(
    'subject.gp',
    `${at}.generalPractitioner[0].display`,
    field(child(patient, 'generalPractitioner', 0)?.value, 'display'),
  );
}

/** The home address (or the first); the NHS's no-fixed-abode pseudo-postcode is `noFixedAbode`. */
function mapAddress(m: ReferralMapping, patient: Located): void {
  const addresses = asList(field(patient.value, 'address'));
  m.from('subject.address', `${patient.path}.address`);
  if (addresses.length === 0) return;
  const index = Math.max(
    0,
    addresses.findIndex((a) => field(a, 'use') === 'home'),
  );
  const address = child(patient, 'address', index);
  const at = `${patient.path}.address[${index}]`;
  const postcode = field(address?.value, 'postalCode');
  if (typeof postcode === 'string' && normalisePostcode(postcode) === NO_FIXED_ABODE_POSTCODE) {
    m.set('subject.address', at, { noFixedAbode: true });
    return;
  }
  const lines = asList(field(address?.value, 'line'));
  m.set('subject.address.line1', `${at}.line[0]`, lines[0]);
  m.set('subject.address.line2', `${at}.line[1]`, joined(lines.slice(1), ', '));
  m.set('subject.address.town', `${at}.city`, field(address?.value, 'city'));
  m.set('subject.address.postcode', `${at}.postalCode`, postcode);
  if (field(m.input, 'subject') === undefined || field(field(m.input, 'subject'), 'address') === undefined) {
    m.set('subject.address', at, {});
  }
}

function mapEncounter(m: ReferralMapping, bundle: MessageBundle, encounter: Located): void {
  const at = encounter.path;
  m.set(
    'incident.number',
    `${at}.identifier[0].value`,
    field(child(encounter, 'identifier', 0)?.value, 'value'),
  );
  m.set('incident.occurredAt', `${at}.period.start`, field(child(encounter, 'period')?.value, 'start'));
  setExtension(m, 'incident.callSign', encounter, EXTENSION.callSign, 'String');
  setExtension(m, 'incident.conveyed', encounter, EXTENSION.conveyed, 'Boolean');
  const reference = child(child(encounter, 'location', 0), 'location');
  const where = `${at}.location[0].location`;
  const location = follow(m, bundle, 'incident.location', reference, where, ['Location']);
  if (!location) return;
  m.set(
    'incident.location.postcode',
    `${location.path}.address.postalCode`,
    field(child(location, 'address')?.value, 'postalCode'),
  );
  m.set(
    'incident.location.description',
    `${location.path}.description`,
    field(location.value, 'description'),
  );
}

/**
 * The referrer: the requester is a PractitionerRole (with its Practitioner), or a Practitioner whose
 * PractitionerRole, if the Bundle has one, is the entry that refers to it (as BaRS's examples do).
 */
function mapReferrer(m: ReferralMapping, bundle: MessageBundle, request: Located): void {
  const requester = child(request, 'requester');
  const expression = `${request.path}.requester`;
  const found = follow(m, bundle, 'referrer', requester, expression, ['PractitionerRole', 'Practitioner']);
  if (!found) return;
  const isRole = field(found.value, 'resourceType') === 'PractitionerRole';
  const person = isRole ? bundle.resolve(child(found, 'practitioner'), ['Practitioner']) : found;
  const role = isRole
    ? found
    : bundle.firstOfType(
        'PractitionerRole',
        (r) => bundle.resolve(child(r, 'practitioner'), ['Practitioner']) === found,
      );
  if (!person) {
    m.problem('referrer', `${found.path}.practitioner`, 'Must refer to a Practitioner entry in this Bundle.');
    return;
  }
  const name = child(person, 'name', 0);
  const given = asList(field(name?.value, 'given'));
  const family = field(name?.value, 'family');
  const parts = family === undefined ? given : [...given, family];
  m.set('referrer.name', `${person.path}.name[0]`, field(name?.value, 'text') ?? joined(parts, ' '));
  const code = child(role, 'code', 0);
  const roleText = field(code?.value, 'text') ?? field(child(code, 'coding', 0)?.value, 'display');
  m.set('referrer.role', role ? `${role.path}.code[0]` : expression, roleText);
  m.set(
    'referrer.staffId',
    `${person.path}.identifier[0].value`,
    field(child(person, 'identifier', 0)?.value, 'value'),
  );
  for (const [name, system] of [
    ['referrer.phone', 'phone'],
    ['referrer.email', 'email'],
  ] as const) {
    const holder =
      [role, person].find((r) => firstWhere(r, 'telecom', (t) => field(t, 'system') === system)) ?? person;
    const telecom = firstWhere(holder, 'telecom', (t) => field(t, 'system') === system);
    m.set(name, `${holder.path}.telecom.where(system='${system}').value`, field(telecom?.value, 'value'));
  }
}

/** Consent as a Consent resource: provision.type permit or deny, Relay's extensions for the rest. */
function mapConsent(m: ReferralMapping, bundle: MessageBundle): void {
  const consent = bundle.firstOfType('Consent');
  if (!consent) {
    m.from('consent', 'Bundle.entry.resource.ofType(Consent)');
    return;
  }
  const type = field(child(consent, 'provision')?.value, 'type');
  const given = type === 'permit' ? true : type === 'deny' ? false : undefined;
  if (type !== undefined && given === undefined) {
    m.problem('consent.given', `${consent.path}.provision.type`, 'Must be permit or deny.');
  } else {
    m.set('consent.given', `${consent.path}.provision.type`, given);
  }
  setExtension(m, 'consent.discussed', consent, EXTENSION.consentDiscussed, 'Boolean');
  setExtension(m, 'consent.capacity', consent, EXTENSION.mentalCapacity, 'Code');
  setExtension(m, 'consent.overrideReason', consent, EXTENSION.overrideReason, 'String');
  if (field(m.input, 'consent') === undefined) m.set('consent', consent.path, {});
}

/** The whole request as the JSON API's referral body: `source` is the sender's system and the Bundle's identifier. */
export function mapReferral(bundle: MessageBundle, header: Located, request: Located): ReferralMapping {
  const m = new ReferralMapping();
  m.set('source.system', `${header.path}.source.name`, field(child(header, 'source')?.value, 'name'));
  m.set(
    'source.reference',
    'Bundle.identifier.value',
    field(child(bundle.root, 'identifier')?.value, 'value'),
  );
  mapServiceRequest(m, request);
  const patient = follow(m, bundle, 'subject', child(request, 'subject'), `${request.path}.subject`, [
    'Patient',
  ]);
  if (patient) mapPatient(m, patient);
  const encounter = follow(m, bundle, 'incident', child(request, 'encounter'), `${request.path}.encounter`, [
    'Encounter',
  ]);
  if (encounter) mapEncounter(m, bundle, encounter);
  mapReferrer(m, bundle, request);
  mapConsent(m, bundle);
  return m;
}
