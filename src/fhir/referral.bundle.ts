/**
 * A referral as the BaRS-shaped message Bundle Relay sends to a team (a webhook with `format: fhir`):
 * the inverse of referral.mapping.ts, element for element, so a Bundle Relay sends reads back through
 * Relay's own intake mapping as the same referral. Only the source differs: the MessageHeader's
 * source is Relay, and the ePCR's system and reference travel as a ServiceRequest identifier.
 */
import { createHash } from 'node:crypto';
import type { ReferralInputType } from '../referrals/referral.schema.ts';
import {
  BARS_EVENTS_SYSTEM,
  CATEGORY_SYSTEM,
  EXTENSION,
  OUTBOUND_EXTENSION,
  NHS_NUMBER_SYSTEM,
  NO_FIXED_ABODE_POSTCODE,
  REFERENCE_SYSTEM,
  REFERRAL_REQUEST_EVENT,
  REFERRAL_TYPE_SYSTEM,
  SOURCE_REFERENCE_SYSTEM,
  TEAM_SYSTEM,
} from './fhir.codes.ts';

type Json = Record<string, unknown>;
type Ext = [url: string, type: string, value: unknown];

export interface OutgoingReferral {
  id: string;
  reference: string;
  receivedAt: string;
  payload: ReferralInputType;
}

export interface BundleAddress {
  /** The message id (Bundle.id): one per delivery, so a resend is recognisably the same message. */
  messageId: string;
  teamId: string;
  /** Where the message goes (the webhook URL, the MESH mailbox). */
  endpoint: string;
  links: { acknowledge: string; portal?: string };
}

/** Relay's urgency as a FHIR request priority (intake reads asap and stat as immediate). */
const PRIORITY_OF_URGENCY = { routine: 'routine', urgent: 'urgent', immediate: 'asap' } as const;

type EntryType =
  | 'MessageHeader'
  | 'ServiceRequest'
  | 'Patient'
  | 'Encounter'
  | 'Location'
  | 'PractitionerRole'
  | 'Practitioner'
  | 'Consent';

/** A stable urn:uuid per resource of a referral, so every send of it names its entries alike. */
function entryId(referralId: string, type: EntryType): string {
  if (type === 'ServiceRequest') return referralId;
  const hex = createHash('sha256').update(`${referralId}/${type}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The extensions whose values are present, in order; none at all leaves the element out. */
function extensions(list: Ext[]): { extension?: Json[] } {
  const present = list
    .filter(([, , value]) => value !== undefined)
    .map(([url, type, value]) => ({ url, [`value${type}`]: value }));
  return present.length === 0 ? {} : { extension: present };
}

function allegedPerson(p: ReferralInputType): Json[] {
  const alleged = p.allegedPerson;
  if (!alleged) return [];
  const parts = extensions(
    (['name', 'relationship', 'details'] as const).map((k) => [k, 'String', alleged[k]]),
  );
  return [{ url: EXTENSION.allegedPerson, ...parts }];
}

function serviceRequest(r: OutgoingReferral, ref: (type: EntryType) => { reference: string }): Json {
  const p = r.payload;
  const own = extensions([
    ...(p.vulnerabilities ?? []).map((v): Ext => [EXTENSION.vulnerability, 'Code', v]),
    [EXTENSION.householdChildren, 'Integer', p.householdChildren],
    [EXTENSION.actionsTaken, 'String', p.actionsTaken],
    [EXTENSION.otherAgencies, 'String', p.otherAgencies],
    [OUTBOUND_EXTENSION.subjectType, 'Code', p.subjectType],
  ]).extension;
  const extension = [...(own ?? []), ...allegedPerson(p)];
  return {
    resourceType: 'ServiceRequest',
    ...(extension.length > 0 ? { extension } : {}),
    identifier: [
      { system: REFERENCE_SYSTEM, value: r.reference },
      { system: SOURCE_REFERENCE_SYSTEM, value: p.source.reference, assigner: { display: p.source.system } },
    ],
    status: 'active',
    intent: 'order',
    category: [{ coding: [{ system: REFERRAL_TYPE_SYSTEM, code: p.referralType }] }],
    priority: PRIORITY_OF_URGENCY[p.urgency],
    reasonCode: p.categories.map((code) => ({ coding: [{ system: CATEGORY_SYSTEM, code }] })),
    subject: ref('Patient'),
    encounter: ref('Encounter'),
    authoredOn: r.receivedAt,
    requester: ref('PractitionerRole'),
    note: [{ text: p.concern }],
  };
}

/** The home address; no fixed abode is the NHS's pseudo-postcode, as intake reads it. */
function address(subject: ReferralInputType['subject']): Json {
  const a = subject.address;
  if (a.noFixedAbode === true) return { use: 'home', postalCode: NO_FIXED_ABODE_POSTCODE };
  const line = a.line2 === undefined ? [a.line1] : [a.line1, a.line2];
  return { use: 'home', line, city: a.town, postalCode: a.postcode };
}

function patient(p: ReferralInputType): Json {
  const s = p.subject;
  return {
    resourceType: 'Patient',
    ...extensions([
      [EXTENSION.ageEstimate, 'Integer', s.ageEstimate],
      [EXTENSION.communicationNeeds, 'String', s.communicationNeeds],
    ]),
    ...(s.nhsNumber ? { identifier: [{ system: NHS_NUMBER_SYSTEM, value: s.nhsNumber }] } : {}),
    name: [{ use: 'official', family: s.familyName, given: [s.givenName] }],
    ...(s.phone ? { telecom: [{ system: 'phone', value: s.phone }] } : {}),
    ...(s.gender ? { gender: s.gender } : {}),
    ...(s.dateOfBirth ? { birthDate: s.dateOfBirth } : {}),
    address: [address(s)],
    ...(s.gp ? { generalPractitioner: [{ display: s.gp }] } : {}),
  };
}

function encounter(p: ReferralInputType, ref: (type: EntryType) => { reference: string }): Json {
  const i = p.incident;
  return {
    resourceType: 'Encounter',
    ...extensions([
      [EXTENSION.callSign, 'String', i.callSign],
      [EXTENSION.conveyed, 'Boolean', i.conveyed],
    ]),
    identifier: [{ value: i.number }],
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER' },
    subject: ref('Patient'),
    period: { start: i.occurredAt },
    location: [{ location: ref('Location') }],
  };
}

function location(p: ReferralInputType): Json {
  const { postcode, description } = p.incident.location;
  return {
    resourceType: 'Location',
    ...(description ? { description } : {}),
    address: { postalCode: postcode },
  };
}

function referrer(p: ReferralInputType, ref: (type: EntryType) => { reference: string }): Json[] {
  const r = p.referrer;
  const role = {
    resourceType: 'PractitionerRole',
    practitioner: ref('Practitioner'),
    code: [{ text: r.role }],
    telecom: [
      { system: 'phone', value: r.phone, use: 'work' },
      { system: 'email', value: r.email, use: 'work' },
    ],
  };
  const person = {
    resourceType: 'Practitioner',
    identifier: [{ value: r.staffId }],
    name: [{ text: r.name }],
  };
  return [role, person];
}

function consent(p: ReferralInputType, ref: (type: EntryType) => { reference: string }): Json {
  const c = p.consent;
  return {
    resourceType: 'Consent',
    ...extensions([
      [EXTENSION.consentDiscussed, 'Boolean', c.discussed],
      [EXTENSION.mentalCapacity, 'Code', c.capacity],
      [EXTENSION.overrideReason, 'String', c.overrideReason],
    ]),
    status: 'active',
    scope: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }],
    },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: ref('Patient'),
    provision: { type: c.given ? 'permit' : 'deny' },
  };
}

function messageHeader(to: BundleAddress, ref: (type: EntryType) => { reference: string }): Json {
  return {
    resourceType: 'MessageHeader',
    ...extensions([
      [OUTBOUND_EXTENSION.acknowledge, 'Url', to.links.acknowledge],
      [OUTBOUND_EXTENSION.portal, 'Url', to.links.portal],
    ]),
    eventCoding: { system: BARS_EVENTS_SYSTEM, code: REFERRAL_REQUEST_EVENT },
    destination: [
      { endpoint: to.endpoint, receiver: { identifier: { system: TEAM_SYSTEM, value: to.teamId } } },
    ],
    source: {
      name: 'safeguard-relay',
      software: 'Safeguard Relay',
      endpoint: to.links.portal ?? to.endpoint,
    },
    focus: [ref('ServiceRequest')],
  };
}

/** The referral as a FHIR R4 message Bundle (docs/api.md, FHIR: "What Relay sends"). */
export function referralBundle(r: OutgoingReferral, to: BundleAddress): Json {
  const ref = (type: EntryType) => ({ reference: `urn:uuid:${entryId(r.id, type)}` });
  const p = r.payload;
  const resources = [
    messageHeader(to, ref),
    serviceRequest(r, ref),
    patient(p),
    encounter(p, ref),
    location(p),
    ...referrer(p, ref),
    consent(p, ref),
  ];
  return {
    resourceType: 'Bundle',
    id: to.messageId,
    identifier: { system: REFERENCE_SYSTEM, value: r.reference },
    type: 'message',
    timestamp: r.receivedAt,
    entry: resources.map((resource) => {
      const id = entryId(r.id, resource.resourceType as EntryType);
      return {
        fullUrl: `urn:uuid:${id}`,
        resource: { resourceType: resource.resourceType, id, ...resource },
      };
    }),
  };
}
