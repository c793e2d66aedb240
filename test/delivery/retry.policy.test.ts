import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decide, DEFAULT_BACKOFF, nextAttemptAt, type RetryPolicy } from '../../src/delivery/retry.policy.ts';
import { HOUR, MINUTE, SECOND } from '../../src/time.ts';

const created = new Date('2026-11-25T11:00:00Z');
const policy: RetryPolicy = { baseDelayMs: 30 * SECOND, maxDelayMs: 30 * MINUTE, windowMs: 24 * HOUR };
const at = (msAfterCreation: number) => new Date(created.getTime() + msAfterCreation);
/** The wait the policy chose, in ms from `now`, or null. */
function wait(attempts: number, now: Date, random: number, retryAfterMs?: number, p = policy): number | null {
  const next = nextAttemptAt(attempts, now, created, p, () => random, retryAfterMs);
  return next && next.getTime() - now.getTime();
}
const ALMOST_ONE = 1 - 2 ** -40;

describe('nextAttemptAt', () => {
  it('defaults to a 30 s base and a 30 min cap', () => {
    assert.deepEqual(DEFAULT_BACKOFF, { baseDelayMs: 30 * SECOND, maxDelayMs: 30 * MINUTE });
  });

  it('doubles the wait with every attempt, jitter pinned in the middle', () => {
    const waits = [1, 2, 3, 4, 5, 6].map((n) => wait(n, created, 0.5));
    assert.deepEqual(waits, [22_500, 45_000, 90_000, 180_000, 360_000, 720_000]);
  });

  it('waits half the step when random gives 0 and the whole step when it gives almost 1', () => {
    for (const [n, step] of [
      [1, 30_000],
      [2, 60_000],
      [3, 120_000],
      [6, 960_000],
    ] as const) {
      assert.equal(wait(n, created, 0), step / 2, `attempt ${n}, random 0`);
      assert.equal(wait(n, created, ALMOST_ONE), step, `attempt ${n}, random ~1`);
    }
  });

  it('treats a delivery not yet attempted like its first attempt', () => {
    assert.equal(wait(0, created, 0), 15_000);
    assert.equal(wait(0, created, ALMOST_ONE), 30_000);
  });

  it('caps the step at maxDelay however many attempts went before', () => {
    for (const n of [7, 8, 12, 40, 1100]) {
      assert.equal(wait(n, created, ALMOST_ONE), 30 * MINUTE, `attempt ${n}`);
      assert.equal(wait(n, created, 0), 15 * MINUTE, `attempt ${n}`);
    }
  });

  it("honours a server's Retry-After when it is longer than the back-off, and only then", () => {
    assert.equal(wait(1, created, 0.5, 120 * SECOND), 120_000);
    assert.equal(wait(1, created, 0.5, 10 * SECOND), 22_500, 'a shorter Retry-After does not hurry us');
    assert.equal(wait(9, created, ALMOST_ONE, 2 * HOUR), 2 * HOUR, 'beyond the cap too');
    assert.equal(wait(1, created, 0.5, 0), 22_500);
  });

  it('counts from now, not from the creation of the delivery', () => {
    assert.equal(
      nextAttemptAt(2, at(HOUR), created, policy, () => 0.5)?.toISOString(),
      '2026-11-25T12:00:45.000Z',
    );
  });

  it('gives up (null) once the next attempt would fall after the retry window', () => {
    const window = policy.windowMs;
    assert.equal(wait(1, at(window - 22_500), 0.5), 22_500, 'landing exactly on the edge is still allowed');
    assert.equal(wait(1, at(window - 22_499), 0.5), null);
    assert.equal(wait(1, at(window), 0), null);
    assert.equal(wait(1, at(window + HOUR), 0), null, 'already past the window');
    assert.equal(wait(1, at(window - HOUR), 0.5, 2 * HOUR), null, 'a Retry-After past the window');
  });
});

describe('decide', () => {
  const now = at(10 * MINUTE);
  it('marks a delivered attempt sent', () => {
    assert.deepEqual(decide({ kind: 'sent', detail: '250 OK' }, 1, now, created, policy), { state: 'sent' });
  });

  it('fails a permanent error at once, whatever the window holds', () => {
    for (const attempts of [1, 5]) {
      assert.deepEqual(
        decide({ kind: 'permanent', detail: '550 no such user' }, attempts, now, created, policy),
        {
          state: 'failed',
          reason: 'permanent error',
        },
      );
    }
  });

  it('retries a temporary error at the back-off time', () => {
    assert.deepEqual(
      decide({ kind: 'temporary', detail: '451' }, 3, now, created, policy, () => 0.5),
      {
        state: 'retrying',
        nextAttemptAt: new Date(now.getTime() + 90_000),
      },
    );
  });

  it("retries at the server's Retry-After when that is longer", () => {
    const outcome = { kind: 'temporary' as const, detail: 'HTTP 429', retryAfterMs: 120_000 };
    assert.deepEqual(
      decide(outcome, 1, now, created, policy, () => 0.5),
      {
        state: 'retrying',
        nextAttemptAt: new Date(now.getTime() + 120_000),
      },
    );
  });

  it('fails a temporary error once the retry window is spent', () => {
    const late = at(policy.windowMs - SECOND);
    assert.deepEqual(
      decide({ kind: 'temporary', detail: '421' }, 12, late, created, policy, () => 0),
      {
        state: 'failed',
        reason: 'retry window spent',
      },
    );
  });
});

describe('back-off properties', () => {
  const scenario = fc.record({
    attempts: fc.integer({ min: 0, max: 60 }),
    baseDelayMs: fc.integer({ min: 1, max: 10 * MINUTE }),
    extraMax: fc.integer({ min: 0, max: 2 * HOUR }),
    windowMs: fc.integer({ min: 1, max: 48 * HOUR }),
    elapsed: fc.integer({ min: 0, max: 50 * HOUR }),
    random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    retryAfterMs: fc.option(fc.integer({ min: 0, max: 30 * HOUR }), { nil: undefined }),
  });

  it('waits between half the capped step and the longer of the step and Retry-After, within the window', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const p = {
          baseDelayMs: s.baseDelayMs,
          maxDelayMs: s.baseDelayMs + s.extraMax,
          windowMs: s.windowMs,
        };
        const now = at(s.elapsed);
        const step = Math.min(p.maxDelayMs, s.baseDelayMs * 2 ** Math.max(0, s.attempts - 1));
        const lowest = Math.max(Math.floor(step / 2), s.retryAfterMs ?? 0);
        const highest = Math.max(step, s.retryAfterMs ?? 0);
        const next = nextAttemptAt(s.attempts, now, created, p, () => s.random, s.retryAfterMs);
        const deadline = created.getTime() + p.windowMs;
        if (next === null) {
          // Giving up is right only when even the longest possible wait would overrun the window.
          assert.ok(now.getTime() + highest > deadline);
          return;
        }
        const delay = next.getTime() - now.getTime();
        assert.ok(delay >= lowest && delay <= highest, `delay ${delay} outside [${lowest}, ${highest}]`);
        assert.ok(delay <= Math.max(p.maxDelayMs, s.retryAfterMs ?? 0));
        assert.ok(next.getTime() <= deadline, 'never past the retry window');
        assert.ok(delay > 0, 'always some wait');
      }),
      { numRuns: 2000 },
    );
  });

  it('decides retrying exactly when nextAttemptAt has a time, and never retries a permanent error', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const p = {
          baseDelayMs: s.baseDelayMs,
          maxDelayMs: s.baseDelayMs + s.extraMax,
          windowMs: s.windowMs,
        };
        const now = at(s.elapsed);
        const random = () => s.random;
        const next = nextAttemptAt(s.attempts, now, created, p, random, s.retryAfterMs);
        const outcome = { kind: 'temporary' as const, detail: 'x', retryAfterMs: s.retryAfterMs };
        assert.deepEqual(
          decide(outcome, s.attempts, now, created, p, random),
          next
            ? { state: 'retrying', nextAttemptAt: next }
            : { state: 'failed', reason: 'retry window spent' },
        );
        assert.equal(
          decide({ kind: 'permanent', detail: 'x' }, s.attempts, now, created, p, random).state,
          'failed',
        );
      }),
    );
  });
});
