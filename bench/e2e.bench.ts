import type { Dialect } from '../src/db/database.ts';
import { endToEnd, type EndToEndRow } from './lib/e2e.ts';
import { closedLoop, jsonPoster, steadyRate, type Post } from './lib/load.ts';
import { benchReferral, startBenchRelay } from './lib/relay.ts';
import type { Sink } from './lib/sink.ts';
import { log, now, sampleMemory } from './lib/stats.ts';
import { SCALE } from './scale.config.ts';

export type Workload = 'steady' | 'burst';

/** Drives any system's HTTP intake with the same steady rate or burst, and joins it to the sink's 250s. */
export async function driveEndToEnd(
  system: string,
  workload: Workload,
  post: Post,
  sink: Sink,
): Promise<EndToEndRow> {
  sink.reset();
  const stopSampling = sampleMemory();
  const t0 = now();
  const load =
    workload === 'steady'
      ? await steadyRate(post, SCALE.steadyRate, SCALE.steadyRate * SCALE.steadySeconds)
      : await closedLoop(post, 64, SCALE.burst);
  if (load.firstError) log(`${system} ${workload}: first error ${load.firstError}`);
  const row = await endToEnd(system, describe(workload), sink, load, t0, 20 * 60_000);
  row.memory = stopSampling();
  log(
    `${system} ${workload}: ${row.deliveredPerSecond}/s delivered, p50=${row.latencyMs.p50} p99=${row.latencyMs.p99} ms`,
  );
  return row;
}

export function describe(workload: Workload): string {
  return workload === 'steady'
    ? `steady ${SCALE.steadyRate}/s for ${SCALE.steadySeconds} s`
    : `burst of ${SCALE.burst} (64 clients)`;
}

/** Relay with its dispatcher and watchdog running, as `relay start` runs them. */
export async function benchRelayEndToEnd(
  dialect: Dialect,
  sink: Sink,
  workload: Workload,
): Promise<EndToEndRow> {
  const relay = await startBenchRelay(dialect, sink.url);
  relay.dispatcher.start();
  relay.watchdog.start();
  try {
    const post = jsonPoster(
      `${relay.baseUrl}/api/v1/referrals`,
      { authorization: `Bearer ${relay.key}` },
      (i) => benchReferral(`e2e-${workload}`, i),
    );
    return await driveEndToEnd(`Relay (${dialect})`, workload, post, sink);
  } finally {
    await relay.close();
  }
}
