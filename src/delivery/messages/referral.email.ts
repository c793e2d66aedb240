import type { ReferralInputType } from '../../referrals/referral.schema.ts';
import { escapeHtml, htmlTable, textTable } from './html.ts';

export interface ReferralEmailFacts {
  reference: string;
  urgency: string;
  subjectType: string;
  referralType: string;
  categories: string[];
  authorityName: string;
  teamName: string;
  receivedAt: string;
  ackUrl: string;
  portalUrl: string;
  /** Present only when the team receives full detail. */
  referral?: ReferralInputType;
}

export interface ComposedEmail {
  subject: string;
  text: string;
  html: string;
}

/** "Birmingham City Council" → "Birmingham", for a short subject line. */
export function shortAuthorityName(name: string): string {
  return name
    .replace(/^City of /, '')
    .replace(/ (City|Metropolitan Borough|County|Borough|District)? ?Council$/, '')
    .trim();
}

/** The subject carries no personal data: reference, urgency, type and authority only. */
export function referralSubject(f: ReferralEmailFacts): string {
  return `[secure] Safeguarding referral ${f.reference} — ${f.urgency.toUpperCase()} — ${f.subjectType} — ${shortAuthorityName(f.authorityName)}`;
}

function summaryRows(f: ReferralEmailFacts): [string, string][] {
  return [
    ['Reference', f.reference],
    ['Urgency', f.urgency],
    ['Type', `${f.referralType} (${f.subjectType})`],
    ['Categories', f.categories.join(', ')],
    ['Authority', f.authorityName],
    ['Team', f.teamName],
    ['Received', f.receivedAt],
  ];
}

export function composeReferralEmail(f: ReferralEmailFacts): ComposedEmail {
  const rows = summaryRows(f);
  const detail = f.referral ? fullDetailRows(f.referral) : [];
  const intro =
    'A safeguarding referral has been sent to your team by the ambulance service. ' +
    'Please acknowledge it so the crew and the safeguarding team know a person has it.';
  const minimalNote = f.referral
    ? ''
    : 'The referral details are in the portal (sign-in required); this email carries no personal data.';
  const text = [
    intro,
    '',
    textTable(rows),
    ...(detail.length ? ['', textTable(detail)] : []),
    '',
    `Acknowledge receipt: ${f.ackUrl}`,
    `Open in the portal: ${f.portalUrl}`,
    ...(minimalNote ? ['', minimalNote] : []),
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:Arial,sans-serif">',
    `<p>${escapeHtml(intro)}</p>`,
    htmlTable(rows),
    detail.length ? `<h2>Referral</h2>${htmlTable(detail)}` : '',
    `<p><a href="${escapeHtml(f.ackUrl)}">Acknowledge receipt</a></p>`,
    `<p><a href="${escapeHtml(f.portalUrl)}">Open in the portal</a></p>`,
    minimalNote ? `<p>${escapeHtml(minimalNote)}</p>` : '',
    '</body></html>',
  ].join('');
  return { subject: referralSubject(f), text, html };
}

function fullDetailRows(r: ReferralInputType): [string, string][] {
  const s = r.subject;
  const address =
    'postcode' in s.address
      ? [s.address.line1, s.address.line2, s.address.town, s.address.postcode].filter(Boolean).join(', ')
      : 'No fixed abode';
  const optional = (label: string, value: string | number | undefined | null): [string, string][] =>
    value === undefined || value === null || value === '' ? [] : [[label, String(value)]];
  return [
    ['Name', `${s.givenName} ${s.familyName}`],
    ...optional('Date of birth', s.dateOfBirth),
    ...optional('Age (estimate)', s.ageEstimate),
    ...optional('Gender', s.gender),
    ...optional('NHS number', s.nhsNumber),
    ['Address', address],
    ...optional('Phone', s.phone),
    ...optional('Communication needs', s.communicationNeeds),
    ...optional('GP', s.gp),
    ['Incident', `${r.incident.number} at ${r.incident.occurredAt}, ${r.incident.location.postcode}`],
    ...optional('Location', r.incident.location.description),
    ...optional('Call sign', r.incident.callSign),
    ...optional(
      'Conveyed to hospital',
      r.incident.conveyed === undefined ? undefined : r.incident.conveyed ? 'yes' : 'no',
    ),
    ['Source record', `${r.source.system} ${r.source.reference}`],
    ['Concern', r.concern],
    ...optional('Vulnerabilities', r.vulnerabilities?.join(', ')),
    ...optional('Children in household', r.householdChildren),
    ...optional(
      'Alleged person',
      r.allegedPerson &&
        [r.allegedPerson.name, r.allegedPerson.relationship, r.allegedPerson.details]
          .filter(Boolean)
          .join(' — '),
    ),
    [
      'Consent',
      `discussed: ${r.consent.discussed ? 'yes' : 'no'}, given: ${r.consent.given ? 'yes' : 'no'}, capacity: ${r.consent.capacity}` +
        (r.consent.overrideReason ? `; shared without consent because: ${r.consent.overrideReason}` : ''),
    ],
    ...optional('Actions taken', r.actionsTaken),
    ...optional('Other agencies', r.otherAgencies),
    [
      'Referrer',
      `${r.referrer.name}, ${r.referrer.role} (${r.referrer.staffId}), ${r.referrer.phone}, ${r.referrer.email}`,
    ],
  ];
}
