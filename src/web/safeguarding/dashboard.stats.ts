import { addDays, londonLocal } from '../../directory/hours.ts';
import { HOUR, MINUTE, SECOND } from '../../time.ts';
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

/** One authority's routes of the period as the database aggregates them. */
export interface AuthorityAckRow {
  authorityId: string;
  routes: number;
  breaches: number;
  waiting: number;
  /** "created_at acknowledged_at" of each acknowledged route, comma-separated (in no order); null if none. */
  acknowledged: string | null;
}

/** Time from a team being sent the referral (its route) to that team acknowledging it. */
export function ackStats(row: AuthorityAckRow): AuthorityAckStats {
  const sorted = ackDurations(row.acknowledged);
  return {
    authorityId: row.authorityId,
    routes: row.routes,
    acknowledged: sorted.length,
    waiting: row.waiting,
    medianMs: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    breaches: row.breaches,
  };
}

/** One team's routes of the period as the database aggregates them. */
export interface TeamAckRow extends AuthorityAckRow {
  teamId: string;
}

export type TeamAckStats = Omit<AuthorityAckStats, 'authorityId'> & { teamId: string };

/** An authority's figures with each of its teams' own, so a slow team is not hidden in its area's median. */
export type AreaAckStats = AuthorityAckStats & { teams: TeamAckStats[] };

/**
 * Per-team rows into per-authority figures: counts are summed and the authority's percentiles are
 * ranked over all its teams' durations together (a median of medians would be wrong).
 */
export function ackStatsByTeam(rows: TeamAckRow[]): AreaAckStats[] {
  const byAuthority = new Map<string, TeamAckRow[]>();
  for (const row of rows)
    byAuthority.set(row.authorityId, [...(byAuthority.get(row.authorityId) ?? []), row]);
  return [...byAuthority].map(([authorityId, teams]) => {
    const pairs = teams.map((t) => t.acknowledged).filter((a) => a !== null);
    const sum = (key: 'routes' | 'breaches' | 'waiting') => teams.reduce((n, t) => n + t[key], 0);
    return {
      ...ackStats({
        authorityId,
        routes: sum('routes'),
        breaches: sum('breaches'),
        waiting: sum('waiting'),
        acknowledged: pairs.length > 0 ? pairs.join(',') : null,
      }),
      teams: teams.map(({ teamId, ...team }) => {
        const { authorityId: _authority, ...figures } = ackStats(team);
        return { teamId, ...figures };
      }),
    };
  });
}

/** Milliseconds from creation to acknowledgement of each "created acknowledged" pair, ascending. */
export function ackDurations(pairs: string | null): Float64Array {
  if (!pairs) return new Float64Array(0);
  // Read in place by offsets: splitting the string into thousands of pieces and Date.parse on each
  // were most of the dashboard's time in TypeScript. A typed array for its numeric sort.
  const durations = new Float64Array(countOf(pairs, ',') + 1);
  const days = new Map<number, number>();
  let start = 0;
  for (let i = 0; i < durations.length; i++) {
    const comma = pairs.indexOf(',', start);
    const end = comma < 0 ? pairs.length : comma;
    const space = pairs.indexOf(' ', start);
    durations[i] = millisAt(pairs, space + 1, end, days) - millisAt(pairs, start, space, days);
    start = end + 1;
  }
  return durations.sort();
}

function countOf(text: string, char: string): number {
  let n = 0;
  for (let i = text.indexOf(char); i >= 0; i = text.indexOf(char, i + 1)) n += 1;
  return n;
}

/**
 * Date.parse(text.slice(from, to)) without the slice, and about twice as fast for the form
 * toISOString writes (as every timestamp is stored): midnight is parsed once per date, kept in
 * `days`, and the time of day is arithmetic on its digits, trusted as the application wrote them.
 * Any other form goes to Date.parse.
 */
function millisAt(text: string, from: number, to: number, days: Map<number, number>): number {
  if (!isIsoUtcAt(text, from, to)) return Date.parse(text.slice(from, to));
  const date = digits(text, from, 4) * 10_000 + digits(text, from + 5, 2) * 100 + digits(text, from + 8, 2);
  let midnight = days.get(date);
  if (midnight === undefined) days.set(date, (midnight = Date.parse(text.slice(from, from + 10))));
  const hours = digits(text, from + 11, 2);
  const minutes = digits(text, from + 14, 2);
  const seconds = digits(text, from + 17, 2);
  return midnight + hours * HOUR + minutes * MINUTE + seconds * SECOND + digits(text, from + 20, 3);
}

/**
 * 'YYYY-MM-DDTHH:MM:SS.sssZ' from `from` to `to`, told by its length, 'T', '.' and 'Z': checking
 * every separator, or a regular expression, took back much of what skipping Date.parse saves.
 */
function isIsoUtcAt(text: string, from: number, to: number): boolean {
  return (
    to - from === 24 &&
    text.charCodeAt(from + 10) === T &&
    text.charCodeAt(from + 19) === DOT &&
    text.charCodeAt(from + 23) === Z
  );
}

const code = (char: string) => char.charCodeAt(0);
const [T, DOT, Z, ZERO] = [code('T'), code('.'), code('Z'), code('0')];

/** The number written in `length` ASCII digits from `start`. */
function digits(text: string, start: number, length: number): number {
  let n = 0;
  for (let i = start; i < start + length; i++) n = n * 10 + text.charCodeAt(i) - ZERO;
  return n;
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
