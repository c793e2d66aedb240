/**
 * The check-your-answers page's summary lists, built from the validated body, so the crew member
 * sees what will be sent (normalised postcodes, NHS number, London time), not merely what was typed.
 */
import { escapeHtml } from '../../delivery/messages/html.ts';
import type { ReferralInputType } from '../../referrals/referral.schema.ts';
import { formatLondon } from '../../time.ts';
import {
  CAPACITY_LABELS,
  REFERRAL_TYPE_LABELS,
  URGENCY_LABELS,
  categoryLabel,
  vulnerabilityLabel,
} from './referral-form.fields.ts';

export const EDIT_ACTION = '/crew/referrals/edit';

interface Row {
  key: { text: string };
  value: { html: string };
  actions: {
    items: { text: string; visuallyHiddenText: string; type: 'submit'; attributes: Record<string, string> }[];
  };
}

export interface CheckSection {
  id: string;
  title: string;
  rows: Row[];
}

/** Escaped, with the writer's line breaks kept: an account of a concern is often several paragraphs. */
function html(value: string | undefined, empty = 'Not given'): string {
  return value === undefined || value === '' ? empty : escapeHtml(value).replace(/\r?\n/g, '<br>');
}

/**
 * "Change" is a submit button, not a link: the draft lives only in this page's hidden fields, so it
 * must be posted back to the form, which then opens at the control (formaction keeps the #anchor).
 */
function row(key: string, value: string | undefined, controlId: string, empty?: string): Row {
  return {
    key: { text: key },
    value: { html: html(value, empty) },
    actions: {
      items: [
        {
          text: 'Change',
          visuallyHiddenText: key.toLowerCase(),
          type: 'submit',
          attributes: { formaction: `${EDIT_ACTION}#${controlId}`, formnovalidate: 'formnovalidate' },
        },
      ],
    },
  };
}

const yesNo = (value: boolean | undefined) => (value === undefined ? undefined : value ? 'Yes' : 'No');

const DATE = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});

function age(subject: ReferralInputType['subject']): string | undefined {
  if (subject.dateOfBirth) return DATE.format(new Date(`${subject.dateOfBirth}T00:00:00Z`));
  return subject.ageEstimate === undefined ? undefined : `About ${subject.ageEstimate} (estimate)`;
}

function address(a: ReferralInputType['subject']['address']): string {
  if ('line1' in a) return [a.line1, a.line2, a.town, a.postcode].filter(Boolean).join('\n');
  return 'No fixed abode';
}

function incident(r: ReferralInputType): CheckSection {
  const i = r.incident;
  return {
    id: 'incident',
    title: 'Incident',
    rows: [
      row('Incident number', i.number, 'incidentNumber'),
      row('Date and time', formatLondon(i.occurredAt), 'incidentDate-day'),
      row('Call sign', i.callSign, 'incidentCallSign'),
      row('Postcode', i.location.postcode, 'incidentPostcode'),
      row('Location', i.location.description, 'incidentLocation'),
      row('Conveyed to hospital', yesNo(i.conveyed), 'incidentConveyed', 'Not recorded'),
    ],
  };
}

function referrer(r: ReferralInputType): CheckSection {
  const p = r.referrer;
  return {
    id: 'referrer',
    title: 'You',
    rows: [
      row('Name', p.name, 'referrerName'),
      row('Role', p.role, 'referrerRole'),
      row('Staff ID', p.staffId, 'referrerStaffId'),
      row('Phone', p.phone, 'referrerPhone'),
      row('Email', p.email, 'referrerEmail'),
    ],
  };
}

function person(r: ReferralInputType): CheckSection {
  const s = r.subject;
  return {
    id: 'person',
    title: 'The person',
    rows: [
      row('Name', `${s.givenName} ${s.familyName}`, 'givenName'),
      row('Date of birth or age', age(s), 'dateOfBirth-day'),
      row('Gender', s.gender, 'gender'),
      row('NHS number', s.nhsNumber, 'nhsNumber', 'Not known'),
      row('Address', address(s.address), 'addressLine1'),
      row('Phone', s.phone, 'subjectPhone'),
      row('Communication needs', s.communicationNeeds, 'communicationNeeds', 'None recorded'),
      row('GP', s.gp, 'gp'),
    ],
  };
}

function concern(r: ReferralInputType): CheckSection {
  const a = r.allegedPerson;
  const alleged = a ? [a.name, a.relationship, a.details].filter(Boolean).join('\n') : undefined;
  return {
    id: 'concern',
    title: 'The concern',
    rows: [
      row('Type of referral', REFERRAL_TYPE_LABELS[r.referralType], 'referralType'),
      row('Categories', r.categories.map(categoryLabel).join('\n'), 'categoriesAdult'),
      row('Urgency', URGENCY_LABELS[r.urgency], 'urgency'),
      row('Account of the concern', r.concern, 'concern'),
      row(
        'Vulnerabilities',
        r.vulnerabilities?.map(vulnerabilityLabel).join('\n'),
        'vulnerabilities',
        'None',
      ),
      row('Children in the household', r.householdChildren?.toString(), 'householdChildren', 'Not recorded'),
      row('Alleged person', alleged, 'allegedName', 'None recorded'),
    ],
  };
}

function consent(r: ReferralInputType): CheckSection {
  const c = r.consent;
  return {
    id: 'consent',
    title: 'Consent',
    rows: [
      row('Discussed with the person', yesNo(c.discussed), 'consentDiscussed'),
      row('Consent given', yesNo(c.given), 'consentGiven'),
      row('Capacity', CAPACITY_LABELS[c.capacity], 'consentCapacity'),
      row('Reason for referring without consent', c.overrideReason, 'consentOverrideReason', 'Not needed'),
    ],
  };
}

export function checkSections(r: ReferralInputType): CheckSection[] {
  return [
    incident(r),
    referrer(r),
    person(r),
    concern(r),
    consent(r),
    {
      id: 'actions',
      title: 'Actions and other agencies',
      rows: [
        row('Actions taken', r.actionsTaken, 'actionsTaken', 'None recorded'),
        row('Other agencies', r.otherAgencies, 'otherAgencies', 'None recorded'),
      ],
    },
  ];
}
