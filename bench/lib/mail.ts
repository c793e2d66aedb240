import nodemailer, { type Transporter } from 'nodemailer';
import { composeReferralEmail } from '../../src/delivery/messages/referral.email.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';

/** The same transport settings Relay's EmailChannel uses: a pool of SMTP_POOL_SIZE (5) connections. */
export function pooledTransport(smtpUrl: string, poolSize = 5, timeoutMs?: number): Transporter {
  const timeouts = timeoutMs
    ? { connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs }
    : {};
  return nodemailer.createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections: poolSize,
    ...timeouts,
  } as Parameters<typeof nodemailer.createTransport>[0]);
}

/**
 * The body Relay composes for the benchmark's referral, in full detail as Birmingham's adult team
 * receives it: the peers send the same bytes Relay does, so none is timed on a lighter message.
 */
const RELAY_EMAIL = (() => {
  const r = exampleReferral();
  return composeReferralEmail({
    reference: 'SR-2026-000001',
    urgency: r.urgency,
    subjectType: 'adult',
    referralType: r.referralType,
    categories: r.categories,
    authorityName: 'Birmingham City Council',
    teamName: 'Birmingham Adult Social Care Front Door',
    receivedAt: '25 November 2026, 10:15 (UK time)',
    ackUrl: `http://localhost:8080/ack/${'a'.repeat(150)}`,
    portalUrl: 'http://localhost:8080/referrals/00000000-0000-4000-8000-000000000000',
    referral: r,
  });
})();
const TEXT = RELAY_EMAIL.text;
const HTML = RELAY_EMAIL.html;

/**
 * A message shaped like Relay's (plain text and HTML, a stable Message-ID, an id header). `ref`, the
 * referral's source reference, lets the chaos run tell one job sent twice from two jobs for one referral.
 */
export function benchMail(id: string, ref?: string) {
  return {
    from: 'Safeguard Relay <relay@localhost>',
    to: 'adults.birmingham@example.org',
    subject: '[secure] Safeguarding referral — URGENT — adult — Birmingham',
    text: TEXT,
    html: HTML,
    messageId: `<${id}@bench.relay>`,
    headers: { 'X-Bench-Id': id, ...(ref ? { 'X-Bench-Ref': ref } : {}) },
    envelope: { from: `bounce+${id}@localhost`, to: 'adults.birmingham@example.org' },
  };
}
