import type { RelayContext } from '../../context.ts';
import type { Channel } from '../../db/codes.ts';
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
  if (dsn.deliveryId === undefined) return 'ignored-unknown';
  // Only email is sent with a bounce address; a DSN naming anything else is not ours.
  return markBounced(ctx, {
    deliveryId: dsn.deliveryId,
    channel: 'email',
    actor: BOUNCE_ACTOR,
    error: bounceError(dsn),
    // The remote MTA and status only: the recipient's address stays on the delivery row.
    detail: withoutUndefined({ status: dsn.status, remoteMta: dsn.remoteMta }),
  });
}

/** A report that a `sent` delivery never reached its recipient, from whichever channel learns it. */
export interface NonDelivery {
  deliveryId: string;
  /** The channel the report is about: a report naming a delivery of another channel is not ours. */
  channel: Channel;
  actor: string;
  /** Kept as the delivery's last error (cut to fit). */
  error: string;
  /** Codes for the timeline and audit log; never personal data. */
  detail: Record<string, string>;
}

/**
 * Marks a `sent` delivery `bounced`, which the watchdog escalates: the one path for an email's DSN
 * and MESH's non-delivery report alike. Acknowledged means a person has it, whatever a server says
 * later; a delivery not yet handed over (queued, sending, retrying) learns its fate from its own
 * attempt. Anything that cannot be applied is reported, never thrown.
 */
export async function markBounced(ctx: RelayContext, report: NonDelivery): Promise<BounceOutcome> {
  const { deliveryId } = report;
  return ctx.db.kysely.transaction().execute(async (trx): Promise<BounceOutcome> => {
    const delivery = await findDelivery(trx, deliveryId);
    if (!delivery || delivery.channel !== report.channel) return 'ignored-unknown';
    if (delivery.state !== 'sent') return 'ignored-state';
    try {
      const result = await transitionDelivery(trx, {
        deliveryId,
        to: 'bounced',
        now: ctx.clock.now(),
        actor: report.actor,
        set: { last_error: report.error.slice(0, MAX_ERROR_LENGTH) },
        detail: report.detail,
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
