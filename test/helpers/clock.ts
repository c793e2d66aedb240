import { fileURLToPath, pathToFileURL } from 'node:url';

const PRELOAD = pathToFileURL(fileURLToPath(new URL('./fake-clock.mjs', import.meta.url))).href;

/** NODE_OPTIONS that load the fake clock, keeping whatever options the caller already had. */
function withPreload(options = process.env.NODE_OPTIONS ?? ''): string {
  return options.includes(PRELOAD) ? options : `${options} --import=${PRELOAD}`.trim();
}

/**
 * What a child process needs to share this process's faked wall clock (nothing when it is real):
 * test helpers that start `relay` with a clean environment pass this on.
 */
export function inheritedClockEnv(): Record<string, string> {
  const fake = process.env.RELAY_FAKE_NOW;
  return fake ? { RELAY_FAKE_NOW: fake, NODE_OPTIONS: withPreload(), ...NO_SKEW_CHECK } : {};
}

/**
 * A faked clock is far from the database server's on purpose, so a child on one does not compare
 * the two (MAX_CLOCK_SKEW=off); a test of the skew check sets it itself.
 */
const NO_SKEW_CHECK = { MAX_CLOCK_SKEW: 'off' };

/** Real epoch milliseconds, even when this process's `Date` is faked. */
export function realNow(): number {
  const real = (globalThis as Record<symbol, unknown>)[Symbol.for('relay.realNow')];
  return typeof real === 'function' ? (real as () => number)() : Date.now();
}

export interface PinnedClock {
  /** The environment that starts a child `relay` whose wall clock reads `at` now and runs on. */
  env: Record<string, string>;
  /** The child's current time, for what a test types or sends to it. */
  now(): Date;
}

/**
 * A wall clock for child processes that starts at `at` whatever the real time is, so a test whose
 * outcome depends on opening hours or bank holidays runs the same at any hour.
 */
export function pinnedClock(at: string): PinnedClock {
  const start = Date.parse(at);
  if (Number.isNaN(start)) throw new Error(`not an instant: ${at}`);
  const since = realNow();
  return {
    env: {
      RELAY_FAKE_NOW: `${new Date(start).toISOString()}@${since}`,
      NODE_OPTIONS: withPreload(),
      ...NO_SKEW_CHECK,
    },
    now: () => new Date(start + realNow() - since),
  };
}
