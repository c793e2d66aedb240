import type { BankHoliday, Team } from '../../directory/directory.types.ts';
import {
  addDays,
  effectiveHours,
  isBankHoliday,
  londonLocal,
  londonToInstant,
  weekdayOf,
} from '../../directory/hours.ts';
import { DAY } from '../../time.ts';

export const WINDOW_DAYS = 30;
export const RECENT_DAYS = 7;
const MIN_SILENCE_MS = 2 * DAY;
const GAP_MULTIPLE = 3;
const MIN_RECENT_DUE = 5;

export interface RouteActivity {
  createdAt: number;
  ackBy: number;
  acknowledgedAt: number | null;
}

export interface TeamActivity {
  /** Routes to the team created in the last 30 days. */
  sent: RouteActivity[];
  /** Times of the team's acknowledgements in the last 30 days, ascending. */
  acks: number[];
}

export type Silence =
  | { rule: 'no-acknowledgement'; silentHours: number; thresholdHours: number }
  | { rule: 'rate-drop'; recentRate: number; usualRate: number; recentDue: number };

/** Milliseconds between two instants, counting only London days the team works. */
export type Elapsed = (from: number, to: number) => number;

/**
 * Time that counts towards silence: a day team closed for the weekend or a bank holiday is not
 * silent, so closed days are left out; otherwise every Monday would raise an alarm.
 */
export function workingElapsed(team: Team | undefined, bankHolidays: readonly BankHoliday[]): Elapsed {
  const hours = team && effectiveHours(team);
  const works = (date: string) =>
    (hours?.openOnBankHolidays === true || !isBankHoliday(bankHolidays, date)) &&
    (hours?.weekly?.[weekdayOf(date)]?.length ?? 0) > 0;
  const neverOpen = !hours?.weekly || Object.values(hours.weekly).every((r) => r.length === 0);
  if (!hours || hours.always === true || neverOpen) return (from, to) => Math.max(0, to - from);
  return (from, to) => {
    let total = 0;
    let date = londonLocal(new Date(from)).date;
    for (let guard = 0; guard < 400; guard++, date = addDays(date, 1)) {
      const start = londonToInstant(date, '00:00').getTime();
      if (start >= to) break;
      const end = londonToInstant(date, '24:00').getTime();
      if (works(date)) total += Math.max(0, Math.min(end, to) - Math.max(start, from));
    }
    return total;
  };
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const hoursOf = (ms: number) => Math.round((ms / 3_600_000) * 10) / 10;

/**
 * Silent: something sent since the team's last acknowledgement has waited, in working time, longer
 * than three of the team's usual gaps between acknowledgements (at least two days). Waiting work is
 * required, so a team that was simply sent nothing is never called silent.
 */
function noAcknowledgement(a: TeamActivity, now: number, elapsed: Elapsed): Silence | undefined {
  const lastAck = a.acks.at(-1) ?? -Infinity;
  const waiting = a.sent.filter((r) => r.acknowledgedAt === null && r.createdAt > lastAck);
  if (waiting.length === 0) return undefined;
  const pendingSince = Math.min(...waiting.map((r) => r.createdAt));
  const gaps = a.acks.slice(1).map((at, i) => elapsed(a.acks[i] ?? at, at));
  const threshold = Math.max(GAP_MULTIPLE * (median(gaps) ?? 0), MIN_SILENCE_MS);
  const silent = elapsed(pendingSince, now);
  if (silent <= threshold) return undefined;
  return { rule: 'no-acknowledgement', silentHours: hoursOf(silent), thresholdHours: hoursOf(threshold) };
}

/** Rates count only routes already past their deadline, so today's unanswered work is not a drop. */
function rateDrop(a: TeamActivity, now: number): Silence | undefined {
  const due = a.sent.filter((r) => r.ackBy <= now);
  const recent = due.filter((r) => r.createdAt >= now - RECENT_DAYS * DAY);
  if (recent.length < MIN_RECENT_DUE || due.length === 0) return undefined;
  const rate = (rs: RouteActivity[]) => rs.filter((r) => r.acknowledgedAt !== null).length / rs.length;
  const recentRate = rate(recent);
  const usualRate = rate(due);
  if (recentRate >= usualRate / 2) return undefined;
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    rule: 'rate-drop',
    recentRate: round(recentRate),
    usualRate: round(usualRate),
    recentDue: recent.length,
  };
}

export function assessSilence(a: TeamActivity, now: number, elapsed: Elapsed): Silence | undefined {
  if (a.sent.length === 0) return undefined;
  return noAcknowledgement(a, now, elapsed) ?? rateDrop(a, now);
}
