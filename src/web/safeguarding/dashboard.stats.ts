import { addDays, londonLocal } from '../../directory/hours.ts';
import type { DashboardFacts } from './dashboard.queries.ts';

/**
 * Nearest-rank percentile of ascending values: always one of the observed values, so "90th
 * percentile: 3 h" is a time some team actually took.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export interface AuthorityAckStats {
  authorityId: string;
  routes: number;
  acknowledged: number;
  /** Still unacknowledged, deadline not yet reached. */
  waiting: number;
  medianMs: number | undefined;
  p90Ms: number | undefined;
  /** Acknowledged after ack_by, or still unacknowledged past it. */
  breaches: number;
}

/** Time from a team being sent the referral (its route) to that team acknowledging it. */
export function ackStatsByAuthority(routes: DashboardFacts['routes'], now: Date): AuthorityAckStats[] {
  // Appended in place: a month of a large region is thousands of routes, mostly for a few authorities.
  const byAuthority = new Map<string, DashboardFacts['routes']>();
  for (const r of routes) {
    const rows = byAuthority.get(r.authorityId);
    if (rows) rows.push(r);
    else byAuthority.set(r.authorityId, [r]);
  }
  const at = now.toISOString();
  return [...byAuthority].map(([authorityId, rows]) => {
    // One pass and a typed-array sort: this runs over every route of the month on each page view.
    const durations: number[] = [];
    let breaches = 0;
    let waiting = 0;
    for (const r of rows) {
      if (r.acknowledgedAt) durations.push(Date.parse(r.acknowledgedAt) - Date.parse(r.createdAt));
      if ((r.acknowledgedAt ?? at) > r.ackBy) breaches += 1;
      else if (!r.acknowledgedAt) waiting += 1;
    }
    const sorted = Float64Array.from(durations).sort();
    return {
      authorityId,
      routes: rows.length,
      acknowledged: sorted.length,
      waiting,
      medianMs: percentile(sorted, 50),
      p90Ms: percentile(sorted, 90),
      breaches,
    };
  });
}

export interface DayCount {
  /** London date, YYYY-MM-DD. */
  date: string;
  count: number;
}

/** The London date of the first of the `days` days up to and including today. */
export function firstDayOf(now: Date, days: number): string {
  return addDays(londonLocal(now).date, 1 - days);
}

/**
 * Referrals per London day for the `days` days up to and including today, oldest first, zeros kept,
 * from counts per UTC hour. London is UTC or UTC+1, so only an hour starting at 23:00 UTC can fall
 * on the next London day: one time-zone conversion a day, not one a referral.
 */
export function dailyVolume(
  receivedByHour: DashboardFacts['receivedByHour'],
  now: Date,
  days: number,
): DayCount[] {
  const first = firstDayOf(now, days);
  const dates = Array.from({ length: days }, (_, i) => addDays(first, i));
  const counts = new Map(dates.map((d) => [d, 0]));
  for (const { hour, count } of receivedByHour) {
    const date = hour.endsWith('T23') ? londonLocal(new Date(`${hour}:00:00.000Z`)).date : hour.slice(0, 10);
    const n = counts.get(date);
    if (n !== undefined) counts.set(date, n + count);
  }
  return dates.map((date) => ({ date, count: counts.get(date) ?? 0 }));
}

const DAY_LABEL = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  weekday: 'short',
  day: 'numeric',
  month: 'short',
});

/** "Wed 25 Nov" for a London date string (already local, so formatted as UTC). */
export function formatDay(date: string): string {
  return DAY_LABEL.format(new Date(`${date}T12:00:00Z`));
}
