import { DELIVERY_STATES, type DeliveryState } from '../db/codes.ts';
import { REFERRAL_STATUSES } from '../records/referral.status.ts';

/*
 * Open and finished work, as the safeguarding dashboard and /metrics count it. Open work is counted
 * exactly, however old; finished work is the bulk of ten years of rows, so it is only ever counted
 * over a recent period, never across whole tables.
 */

/** A referral in these needs nothing more from the safeguarding team; every other status does. */
export const FINISHED_REFERRAL_STATUSES: readonly string[] = ['acknowledged', 'closed'];
export const OPEN_REFERRAL_STATUSES = REFERRAL_STATUSES.filter(
  (s) => !FINISHED_REFERRAL_STATUSES.includes(s),
);
/**
 * A delivery in these has been acknowledged by its team or was called off. "Sent" is not among them:
 * sent is not received, so a sent copy stays open work until its team acknowledges.
 */
export const FINISHED_DELIVERY_STATES: readonly DeliveryState[] = ['acknowledged', 'cancelled'];
/**
 * Every other state is open work while its referral is open. Once the referral is acknowledged or
 * closed, a copy left sent, failed or bounced needs nobody, so it is counted as superseded instead
 * of staying open for ever.
 */
export const OPEN_DELIVERY_STATES = DELIVERY_STATES.filter((s) => !FINISHED_DELIVERY_STATES.includes(s));
/**
 * Not yet sent, or failed or bounced: what /metrics counts, by state and channel, however old; a
 * failed or bounced copy only while its referral is open (or it is a test alert, with none).
 */
export const UNSENT_DELIVERY_STATES = OPEN_DELIVERY_STATES.filter((s) => s !== 'sent');
/** The dashboard's name for copies left sent, failed or bounced when their referral was finished. */
export const SUPERSEDED = 'superseded';
