import { escapeHtml } from '../delivery/messages/html.ts';
import type { ComposedEmail } from '../delivery/messages/referral.email.ts';
import type { Manifest } from './manifest.service.ts';

export interface ManifestEmailFacts {
  manifest: Manifest;
  teamName: string;
  /** Where the team's system can fetch the same list, and where disputes go. */
  apiUrl: string;
}

const columns = ['Reference', 'Received', 'Urgency', 'Acknowledged'];

function cells(e: Manifest['references'][number]): string[] {
  return [e.reference, e.receivedAt, e.urgency, e.acknowledgedAt ?? 'NOT YET'];
}

/**
 * The daily manifest: references, times and urgency only (no names or narrative), so it can go
 * to the team's ordinary mailbox and be checked against what the team actually holds.
 */
export function composeManifestEmail(f: ManifestEmailFacts): ComposedEmail {
  const { manifest } = f;
  const count = manifest.references.length;
  const intro = [
    `Safeguard Relay sent ${count} safeguarding referral${count === 1 ? '' : 's'} to ${f.teamName} on ${manifest.date} (London).`,
    'Please check each reference against your records. If one is missing from your system or is not ' +
      "yours, tell the ambulance service's safeguarding team, or dispute it through the API: " +
      `POST ${f.apiUrl}/disputes`,
  ];
  const text = [
    ...intro,
    '',
    columns.join(' | '),
    ...manifest.references.map((e) => cells(e).join(' | ')),
  ].join('\n');
  const head = columns.map((c) => `<th align="left" style="padding:4px 12px 4px 0">${c}</th>`).join('');
  const body = manifest.references
    .map(
      (e) =>
        `<tr>${cells(e)
          .map((c) => `<td style="padding:4px 12px 4px 0">${escapeHtml(c)}</td>`)
          .join('')}</tr>`,
    )
    .join('');
  const html =
    '<!doctype html><html><body style="font-family:Arial,sans-serif">' +
    intro.map((l) => `<p>${escapeHtml(l)}</p>`).join('') +
    `<table role="presentation" style="border-collapse:collapse"><tr>${head}</tr>${body}</table>` +
    '</body></html>';
  return {
    subject: `[secure] Daily manifest — ${count} referral${count === 1 ? '' : 's'} — ${manifest.date} — ${f.teamName}`,
    text,
    html,
  };
}
