/**
 * The codes Relay's rows carry, each a string-literal union defined once: the compiler checks them
 * in the table types (src/db/tables/), the labels the pages show and the metrics' label values, and
 * a CHECK constraint in the database refuses any other value (migration
 * 20261206140000_code_checks copies these lists as they were then; a new code needs a migration
 * that widens its constraint).
 */

/** How a delivery travels; each has one file in src/delivery/channels/ and one entry in the registry. */
export const CHANNELS = ['email', 'webhook', 'mesh'] as const;
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

/** Where a delivery is; the transitions between them are in src/records/delivery.states.ts. */
export const DELIVERY_STATES = [
  'queued',
  'sending',
  'retrying',
  'sent',
  'acknowledged',
  'failed',
  'bounced',
  'cancelled',
] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** How a channel classifies the answer to one attempt. */
export const ATTEMPT_OUTCOMES = ['sent', 'temporary', 'permanent'] as const;
export type AttemptKind = (typeof ATTEMPT_OUTCOMES)[number];

/** Why an escalation was opened: reasons tied to a referral... */
export const REFERRAL_REASONS = [
  'not-sent',
  'failed',
  'bounced',
  'not-acknowledged',
  'triage-overdue',
] as const;
/** ...then system-wide ones that concern a team or the service. */
export const SYSTEM_REASONS = [
  'volume-drop',
  'destination-silent',
  'test-alert-unacknowledged',
  'manifest-disputed',
  'missing-referral',
  'rota-gap',
  'clock-skew',
  'directory-stale',
] as const;
export type SystemReason = (typeof SYSTEM_REASONS)[number];
export type EscalationReason = (typeof REFERRAL_REASONS)[number] | SystemReason;
