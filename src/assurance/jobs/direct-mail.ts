import type { RelayContext } from '../../context.ts';
import type { ComposedEmail } from '../../delivery/messages/referral.email.ts';
import type { EmailSender } from '../../delivery/channels/channel.ts';
import { toError } from '../../errors.ts';
import { claimRun, fail, finish } from './schedule.ts';

/** The bare address inside MAIL_FROM (`Name <addr>` or `addr`). */
export function senderAddress(mailFrom: string): string {
  return /<([^>]+)>/.exec(mailFrom)?.[1] ?? mailFrom.trim();
}

export interface DirectMail {
  job: string;
  period: string;
  to: string;
  /**
   * Builds the email once the claim is held, so nodes that lose the claim do no queries for it.
   * The detail is recorded in scheduled_runs: counts only, never personal data.
   */
  build: () => Promise<{ composed: ComposedEmail; detail: Record<string, unknown> }>;
}

export type MailResult = 'sent' | 'failed' | 'not-claimed';

/**
 * Sends a report email once per (job, period) across nodes. These reports are about the service, not
 * a referral, so they go straight through the SMTP channel rather than the per-team outbox; the
 * scheduled_runs row is their record and retry state. Bounces go to MAIL_FROM's own mailbox, where
 * a person sees them, because no delivery row exists for the bounce listener to mark.
 */
export async function sendOnce(
  ctx: RelayContext,
  mailer: EmailSender,
  mail: DirectMail,
): Promise<MailResult> {
  const db = ctx.db.kysely;
  const attempt = await claimRun(db, mail.job, mail.period, ctx.clock.now());
  if (attempt === undefined) return 'not-claimed';
  try {
    const { composed, detail } = await mail.build();
    const outcome = await mailer.send({
      ...composed,
      from: ctx.config.mailFrom,
      envelopeFrom: senderAddress(ctx.config.mailFrom),
      to: mail.to,
      // Stable per job and period, so a retried send is recognisably the same message.
      messageId: `<${mail.job.replace(/[^A-Za-z0-9.-]/g, '.')}.${mail.period}@${ctx.config.bounceDomain}>`,
      headers: { 'X-Relay-Report': mail.job },
    });
    if (outcome.kind === 'sent') {
      await finish(db, mail.job, mail.period, { ...detail, attempts: attempt });
      return 'sent';
    }
    await fail(db, mail.job, mail.period, attempt, outcome.detail);
  } catch (error) {
    await fail(db, mail.job, mail.period, attempt, toError(error).message);
  }
  return 'failed';
}
