import nodemailer, { type Transporter } from 'nodemailer';

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

const TEXT = `Safeguarding referral\n\n${'A referral of about the size Relay sends. '.repeat(40)}\n`;
const HTML = `<html><body><h1>Safeguarding referral</h1><p>${'A referral of about the size Relay sends. '.repeat(40)}</p></body></html>`;

/** A message shaped like Relay's (plain text and HTML, a stable Message-ID, an id header). */
export function benchMail(id: string) {
  return {
    from: 'Safeguard Relay <relay@localhost>',
    to: 'adults.birmingham@example.org',
    subject: '[secure] Safeguarding referral — URGENT — adult — Birmingham',
    text: TEXT,
    html: HTML,
    messageId: `<${id}@bench.relay>`,
    headers: { 'X-Bench-Id': id },
    envelope: { from: `bounce+${id}@localhost`, to: 'adults.birmingham@example.org' },
  };
}
