import type { DispatchRow } from '../dispatch.bench.ts';
import type { EndToEndRow } from './e2e.ts';
import { formatSpread, round, spread } from './stats.ts';

/** Rows grouped by a key, in the order each key first appears. */
export function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) groups.set(key(row), [...(groups.get(key(row)) ?? []), row]);
  return groups;
}

/** `median (min–max)` of one figure over a group's rounds. */
export function across<T>(rows: readonly T[], figure: (row: T) => number, digits = 1): string {
  return formatSpread(spread(rows.map(figure)), digits);
}

/**
 * Relay's emails/s over the ceiling's in the same round, for each round where both ran: a ratio
 * from two runs minutes apart on a shared machine, never from runs in different rounds.
 */
export function ratiosByRound(rows: readonly DispatchRow[]): number[] {
  const ceiling = new Map<number, number>();
  for (const r of rows) if (r.round && !r.system.startsWith('Relay')) ceiling.set(r.round, r.perSecond);
  return rows
    .filter((r) => r.round && r.system.startsWith('Relay') && ceiling.has(r.round))
    .map((r) => round(r.perSecond / (ceiling.get(r.round as number) as number), 3));
}

const per = (total: number | undefined, n: number) =>
  total === undefined || n === 0 ? Number.NaN : total / n;

/** CPU milliseconds per accepted referral of the system's own process tree. */
export const systemCpuPerReferral = (r: EndToEndRow) => per(r.cpuMs?.system, r.accepted);
/** CPU milliseconds per accepted referral of the store's server (Redis, PostgreSQL); 0 when it has none. */
export const storeCpuPerReferral = (r: EndToEndRow) =>
  r.cpuMs && 'store' in r.cpuMs ? per(r.cpuMs.store, r.accepted) : 0;
/** System and store together, per email that arrived. */
export const totalCpuPerEmail = (r: EndToEndRow) =>
  per((r.cpuMs?.system ?? Number.NaN) + (r.cpuMs?.store ?? 0), r.delivered);
/** The load generator and the SMTP sink, which every system's run needs, per accepted referral. */
export const harnessCpuPerReferral = (r: EndToEndRow) =>
  per((r.cpuMs?.load ?? Number.NaN) + (r.cpuMs?.sink ?? Number.NaN), r.accepted);
/**
 * Cores kept busy while metered, by the system, its store, the load generator and the sink
 * together: near the machine's core count, CPU per referral is what sets the rate.
 */
export const coresBusy = (r: EndToEndRow) => {
  const { system, store = 0, load, sink } = r.cpuMs ?? {};
  if (system === undefined || load === undefined || sink === undefined || !r.meteredSeconds)
    return Number.NaN;
  return (system + store + load + sink) / (r.meteredSeconds * 1000);
};
