import type { Config } from '../config.ts';

/** What the age of a heartbeat or a completed sweep says. */
export type AgeVerdict = 'fresh' | 'never' | 'too-old' | 'in-the-future';

/** The default MAX_CLOCK_SKEW, also how far apart nodes' clocks may be when the check is off. */
const DEFAULT_TOLERANCE_MS = 30_000;

/**
 * How far in the future a time written by another node may be and still count as now: nodes'
 * clocks differ a little. Beyond it, a clock was moved back (or runs ahead), which is a fault.
 */
export function skewToleranceMs(config: Pick<Config, 'liveness'>): number {
  return config.liveness.maxClockSkewMs ?? DEFAULT_TOLERANCE_MS;
}

/**
 * Fresh means within `limitMs`. A negative age (the time is ahead of the clock reading it, as after
 * a clock was set back) reads as fresh for ever if taken at face value, so beyond the tolerance it
 * is a fault.
 */
export function judgeAge(ageMs: number | null, limitMs: number, toleranceMs: number): AgeVerdict {
  if (ageMs === null) return 'never';
  if (ageMs < -toleranceMs) return 'in-the-future';
  return ageMs > limitMs ? 'too-old' : 'fresh';
}

/** One plain sentence for a verdict, e.g. "the last completed sweep was 62 s ago". */
export function ageReason(verdict: AgeVerdict, noun: string, ageMs: number | null): string {
  const seconds = Math.round(Math.abs(ageMs ?? 0) / 1000);
  switch (verdict) {
    case 'never':
      return `no ${noun} has been recorded`;
    case 'in-the-future':
      return `the last ${noun} is ${seconds} s in the future: a clock was moved back`;
    case 'too-old':
      return `the last ${noun} was ${seconds} s ago (more than three watchdog intervals)`;
    default:
      return `the last ${noun} was ${seconds} s ago`;
  }
}
