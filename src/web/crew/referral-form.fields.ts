/**
 * The crew's referral form: its control names, the words on its choices, and how each control
 * relates to a path of the referral body (docs/api.md, Raise a referral), so errors can be shown beside the right control.
 */
import {
  ADULT_CATEGORIES,
  CHILD_CATEGORIES,
  EITHER_CATEGORIES,
  VULNERABILITIES,
} from '../../referrals/referral.schema.ts';

/** Single-valued controls, in the order they appear on the form. */
export const TEXT_FIELDS = [
  'sourceReference',
  'incidentNumber',
  'incidentDate[day]',
  'incidentDate[month]',
  'incidentDate[year]',
  'incidentTime',
  'incidentCallSign',
  'incidentPostcode',
  'incidentLocation',
  'incidentConveyed',
  'referrerName',
  'referrerRole',
  'referrerStaffId',
  'referrerPhone',
  'referrerEmail',
  'givenName',
  'familyName',
  'dateOfBirth[day]',
  'dateOfBirth[month]',
  'dateOfBirth[year]',
  'ageEstimate',
  'gender',
  'nhsNumber',
  'addressLine1',
  'addressLine2',
  'addressTown',
  'addressPostcode',
  'noFixedAbode',
  'subjectPhone',
  'communicationNeeds',
  'gp',
  'referralType',
  'urgency',
  'concern',
  'householdChildren',
  'allegedName',
  'allegedRelationship',
  'allegedDetails',
  'consentDiscussed',
  'consentGiven',
  'consentCapacity',
  'consentOverrideReason',
  'actionsTaken',
  'otherAgencies',
] as const;

/** Checkbox groups: each may be ticked several times, so the browser sends the name once per tick. */
export const LIST_FIELDS = [
  'categoriesAdult',
  'categoriesChild',
  'categoriesEither',
  'vulnerabilities',
] as const;

export type TextField = (typeof TEXT_FIELDS)[number];
export type ListField = (typeof LIST_FIELDS)[number];
export type FormValues = { [K in TextField]: string } & { [K in ListField]: string[] };

export interface Choice {
  value: string;
  text: string;
  hint?: { text: string };
}

const choice = (value: string, text: string, hint?: string): Choice =>
  hint ? { value, text, hint: { text: hint } } : { value, text };

const CATEGORY_LABELS: Record<string, string> = {
  physical: 'Physical abuse',
  'domestic-abuse': 'Domestic abuse',
  sexual: 'Sexual abuse',
  psychological: 'Psychological abuse',
  financial: 'Financial or material abuse',
  'modern-slavery': 'Modern slavery',
  discriminatory: 'Discriminatory abuse',
  organisational: 'Organisational abuse',
  neglect: 'Neglect',
  'self-neglect': 'Self-neglect',
  emotional: 'Emotional abuse',
  exploitation: 'Exploitation',
  'mental-health-crisis': 'Mental health crisis',
  other: 'Other',
};

const CATEGORY_HINTS: Record<string, string> = {
  financial: 'Including scams, theft, or misuse of money or benefits',
  neglect: 'Including acts of omission: care, food, medication or heating withheld',
  'self-neglect': 'Not caring for their own hygiene, health or surroundings',
  organisational: 'Poor care in a care home, hospital or care provider',
  exploitation: 'Criminal or sexual exploitation, including county lines',
  other: 'Describe it in your account of the concern',
};

const VULNERABILITY_LABELS: Record<string, string> = {
  dementia: 'Dementia',
  'learning-disability': 'Learning disability',
  'mental-health': 'Mental health condition',
  'substance-misuse': 'Drug or alcohol misuse',
  frailty: 'Frailty',
  'sensory-impairment': 'Sensory impairment',
  'physical-disability': 'Physical disability',
  autism: 'Autism',
  pregnancy: 'Pregnancy',
  homelessness: 'Homelessness',
  other: 'Other',
};

/** An outcome in the words the team chose it by (the inbox's choices use these too), on every page. */
export const OUTCOME_LABELS: Record<string, string> = {
  's42-enquiry': 'Section 42 enquiry',
  'child-protection-enquiry': 'Child protection enquiry',
  assessment: 'Assessment',
  'advice-given': 'Advice or information given',
  'no-further-action': 'No further action',
  redirected: 'Redirected to another team',
};

/** How an acknowledgement arrived, as a crew member would put it. */
export const ACK_METHOD_LABELS: Record<string, string> = {
  link: 'from the email',
  inbox: 'in the team inbox',
  api: "by the team's case system",
  phone: 'by phone, recorded by the safeguarding team',
};

export const CAPACITY_LABELS: Record<string, string> = {
  'has-capacity': 'Has capacity to consent',
  'lacks-capacity': 'Lacks capacity to consent',
  'not-assessed': 'Capacity not assessed',
};

export const URGENCY_LABELS: Record<string, string> = {
  immediate: 'Immediate',
  urgent: 'Urgent',
  routine: 'Routine',
};

export const REFERRAL_TYPE_LABELS: Record<string, string> = {
  safeguarding: 'Safeguarding',
  'care-concern': 'Care concern',
};

export function categoryLabel(value: string): string {
  return CATEGORY_LABELS[value] ?? value;
}

export function vulnerabilityLabel(value: string): string {
  return VULNERABILITY_LABELS[value] ?? value;
}

const categoryChoices = (values: readonly string[]) =>
  values.map((v) => choice(v, categoryLabel(v), CATEGORY_HINTS[v]));

/** The radio and checkbox items, ready for the nhsuk macros. */
export const CHOICES = {
  yesNo: [choice('yes', 'Yes'), choice('no', 'No')],
  referralType: [
    choice('safeguarding', 'Safeguarding', 'Abuse or neglect is suspected'),
    choice('care-concern', 'Care concern', 'Care and support needs are not met; no abuse is suspected'),
  ],
  categoriesAdult: categoryChoices(ADULT_CATEGORIES),
  categoriesChild: categoryChoices(CHILD_CATEGORIES),
  categoriesEither: categoryChoices(EITHER_CATEGORIES),
  urgency: [
    choice('immediate', 'Immediate', 'There is a risk now: the police are informed or needed'),
    choice('urgent', 'Urgent', 'The team needs to act today'),
    choice('routine', 'Routine', 'The team can act by the end of its next working day'),
  ],
  vulnerabilities: VULNERABILITIES.map((v) => choice(v, vulnerabilityLabel(v))),
  capacity: [
    choice('has-capacity', 'Has capacity', 'To decide about this referral'),
    choice('lacks-capacity', 'Lacks capacity', 'To decide about this referral'),
    choice('not-assessed', 'Not assessed'),
  ],
};

/** The adult, child and either lists as the body's one list of categories, each once. */
export function allCategories(v: FormValues): string[] {
  return [...new Set([...v.categoriesAdult, ...v.categoriesChild, ...v.categoriesEither])];
}
