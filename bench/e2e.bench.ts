import { randomBytes } from 'node:crypto';
import type { Dialect } from '../src/db/database.ts';
import { endToEnd, type EndToEndRow } from './lib/e2e.ts';
import { closedLoop, jsonPoster, steadyRate } from './lib/load.ts';
import { benchReferral, PG_URL } from './lib/relay.ts';
import type { Sink } from './lib/sink.ts';
import { log, now, sampleProcessMemory } from './lib/stats.ts';
import { createDatabase, dropDatabase, sqliteFile, type FreshDatabase } from './lib/stores.ts';
import { relayChild, type ChildSystem } from './lib/systems.ts';
import { SCALE } from './scale.config.ts';

export type Workload = 'steady' | 'burst';

/**
 * Starts the system's process, drives its HTTP intake from this process with the same steady rate or
 * burst, joins the accepted referrals to the sink's 250s, and samples the system's process's RSS from
 * the start of the load until the last message arrived. Closes the system whatever happens.
 */
export async function driveEndToEnd(
  system: ChildSystem,
  workload: Workload,
  sink: Sink,
): Promise<EndToEndRow> {
  try {
    await system.process.start();
    const post = jsonPoster(system.postUrl, system.headers, (i) => benchReferral(`e2e-${workload}`, i));
    sink.reset();
    const stopSampling = sampleProcessMemory(() => system.process.pid);
    const t0 = now();
    const load =
      workload === 'steady'
        ? await steadyRate(post, SCALE.steadyRate, SCALE.steadyRate * SCALE.steadySeconds)
        : await closedLoop(post, 64, SCALE.burst);
    if (load.firstError) log(`${system.name} ${workload}: first error ${load.firstError}`);
    const row = await endToEnd(system.name, describe(workload), sink, load, t0, 20 * 60_000);
    row.memory = stopSampling();
    if (system.process.crashes > 0)
      log(`${system.name} ${workload}: the process crashed; its last output:\n${system.process.tail()}`);
    log(
      `${system.name} ${workload}: ${row.deliveredPerSecond}/s delivered, p50=${row.latencyMs.p50} p99=${row.latencyMs.p99} ms, ` +
        `peak RSS ${row.memory.peakRssMiB} MiB (VmHWM ${row.memory.hwmMiB ?? '?'} MiB)`,
    );
    return row;
  } finally {
    await system.close();
  }
}

export function describe(workload: Workload): string {
  return workload === 'steady'
    ? `steady ${SCALE.steadyRate}/s for ${SCALE.steadySeconds} s`
    : `burst of ${SCALE.burst} (64 clients)`;
}

/** A fresh database for one run: a SQLite file, or a new database on the shared PostgreSQL server. */
async function freshDatabase(dialect: Dialect): Promise<FreshDatabase> {
  if (dialect === 'sqlite') return sqliteFile('relay-bench-e2e-');
  const name = `bench_e2e_${randomBytes(4).toString('hex')}`;
  return { url: await createDatabase(PG_URL, name), drop: () => dropDatabase(PG_URL, name) };
}

/** A real `relay start` process (dispatcher and watchdog on production timers) on a fresh database. */
export async function benchRelayEndToEnd(
  dialect: Dialect,
  sink: Sink,
  workload: Workload,
): Promise<EndToEndRow> {
  const relay = await relayChild(dialect, sink, await freshDatabase(dialect), { actor: 'bench' });
  return driveEndToEnd(relay, workload, sink);
}
