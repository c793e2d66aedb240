/**
 * Where an intake's CPU goes: Relay (as in the intake benchmark, dispatcher stopped) takes N
 * referrals over real HTTP from a load process of its own, under the in-process profiler, which runs
 * only for the measured load (after a warm-up). Writes one .cpuprofile for the main thread:
 *
 *   node --import tsx bench/intake.profile.ts sqlite 3000 64 /tmp/intake-prof
 *   node --import tsx bench/profile.summary.ts /tmp/intake-prof
 *
 * Arguments: engine (`postgres` uses BENCH_DATABASE_URL), referrals, clients, output folder.
 *
 * BENCH_PROFILE=heap samples allocations instead (every 4 KiB, those collected since included) and
 * prints what an intake allocates and where; the young generation's collections, and the promotions
 * that feed the old one, follow from that. Writes intake-<engine>.heapprofile.
 *
 * Also prints what this process wrote to disk per referral (/proc/self/io write_bytes: on SQLite the
 * log and its checkpoints; on PostgreSQL the server writes, so about nothing). BENCH_DROP_INDEX=<name>
 * drops that index before the load, to see what it costs (an experiment; searches may need it).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { sql } from 'kysely';
import { allocationSites, type SamplingHeapProfile } from './lib/allocations.ts';
import type { Dialect } from '../src/db/database.ts';
import { eventLoopCpuMs, meterCpu, OWN_PROCESS } from './lib/cpu.ts';
import { loadFromProcess } from './lib/load.process.ts';
import { startBenchRelay } from './lib/relay.ts';
import { startSink } from './lib/sink.ts';
import { countStatements } from './lib/statements.ts';
import { log, round } from './lib/stats.ts';

const dialect = (process.argv[2] ?? 'sqlite') as Dialect;
const total = Number(process.argv[3] ?? 3000);
const clients = Number(process.argv[4] ?? 64);
const out = process.argv[5] ?? '/tmp/intake-prof';
/** BENCH_PROFILE=0: the figures without the profiler's own cost; `heap`: allocations, not CPU. */
const mode =
  process.env.BENCH_PROFILE === '0' ? 'none' : process.env.BENCH_PROFILE === 'heap' ? 'heap' : 'cpu';
const profiling = mode !== 'none';

const sink = await startSink();
const relay = await startBenchRelay(dialect, sink.url);
try {
  const dropIndex = process.env.BENCH_DROP_INDEX;
  if (dropIndex) {
    await sql`drop index ${sql.ref(dropIndex)}`.execute(relay.ctx.db.kysely);
    log(`dropped index ${dropIndex}`);
  }
  const job = { url: `${relay.baseUrl}/api/v1/referrals`, headers: { authorization: `Bearer ${relay.key}` } };
  await loadFromProcess({ ...job, run: 'intake-warm-up', clients, total: 500 });
  const session = new Session();
  if (mode === 'heap') {
    session.connect();
    await session.post('HeapProfiler.enable');
    // Collected objects too: an intake's garbage is what the young generation's collections cost.
    const collected = { includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true };
    await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, ...collected } as object);
  } else if (mode === 'cpu') {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
  }
  const statements = countStatements();
  const cpu = meterCpu({ self: () => OWN_PROCESS });
  const loopBefore = eventLoopCpuMs();
  const writtenBefore = bytesWritten();
  const result = await loadFromProcess({ ...job, run: 'intake-profiled', clients, total });
  const loop = eventLoopCpuMs() - loopBefore;
  const written = bytesWritten() - writtenBefore;
  const used = cpu();
  const sent = statements();
  const accepted = result.accepted.length;
  if (profiling) {
    const { profile } =
      mode === 'heap' ? await session.post('HeapProfiler.stopSampling') : await session.post('Profiler.stop');
    session.disconnect();
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, `intake-${dialect}.${mode}profile`), JSON.stringify(profile));
    if (mode === 'heap') log(allocationSites(profile as SamplingHeapProfile, accepted));
  }
  log(
    `intake ${dialect} clients=${clients}: ${accepted} accepted, ${round((accepted / result.durationMs) * 1000)}/s, ` +
      `CPU per referral: event loop ${round(loop / accepted, 2)} ms, process ${round((used.self ?? Number.NaN) / accepted, 2)} ms` +
      `${profiling ? ' (profiler on)' : ''}, ${round(sent / accepted, 2)} statements per referral, ` +
      `${round(written / 1024 / accepted, 1)} KiB written to disk per referral`,
  );
} finally {
  await relay.close();
  await sink.close();
}

/** Bytes this process has caused to be written to disk so far (/proc/self/io), fsynced or not. */
function bytesWritten(): number {
  return Number(/^write_bytes: (\d+)/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? Number.NaN);
}
