import type { RelayContext } from '../../context.ts';
import { IllegalTransitionError } from '../../records/delivery.states.ts';
import { transitionDelivery } from '../../records/delivery.transitions.ts';
import { findDelivery } from '../outbox.repository.ts';
import type { Dsn } from './dsn.parser.ts';

export type BounceOutcome = 'bounced' | 'ignored-unknown' | 'ignored-not-failed' | 'ignored-state';

export const BOUNCE_ACTOR = 'bounce-listener';
const MAX_ERROR_LENGTH = 500;

/**
 * Marks the delivery a DSN names `bounced`, keeping the diagnostic. Only a `failed` report counts:
 * a `delayed` one means the remote MTA is still trying, so nothing is known yet. Anything that cannot
 * be applied (no such email delivery, or one that is not `sent`) is reported, never thrown, because
 * the reporting MTA can do nothing about it.
 */
export async function applyBounce(ctx: RelayContext, dsn: Dsn): Promise<BounceOutcome> {
  if (dsn.action !== 'failed') return 'ignored-not-failed';
  const deliveryId = dsn.deliveryId;
  if (deliveryId === undefined) return 'ignored-unknown';
  return ctx.db.kysely.transaction().execute(async (trx): Promise<BounceOutcome> => {
    const delivery = await findDelivery(trx, deliveryId);
    // Only email is sent with a bounce address; a DSN naming anything else is not ours.
    if (!delivery || delivery.channel !== 'email') return 'ignored-unknown';
    // Acknowledged means a person has it, whatever a server says later; a delivery not yet handed
    // over (queued, sending, retrying) will learn its fate from its own SMTP reply.
    if (delivery.state !== 'sent') return 'ignored-state';
    try {
      const result = await transitionDelivery(trx, {
        deliveryId,
        to: 'bounced',
        now: ctx.clock.now(),
        actor: BOUNCE_ACTOR,
        set: { last_error: bounceError(dsn) },
        // The remote MTA and status only: the recipient's address stays on the delivery row.
        detail: withoutUndefined({ status: dsn.status, remoteMta: dsn.remoteMta }),
      });
      return result === 'done' ? 'bounced' : 'ignored-state';
    } catch (error) {
      if (error instanceof IllegalTransitionError) return 'ignored-state';
      throw error;
    }
  });
}

/** `bounced: 5.1.1 smtp; 550 5.1.1 …`, cut to fit the column. */
export function bounceError(dsn: Dsn): string {
  return ['bounced:', dsn.status, dsn.diagnostic]
    .filter((part) => part !== undefined && part !== '')
    .join(' ')
    .slice(0, MAX_ERROR_LENGTH);
}

function withoutUndefined(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
