import type { CpuReading } from './cpu.ts';
import type { LoadResult } from './load.ts';
import type { Sink } from './sink.ts';
import { round, summarise, type ProcessMemory, type Summary } from './stats.ts';

export interface EndToEndRow {
  system: string;
  workload: string;
  /** 1-based round of an alternating comparison. */
  round?: number;
  accepted: number;
  errors: number;
  delivered: number;
  /** Whether every accepted referral's email arrived before the time-out. */
  complete: boolean;
  /** From the first POST sent to the sink's 250 for the last email. */
  makespanSeconds: number;
  /** Delivered emails per second of makespan. */
  deliveredPerSecond: number;
  /** From the moment the client sent the POST to the SMTP server's 250 for that referral's email. */
  fromSubmissionMs: Summary;
  /** From the POST's answer (accepted) to the SMTP server's 250: hides any queue at the door. */
  fromAcceptanceMs: Summary;
  /**
   * CPU milliseconds per process tree: `system` (its own processes), `store` (its Redis or
   * PostgreSQL server), `load` (the load generator) and `sink` (the SMTP sink).
   */
  cpuMs?: CpuReading;
  /** How long the CPU was metered: from just before the load started until the last email arrived. */
  meteredSeconds?: number;
  /** The system's own process, from the start of the load until the last message arrived. */
  memory?: ProcessMemory;
}

/** Joins what the clients were told was accepted with what the sink answered 250 to. */
export async function endToEnd(
  system: string,
  workload: string,
  sink: Sink,
  load: LoadResult,
  timeoutMs: number,
): Promise<EndToEndRow> {
  const complete = await sink.waitFor(load.accepted.length, timeoutMs);
  const first = new Map<string, number>();
  for (const a of sink.arrivals) if (!first.has(a.key)) first.set(a.key, a.at);
  const fromSubmission: number[] = [];
  const fromAcceptance: number[] = [];
  const startedAt = Math.min(...load.accepted.map((a) => a.sentAt));
  let last = startedAt;
  for (const a of load.accepted) {
    const at = first.get(a.key);
    if (at === undefined) continue;
    fromSubmission.push(at - a.sentAt);
    fromAcceptance.push(at - a.acceptedAt);
    last = Math.max(last, at);
  }
  const makespan = (last - startedAt) / 1000;
  return {
    system,
    workload,
    accepted: load.accepted.length,
    errors: load.errors,
    delivered: fromSubmission.length,
    complete,
    makespanSeconds: round(makespan, 2),
    deliveredPerSecond: round(fromSubmission.length / makespan),
    fromSubmissionMs: summarise(fromSubmission),
    fromAcceptanceMs: summarise(fromAcceptance),
  };
}
