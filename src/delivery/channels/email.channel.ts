import nodemailer, { type Transporter } from 'nodemailer';
import type { AttemptOutcome } from '../retry.policy.ts';

export interface OutgoingEmail {
  from: string;
  /** The envelope sender (Return-Path): bounce+<deliveryId>@BOUNCE_DOMAIN, so a bounce names its delivery. */
  envelopeFrom: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
}

export interface EmailChannelOptions {
  smtpUrl: string;
  poolSize: number;
  timeoutMs: number;
  /**
   * `starttls`: upgrade and refuse to send in clear; `implicit`: TLS from the first byte; `off`:
   * never TLS. Unset, nodemailer's default: STARTTLS when the server offers it (tests, the catcher).
   */
  tls?: 'starttls' | 'implicit' | 'off';
}

/** Nodemailer's options for each SMTP_TLS mode; the certificate is always verified. */
function tlsOptions(tls: EmailChannelOptions['tls']): Record<string, boolean> {
  if (tls === 'starttls') return { secure: false, requireTLS: true };
  if (tls === 'implicit') return { secure: true };
  if (tls === 'off') return { secure: false, ignoreTLS: true };
  return {};
}

const TEMPORARY_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ECONNREFUSED',
  'ECONNRESET',
  'EABORT',
]);

/**
 * SMTP replies decide: 4xx is temporary and 5xx permanent (RFC 5321). Without a reply, a refused
 * or dropped connection, a DNS failure or a time-out is temporary; anything else (bad config,
 * rejected auth without a code) is permanent, so it fails loudly instead of retrying for a day.
 */
export function classifySmtpError(error: unknown): AttemptOutcome {
  const e = (error ?? {}) as { responseCode?: number; code?: string; response?: string; message?: string };
  const detail = describe(e);
  if (typeof e.responseCode === 'number') {
    if (e.responseCode >= 400 && e.responseCode < 500) return { kind: 'temporary', detail };
    if (e.responseCode >= 500) return { kind: 'permanent', detail };
  }
  if (e.code && TEMPORARY_CODES.has(e.code)) return { kind: 'temporary', detail };
  return { kind: 'permanent', detail };
}

function describe(e: { responseCode?: number; code?: string; response?: string; message?: string }): string {
  if (e.response) return e.response.slice(0, 500);
  return [e.code, e.message].filter(Boolean).join(': ').slice(0, 500);
}

/** Nodemailer over a pool of SMTP connections. */
export class EmailChannel {
  private readonly transport: Transporter;

  constructor(options: EmailChannelOptions) {
    this.transport = nodemailer.createTransport({
      url: options.smtpUrl,
      pool: true,
      maxConnections: options.poolSize,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      ...tlsOptions(options.tls),
    } as Parameters<typeof nodemailer.createTransport>[0]);
  }

  async send(message: OutgoingEmail): Promise<AttemptOutcome> {
    try {
      const info = await this.transport.sendMail({
        from: message.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: message.messageId,
        headers: message.headers,
        envelope: { from: message.envelopeFrom, to: message.to },
      });
      const rejected = (info.rejected ?? []).length > 0;
      if (rejected) return { kind: 'permanent', detail: String(info.response ?? 'recipient rejected') };
      return { kind: 'sent', detail: String(info.response ?? '250') };
    } catch (error) {
      return classifySmtpError(error);
    }
  }

  close(): void {
    this.transport.close();
  }
}
