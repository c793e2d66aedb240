import type { LoadResult } from './load.ts';
import type { Sink } from './sink.ts';
import { round, summarise, type ProcessMemory, type Summary } from './stats.ts';

export interface EndToEndRow {
  system: string;
  workload: string;
  accepted: number;
  errors: number;
  delivered: number;
  /** Accepted referrals per second through to the SMTP 250 of the last one. */
  deliveredPerSecond: number;
  /** From the POST's answer to the SMTP server's 250 for that message. */
  latencyMs: Summary;
  /** The system's own process, from the start of the load until the last message arrived. */
  memory?: ProcessMemory;
}

/** Joins what the clients were told was accepted with what the sink answered 250 to. */
export async function endToEnd(
  system: string,
  workload: string,
  sink: Sink,
  load: LoadResult,
  startedAt: number,
  timeoutMs: number,
): Promise<EndToEndRow> {
  await sink.waitFor(load.accepted.length, timeoutMs);
  const first = new Map<string, number>();
  for (const a of sink.arrivals) if (!first.has(a.key)) first.set(a.key, a.at);
  const latencies: number[] = [];
  let last = startedAt;
  for (const a of load.accepted) {
    const at = first.get(a.key);
    if (at === undefined) continue;
    latencies.push(at - a.acceptedAt);
    last = Math.max(last, at);
  }
  return {
    system,
    workload,
    accepted: load.accepted.length,
    errors: load.errors,
    delivered: latencies.length,
    deliveredPerSecond: round((latencies.length / (last - startedAt)) * 1000),
    latencyMs: summarise(latencies),
  };
}
