import type { FollowUpKind } from '../../db/codes.ts';
import { escapeHtml, htmlTable, textTable } from './html.ts';
import { referralSubject, type ComposedEmail, type ReferralEmailFacts } from './referral.email.ts';

export interface FollowUpFacts extends Omit<ReferralEmailFacts, 'referral'> {
  kind: FollowUpKind;
  ackBy: string;
  /** The team that has not acknowledged, when the alert goes to someone else (out-of-hours). */
  forTeamName: string;
  phones: string[];
}

const HEADLINES: Record<FollowUpKind, string> = {
  reminder: 'REMINDER',
  'alert-secondary': 'NOT ACKNOWLEDGED',
  'alert-out-of-hours': 'NOT ACKNOWLEDGED — OUT-OF-HOURS COVER',
};

function intro(f: FollowUpFacts): string {
  switch (f.kind) {
    case 'reminder':
      return `This safeguarding referral has not been acknowledged yet. Please acknowledge it by ${f.ackBy}.`;
    case 'alert-secondary':
      return `This safeguarding referral to ${f.forTeamName} was not acknowledged by its deadline (${f.ackBy}). Please make sure a person has it, and acknowledge it.`;
    case 'alert-out-of-hours':
      return `${f.forTeamName} is closed and has not acknowledged this safeguarding referral by its deadline (${f.ackBy}). As out-of-hours cover, please make sure a person has it, and acknowledge it.`;
  }
}

/** Reminders and deadline alerts: like the minimal referral email, never with personal data. */
export function composeFollowUpEmail(f: FollowUpFacts): ComposedEmail {
  const rows: [string, string][] = [
    ['Reference', f.reference],
    ['Urgency', f.urgency],
    ['Type', `${f.referralType} (${f.subjectType})`],
    ['Categories', f.categories.join(', ')],
    ['Authority', f.authorityName],
    ['Team', f.forTeamName],
    ['Received', f.receivedAt],
    ['Acknowledge by', f.ackBy],
    ...(f.phones.length ? ([['Team phone', f.phones.join(', ')]] as [string, string][]) : []),
  ];
  const text = [
    intro(f),
    '',
    textTable(rows),
    '',
    `Acknowledge receipt: ${f.ackUrl}`,
    `Open in the portal: ${f.portalUrl}`,
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:Arial,sans-serif">',
    `<p><strong>${escapeHtml(intro(f))}</strong></p>`,
    htmlTable(rows),
    `<p><a href="${escapeHtml(f.ackUrl)}">Acknowledge receipt</a></p>`,
    `<p><a href="${escapeHtml(f.portalUrl)}">Open in the portal</a></p>`,
    '</body></html>',
  ].join('');
  return { subject: referralSubject(f).replace('[secure] ', `[secure] ${HEADLINES[f.kind]}: `), text, html };
}

export function composeTestAlertEmail(f: {
  teamName: string;
  ackUrl: string;
  sentAt: string;
}): ComposedEmail {
  const lines = [
    'This is a TEST ALERT from Safeguard Relay. It is not a referral.',
    `It checks that safeguarding referrals sent to this address reach a person at ${f.teamName}.`,
    'Please acknowledge it, as you would a referral, so we know this address works.',
  ];
  return {
    subject: `[secure] TEST ALERT — please acknowledge — ${f.teamName}`,
    text: [...lines, '', `Sent: ${f.sentAt}`, `Acknowledge: ${f.ackUrl}`].join('\n'),
    html:
      '<!doctype html><html><body style="font-family:Arial,sans-serif">' +
      lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('') +
      `<p>Sent: ${escapeHtml(f.sentAt)}</p><p><a href="${escapeHtml(f.ackUrl)}">Acknowledge</a></p></body></html>`,
  };
}
