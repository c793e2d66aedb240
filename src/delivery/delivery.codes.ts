/**
 * The codes a delivery row carries, each defined once: the compiler checks them in the table types
 * and the labels, and a CHECK constraint in the database refuses any other value (the migration
 * 20261206140000_delivery_codes copies these lists as they were then).
 */

/** How a delivery travels; each has one file in src/delivery/channels/ and one entry in the registry. */
export const CHANNELS = ['email', 'webhook'] as const;
export type Channel = (typeof CHANNELS)[number];

/** What a delivery is for: the referral itself, the watchdog's reminder and alerts, or a test alert. */
export const PURPOSES = [
  'referral',
  'reminder',
  'alert-secondary',
  'alert-out-of-hours',
  'test-alert',
] as const;
export type Purpose = (typeof PURPOSES)[number];

/** The watchdog's reminder and deadline alerts: they repeat a referral already sent to the team. */
export type FollowUpKind = Extract<Purpose, 'reminder' | 'alert-secondary' | 'alert-out-of-hours'>;
/** Everything queued after intake: follow-ups and test alerts. */
export type FollowUpPurpose = Exclude<Purpose, 'referral'>;

/** How a channel classifies the answer to one attempt. */
export const ATTEMPT_OUTCOMES = ['sent', 'temporary', 'permanent'] as const;
export type AttemptKind = (typeof ATTEMPT_OUTCOMES)[number];
