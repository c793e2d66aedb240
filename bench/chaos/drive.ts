import { randomBytes } from 'node:crypto';
import { postUntilAccepted, steadySubmissions, type SubmissionStats } from '../lib/load.ts';
import { benchReferral } from '../lib/relay.ts';
import type { Sink } from '../lib/sink.ts';
import { log, sleep } from '../lib/stats.ts';
import { tally, type Tally } from './fates.ts';
import type { Fault, FaultLog } from './faults.ts';
import type { ChaosSystem } from './systems.ts';

export interface DriveOptions {
  /** Referrals a second, and for how long. */
  rate: number;
  seconds: number;
  /** After the load, how long to wait for everything to arrive and the systems to fall quiet. */
  windowMs: number;
  /** How long the sink holds each message before its 250, so a kill or restart finds sends in flight. */
  smtpAnswerMs: number;
}

export interface ChaosRow extends Tally {
  scenario: string;
  system: string;
  faults: FaultLog;
  /** Referrals never answered 2xx in the minute the source system kept trying. */
  notAccepted: number;
  /** POSTs beyond the first per referral (refused, dropped, timed out or 5xx, then sent again). */
  retriedPosts: number;
  /** Every POST's answer by status, or failure by kind. */
  answers: Record<string, number>;
  /** Exits of the system's process that the harness did not cause (each restarted, as a supervisor would). */
  crashes: number;
  /** Seconds from the end of the load until all had arrived and nothing was pending, or the window if never. */
  settledAfterS: number;
  settled: boolean;
  /** Set when the system could not be run at all. */
  error?: string;
}

/** The row for a system that could not be run (it failed to start, or the harness failed around it). */
export function errorRow(scenario: string, system: string, error: unknown): ChaosRow {
  const zero = tally(new Map());
  return {
    scenario,
    system,
    faults: { at: [], backAfter: [] },
    ...zero,
    notAccepted: 0,
    retriedPosts: 0,
    answers: {},
    crashes: 0,
    settledAfterS: 0,
    settled: false,
    error: String(error).split('\n')[0] as string,
  };
}

/**
 * A referral routed to exactly one team at any hour: `routine`, so no out-of-hours copy when the
 * day team is closed, and every system sends one email per referral.
 */
function chaosReferral(run: string, i: number) {
  return { ...benchReferral(run, i), urgency: 'routine' as const };
}

/** Starts the system, drives the steady load with the fault beside it, waits for it to settle, and counts. */
export async function drive(
  scenario: string,
  system: ChaosSystem,
  sink: Sink,
  fault: Fault,
  options: DriveOptions,
): Promise<ChaosRow> {
  sink.reset();
  sink.setMode('accept');
  sink.setDelay(options.smtpAnswerMs);
  try {
    await system.process.start();
    const run = `${scenario}-${randomBytes(3).toString('hex')}`;
    const stats: SubmissionStats = { outcomes: {} };
    const target = {
      url: system.postUrl,
      headers: system.headers,
      giveUpAfterMs: 60_000,
      requestTimeoutMs: 10_000,
    };
    log(`chaos ${scenario}: ${system.name}: ${options.rate}/s for ${options.seconds} s`);
    const t0 = Date.now();
    const [submissions, faults] = await Promise.all([
      steadySubmissions(options.rate, options.rate * options.seconds, (i) => {
        const body = chaosReferral(run, i);
        return postUntilAccepted(target, body.source.reference, body, stats);
      }),
      fault(system, t0),
    ]);
    const accepted = submissions.flatMap((s) => (s.key ? [{ ref: s.ref, key: s.key }] : []));
    const loadEnd = Date.now();
    const settled = await settle(system, sink, accepted, loadEnd + options.windowMs);
    const settledAfterS = Math.round((Date.now() - loadEnd) / 100) / 10;
    const counts = tally(await system.fates(accepted, sink));
    const row: ChaosRow = {
      scenario,
      system: system.name,
      faults,
      ...counts,
      notAccepted: submissions.length - accepted.length,
      retriedPosts: submissions.reduce((n, s) => n + s.attempts - 1, 0),
      answers: stats.outcomes,
      crashes: system.process.crashes,
      settledAfterS,
      settled,
    };
    log(`chaos ${scenario}: ${system.name}: ${JSON.stringify(row)}`);
    if (row.crashes > 0) log(`${system.name} crashed; its last output:\n${system.process.tail()}`);
    return row;
  } finally {
    sink.setMode('accept');
    await system.close();
  }
}

/** Waits until every accepted referral has arrived and the system holds no unfinished work, or the deadline. */
async function settle(
  system: ChaosSystem,
  sink: Sink,
  accepted: { ref: string; key: string }[],
  deadline: number,
): Promise<boolean> {
  while (Date.now() < deadline) {
    const arrived = new Set(sink.arrivals.map((a) => (system.matchBy === 'key' ? a.key : a.ref)));
    const all = accepted.every((a) => arrived.has(system.matchBy === 'key' ? a.key : a.ref));
    if (all && (await system.pending().catch(() => 1)) === 0) return true;
    await sleep(1000);
  }
  return false;
}
