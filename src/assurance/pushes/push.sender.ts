import type { Selectable } from 'kysely';
import type { RelayContext } from '../../context.ts';
import type { EmailSender } from '../../delivery/channels/channel.ts';
import type { AttemptOutcome } from '../../delivery/retry.policy.ts';
import { toError } from '../../errors.ts';
import { appendAudit } from '../../records/audit.ts';
import { MINUTE, SECOND } from '../../time.ts';
import { findEscalationItem } from '../escalation.queries.ts';
import { senderAddress } from '../jobs/direct-mail.ts';
import { composePushEmail, pagerBody, pagerSignature, pushFacts, type PushFacts } from './push.message.ts';
import type { EscalationPushTable } from '../../db/tables/push.table.ts';

type PushRow = Selectable<EscalationPushTable>;

/** Pushes tried per sweep: a stuck gateway must not hold up the deadline checks for long. */
const PER_SWEEP = 20;
export const MAX_PUSH_ATTEMPTS = 8;
const FIRST_RETRY_MS = 30 * SECOND;
const LONGEST_WAIT_MS = 15 * MINUTE;

/** 30 s, 1 m, 2 m, … up to 15 m between attempts. */
export function retryDelayMs(attempts: number): number {
  return Math.min(LONGEST_WAIT_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
}

export interface SendReport {
  sent: number;
  failed: number;
  retrying: number;
}

/**
 * Sends the pushes that are due. A push the person can no longer act on (the escalation was claimed
 * or resolved while it waited to retry) is cancelled; one that fails is retried with back-off and,
 * once its attempts are spent, stays `failed`: shown on the escalation page and counted in
 * relay_escalation_pushes_undelivered. Without a mailer email pushes wait, visibly, as queued.
 */
export async function sendDuePushes(
  ctx: RelayContext,
  mailer: EmailSender | undefined,
  now: Date,
): Promise<SendReport> {
  const report: SendReport = { sent: 0, failed: 0, retrying: 0 };
  let due = ctx.db.kysely
    .selectFrom('escalation_pushes')
    .selectAll()
    .where('state', '=', 'queued')
    .where('next_attempt_at', '<=', now.toISOString());
  if (!mailer) due = due.where('channel', '!=', 'email');
  const rows = await due.orderBy('next_attempt_at').orderBy('id').limit(PER_SWEEP).execute();
  for (const row of rows) {
    const outcome = await attempt(ctx, mailer, row);
    const state = await record(ctx, row, outcome);
    if (state === 'sent') report.sent += 1;
    else if (state === 'failed') report.failed += 1;
    else if (state === 'queued') report.retrying += 1;
  }
  return report;
}

async function attempt(
  ctx: RelayContext,
  mailer: EmailSender | undefined,
  row: PushRow,
): Promise<AttemptOutcome | 'cancel'> {
  try {
    const item = await findEscalationItem(ctx, row.escalation_id);
    // A first attempt always goes: claiming in the same minute it opened is not a reason to tell nobody.
    if (row.attempts > 0 && item.state !== 'open') return 'cancel';
    const facts = pushFacts(item, ctx.config.baseUrl, row.rung, row.cause);
    if (row.channel === 'pager') return await page(ctx, facts, row);
    if (!mailer) return { kind: 'temporary', detail: 'no mailer on this node' };
    const composed = composePushEmail(facts);
    return await mailer.send({
      ...composed,
      from: ctx.config.mailFrom,
      envelopeFrom: senderAddress(ctx.config.mailFrom),
      to: row.recipient,
      // Stable per push, so a retried send is recognisably the same message.
      messageId: `<push.${row.id}@${ctx.config.bounceDomain}>`,
      headers: { 'X-Relay-Escalation': row.escalation_id },
    });
  } catch (error) {
    return { kind: 'temporary', detail: toError(error).message };
  }
}

/** POSTs the page, signed; 2xx is sent, 4xx (but 408 and 429) will never work, the rest may later. */
async function page(ctx: RelayContext, facts: PushFacts, row: PushRow): Promise<AttemptOutcome> {
  const { pagerWebhookUrl: url, pagerWebhookSecret: secret } = ctx.config.escalation;
  if (!url || !secret) return { kind: 'permanent', detail: 'PAGER_WEBHOOK_URL is no longer set' };
  const body = pagerBody(facts, row.recipient, row.id);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-relay-signature': pagerSignature(body, secret) },
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(ctx.config.delivery.timeoutMs),
  });
  await response.body?.cancel();
  const detail = `HTTP ${response.status}`;
  if (response.ok) return { kind: 'sent', detail };
  if (response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status))
    return { kind: 'permanent', detail };
  return { kind: 'temporary', detail };
}

type PushState = PushRow['state'];

async function record(
  ctx: RelayContext,
  row: PushRow,
  outcome: AttemptOutcome | 'cancel',
): Promise<PushState> {
  // The clock is read again: a slow SMTP server or gateway must not make the record look older.
  const now = ctx.clock.now();
  const at = now.toISOString();
  const attempts = row.attempts + 1;
  let state: PushState;
  let error: string | null = null;
  if (outcome === 'cancel') {
    state = 'cancelled';
  } else if (outcome.kind === 'sent') {
    state = 'sent';
  } else {
    error = outcome.detail.slice(0, 300);
    state = outcome.kind === 'permanent' || attempts >= MAX_PUSH_ATTEMPTS ? 'failed' : 'queued';
  }
  await ctx.db.kysely.transaction().execute(async (trx) => {
    await trx
      .updateTable('escalation_pushes')
      .set({
        state,
        attempts,
        last_error: error,
        updated_at: at,
        next_attempt_at: new Date(now.getTime() + retryDelayMs(attempts)).toISOString(),
        sent_at: state === 'sent' ? at : null,
      })
      .where('id', '=', row.id)
      .where('attempts', '=', row.attempts)
      .execute();
    if (state === 'queued') return;
    await appendAudit(trx, now, {
      actor: 'watchdog',
      action: `escalation.push-${state}`,
      entityType: 'escalation',
      entityId: row.escalation_id,
      detail: {
        push: row.id,
        rung: row.rung,
        channel: row.channel,
        recipient: row.recipient,
        attempts,
        error,
      },
    });
  });
  return state;
}
