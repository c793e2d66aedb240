import type { DeliveryState } from '../db/codes.ts';
import { DELIVERY_STATES } from '../db/codes.ts';

/**
 * The delivery state machine (docs/architecture.md, Delivery states), in one place. A `sending` delivery whose lease ran out is
 * claimed again (sending → sending) by another worker: at-least-once, never stuck.
 * Acknowledgement can come by phone or another channel before this one was sent, so any live state
 * may become `acknowledged`; `cancelled` only comes from a redirect.
 */
const ALLOWED: Record<DeliveryState, readonly DeliveryState[]> = {
  queued: ['sending', 'acknowledged', 'cancelled'],
  sending: ['sending', 'sent', 'retrying', 'failed', 'acknowledged', 'cancelled'],
  retrying: ['sending', 'failed', 'acknowledged', 'cancelled'],
  sent: ['acknowledged', 'bounced', 'cancelled'],
  acknowledged: [],
  failed: ['acknowledged'],
  bounced: ['acknowledged'],
  cancelled: [],
};

export function canTransition(from: DeliveryState, to: DeliveryState): boolean {
  return ALLOWED[from].includes(to);
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: string,
    readonly to: string,
  ) {
    super(`A delivery cannot go from ${from} to ${to}`);
  }
}

export function assertTransition(from: string, to: DeliveryState): void {
  if (!(DELIVERY_STATES as readonly string[]).includes(from) || !canTransition(from as DeliveryState, to)) {
    throw new IllegalTransitionError(from, to);
  }
}

/** States from which a delivery still has to reach its team. */
export const UNFINISHED_STATES: readonly DeliveryState[] = ['queued', 'sending', 'retrying'];
