import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { RelayContext } from '../../context.ts';
import type { Database } from '../../db/schema.ts';
import { appendAudit } from '../../records/audit.ts';

export const PUSH_CAUSES = ['opened', 'reopened', 'ladder', 'claim-lapsed'] as const;
export type PushCause = (typeof PUSH_CAUSES)[number];

export interface RungPush {
  escalationId: string;
  rung: number;
  recipient: string;
  cause: PushCause;
}

/**
 * Queues one rung's pushes: an email to the person, and a page through PAGER_WEBHOOK_URL when one is
 * set. Written in the caller's transaction with the escalation's new rung, so a rung is never
 * recorded without its pushes; each push is audited with who it went to and why.
 */
export async function queueRungPushes(
  trx: Kysely<Database>,
  ctx: RelayContext,
  push: RungPush,
  now: Date,
): Promise<void> {
  const at = now.toISOString();
  const channels = ctx.config.escalation.pagerWebhookUrl
    ? (['email', 'pager'] as const)
    : (['email'] as const);
  for (const channel of channels) {
    const id = randomUUID();
    await trx
      .insertInto('escalation_pushes')
      .values({
        id,
        escalation_id: push.escalationId,
        rung: push.rung,
        cause: push.cause,
        channel,
        recipient: push.recipient,
        state: 'queued',
        attempts: 0,
        next_attempt_at: at,
        last_error: null,
        created_at: at,
        updated_at: at,
        sent_at: null,
      })
      .execute();
    await appendAudit(trx, now, {
      actor: 'watchdog',
      action: 'escalation.pushed',
      entityType: 'escalation',
      entityId: push.escalationId,
      detail: { push: id, rung: push.rung, channel, recipient: push.recipient, cause: push.cause },
    });
  }
}

/**
 * Who rung `rung` is: 0 is the person on call (or SAFEGUARDING_EMAIL), n the n-th address of
 * ESCALATION_LADDER.
 */
export function ladderAddress(ctx: RelayContext, rung: number): string | undefined {
  return rung >= 1 ? ctx.config.escalation.ladder[rung - 1] : undefined;
}
