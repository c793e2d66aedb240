import { escapeHtml, htmlTable, textTable } from '../../delivery/messages/html.ts';
import type { ComposedEmail } from '../../delivery/messages/referral.email.ts';
import type { DailyCounts } from './daily-summary.queries.ts';

function rows(c: DailyCounts): [string, string][] {
  const open = Object.entries(c.openEscalations);
  return [
    ['Referrals received', String(c.received)],
    ['Copies routed to teams', String(c.routed)],
    ['Deliveries sent', String(c.sent)],
    ['Deliveries failed or bounced', String(c.undelivered)],
    ['Acknowledged', String(c.acknowledged)],
    ['Acknowledged late', String(c.acknowledgedLate)],
    ['Not yet acknowledged', String(c.unacknowledged)],
    ['Not acknowledged, past deadline', String(c.overdue)],
    ['Sent to triage', String(c.triaged)],
    ['Triage items open now', String(c.triageOpen)],
    ['Escalations opened', String(c.escalationsOpened)],
    [
      'Escalations open now',
      open.length === 0 ? 'none' : open.map(([reason, count]) => `${reason}: ${count}`).join(', '),
    ],
    ['Audit log head', c.audit ? `entry ${c.audit.seq}, hash ${c.audit.hash}` : 'no entries'],
  ];
}

/** Counts only; the audit head is there so a copy of it exists outside Relay every day. */
export function composeDailySummaryEmail(c: DailyCounts, portalUrl: string, anchor?: string): ComposedEmail {
  const intro = `Safeguard Relay daily summary for ${c.date} (London). Counts are of referrals received that day, with their state now.`;
  const keep =
    'Keep this email: the audit log head lets anyone prove later that the log up to this point was not rewritten.';
  const check = anchor
    ? 'Audit anchor (relay audit verify --anchor checks the log still holds it, unchanged):'
    : undefined;
  const table = rows(c);
  return {
    subject: `Safeguard Relay daily summary — ${c.date} — ${c.received} received, ${c.overdue} overdue`,
    text: [
      intro,
      '',
      textTable(table),
      '',
      keep,
      ...(check ? [check, anchor] : []),
      `Portal: ${portalUrl}`,
    ].join('\n'),
    html:
      '<!doctype html><html><body style="font-family:Arial,sans-serif">' +
      `<p>${escapeHtml(intro)}</p>${htmlTable(table)}<p>${escapeHtml(keep)}</p>` +
      (check ? `<p>${escapeHtml(check)}<br><code>${escapeHtml(anchor ?? '')}</code></p>` : '') +
      `<p><a href="${escapeHtml(portalUrl)}">Open the portal</a></p></body></html>`,
  };
}
