/**
 * The systems and URLs Relay's FHIR API reads and writes. The NHS's own are used where they exist
 * (NHS number, the BaRS message events); what BaRS and UK Core have no element for is carried in
 * Relay's own extensions and code systems, whose codes are the JSON API's values (docs/api.md, FHIR).
 */
export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const BARS_EVENTS_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/message-events-bars';
export const REFERRAL_REQUEST_EVENT = 'servicerequest-request';
/** The NHS's pseudo-postcode for a person of no fixed abode. */
export const NO_FIXED_ABODE_POSTCODE = 'ZZ99 3VZ';

const BASE = 'https://safeguard-relay.example/fhir';
export const REFERRAL_TYPE_SYSTEM = `${BASE}/CodeSystem/referral-type`;
export const CATEGORY_SYSTEM = `${BASE}/CodeSystem/safeguarding-category`;
export const TASK_STATUS_SYSTEM = `${BASE}/CodeSystem/team-progress`;
export const REFERENCE_SYSTEM = `${BASE}/Id/referral-reference`;
export const TEAM_SYSTEM = `${BASE}/Id/team`;

/** Relay's extensions, by the JSON field each carries. */
export const EXTENSION = {
  vulnerability: `${BASE}/StructureDefinition/vulnerability`,
  householdChildren: `${BASE}/StructureDefinition/household-children`,
  allegedPerson: `${BASE}/StructureDefinition/alleged-person`,
  actionsTaken: `${BASE}/StructureDefinition/actions-taken`,
  otherAgencies: `${BASE}/StructureDefinition/other-agencies`,
  ageEstimate: `${BASE}/StructureDefinition/age-estimate`,
  communicationNeeds: `${BASE}/StructureDefinition/communication-needs`,
  callSign: `${BASE}/StructureDefinition/call-sign`,
  conveyed: `${BASE}/StructureDefinition/conveyed`,
  consentDiscussed: `${BASE}/StructureDefinition/consent-discussed`,
  mentalCapacity: `${BASE}/StructureDefinition/mental-capacity`,
  overrideReason: `${BASE}/StructureDefinition/consent-override-reason`,
} as const;

/** FHIR request priorities as Relay's urgency: asap and stat both ask for the fastest answer. */
export const URGENCY_OF_PRIORITY: ReadonlyMap<unknown, 'routine' | 'urgent' | 'immediate'> = new Map([
  ['routine', 'routine'],
  ['urgent', 'urgent'],
  ['asap', 'immediate'],
  ['stat', 'immediate'],
] as const);

/**
 * What only Relay's outgoing Bundle carries (referral.bundle.ts): where the team acts on it, and the
 * subject type Relay derived (intake derives it again, so it reads none).
 */
export const OUTBOUND_EXTENSION = {
  subjectType: `${BASE}/StructureDefinition/subject-type`,
  acknowledge: `${BASE}/StructureDefinition/acknowledge-link`,
  portal: `${BASE}/StructureDefinition/portal-link`,
} as const;
export const SOURCE_REFERENCE_SYSTEM = `${BASE}/Id/source-reference`;
