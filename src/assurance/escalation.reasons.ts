/**
 * Why an escalation was opened: reasons tied to a referral, then system-wide ones that concern a
 * team or the service. Defined once: the escalations table, the labels the pages show and the
 * metrics' label values all take their type from here, and a CHECK constraint in the database
 * refuses any other (migration 20261206140000_delivery_codes lists them as they were then).
 */
export const REFERRAL_REASONS = [
  'not-sent',
  'failed',
  'bounced',
  'not-acknowledged',
  'triage-overdue',
] as const;
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
