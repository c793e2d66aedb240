import { createHmac } from 'node:crypto';
import { escapeHtml, htmlTable, textTable } from '../../delivery/messages/html.ts';
import type { ComposedEmail } from '../../delivery/messages/referral.email.ts';
import type { EscalationItem } from '../escalation.queries.ts';

/**
 * What a push says: the reference, reason, team, the team's phone numbers and the link to claim it.
 * Built from the escalation alone, never from the referral's payload, so no personal data can get in.
 */
export interface PushFacts {
  escalation: string;
  reference: string | null;
  reason: string;
  team: string | null;
  teamName: string | null;
  phones: { label: string; number: string }[];
  /** The escalation page, where it is claimed and resolved. */
  link: string;
  rung: number;
  cause: string;
  openedAt: string;
}

export function pushFacts(item: EscalationItem, baseUrl: string, rung: number, cause: string): PushFacts {
  return {
    escalation: item.id,
    reference: item.reference,
    reason: item.reason,
    team: item.team,
    teamName: item.teamName,
    phones: item.phones.map((p) => ({ label: p.label, number: p.number })),
    link: `${baseUrl}/safeguarding/escalations/${encodeURIComponent(item.id)}`,
    rung,
    cause,
    openedAt: item.openedAt,
  };
}

const CAUSES: Record<string, string> = {
  opened: 'It has just opened and you are on call.',
  reopened: 'It was resolved, but the problem still stands, so it has opened again.',
  ladder: 'Nobody has claimed it in time, so it has come to you.',
  'claim-lapsed': 'It was claimed, but nothing has happened since, so the claim has lapsed.',
};

export function composePushEmail(f: PushFacts): ComposedEmail {
  const about = f.reference ?? 'the service';
  const intro = `A Safeguard Relay escalation needs a named person. ${CAUSES[f.cause] ?? ''}`.trim();
  const act = 'Claim it now, then call the team and resolve it with a note of what was done.';
  const rows: [string, string][] = [
    ['Reference', f.reference ?? 'none (about the service, not one referral)'],
    ['Reason', f.reason],
    ['Team', f.teamName ?? f.team ?? 'not about one team'],
    ['Phone', f.phones.length ? f.phones.map((p) => `${p.label}: ${p.number}`).join('\n') : 'none'],
    ['Opened', f.openedAt],
    ['Claim it', f.link],
  ];
  return {
    subject: `Relay escalation: ${f.reason} — ${about} — claim it`,
    text: [intro, '', textTable(rows), '', act].join('\n'),
    html:
      '<!doctype html><html><body style="font-family:Arial,sans-serif">' +
      `<p>${escapeHtml(intro)}</p>${htmlTable(rows)}<p>${escapeHtml(act)}</p>` +
      `<p><a href="${escapeHtml(f.link)}">Claim the escalation</a></p></body></html>`,
  };
}

/** The body POSTed to PAGER_WEBHOOK_URL: the same facts, and who is being paged. */
export function pagerBody(f: PushFacts, recipient: string, pushId: string): string {
  return JSON.stringify({ push: pushId, recipient, ...f });
}

/** `sha256=<hex>` of the exact body, so the gateway can check the page came from Relay. */
export function pagerSignature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
