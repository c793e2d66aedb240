import { MINUTE, SECOND } from '../time.ts';

/** What a channel reports about one attempt. */
export type AttemptOutcome =
  /** providerMessageId: the id the provider gave the message (MESH), kept on the delivery for tracking. */
  | { kind: 'sent'; detail: string; providerMessageId?: string }
  | { kind: 'temporary'; detail: string; retryAfterMs?: number }
  | { kind: 'permanent'; detail: string };

export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  windowMs: number;
}

export const DEFAULT_BACKOFF = { baseDelayMs: 30 * SECOND, maxDelayMs: 30 * MINUTE };

/**
 * Exponential back-off with jitter: the nth retry waits between half and all of base·2^(n-1),
 * capped, so a storm of 421s from one server does not come back in lockstep. A server's
 * Retry-After is honoured when longer. Returns null once the retry window (from the delivery's
 * creation) would be spent: the delivery then fails rather than waiting forever.
 */
export function nextAttemptAt(
  attempts: number,
  now: Date,
  createdAt: Date,
  policy: RetryPolicy,
  random: () => number = Math.random,
  retryAfterMs?: number,
): Date | null {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  const jittered = Math.round(exponential * (0.5 + random() / 2));
  const delay = Math.max(jittered, retryAfterMs ?? 0);
  const next = new Date(now.getTime() + delay);
  if (next.getTime() > createdAt.getTime() + policy.windowMs) return null;
  return next;
}

/** The outcome's consequence for the delivery. */
export function decide(
  outcome: AttemptOutcome,
  attempts: number,
  now: Date,
  createdAt: Date,
  policy: RetryPolicy,
  random?: () => number,
): { state: 'sent' } | { state: 'retrying'; nextAttemptAt: Date } | { state: 'failed'; reason: string } {
  if (outcome.kind === 'sent') return { state: 'sent' };
  if (outcome.kind === 'permanent') return { state: 'failed', reason: 'permanent error' };
  const next = nextAttemptAt(attempts, now, createdAt, policy, random, outcome.retryAfterMs);
  return next
    ? { state: 'retrying', nextAttemptAt: next }
    : { state: 'failed', reason: 'retry window spent' };
}
