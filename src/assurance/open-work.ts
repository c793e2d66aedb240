import { DELIVERY_STATES, type DeliveryState } from '../delivery/delivery.states.ts';
import { REFERRAL_STATUSES } from '../referrals/referral.status.ts';

/*
 * Open and finished work, as the safeguarding dashboard and /metrics count it. Open work is counted
 * exactly, however old; finished work is the bulk of ten years of rows, so it is only ever counted
 * over a recent period, never across whole tables.
 */

/** A referral in these needs nothing more from the safeguarding team; every other status does. */
export const FINISHED_REFERRAL_STATUSES: readonly string[] = ['acknowledged', 'closed'];
/** A delivery in these has reached its team or was called off; failed and bounced still need a person. */
export const FINISHED_DELIVERY_STATES: readonly DeliveryState[] = ['sent', 'acknowledged', 'cancelled'];
export const OPEN_REFERRAL_STATUSES = REFERRAL_STATUSES.filter(
  (s) => !FINISHED_REFERRAL_STATUSES.includes(s),
);
export const OPEN_DELIVERY_STATES = DELIVERY_STATES.filter((s) => !FINISHED_DELIVERY_STATES.includes(s));
