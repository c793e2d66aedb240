import { randomBytes } from 'node:crypto';
import type { Dialect } from '../src/db/database.ts';
import { meterCpu, REAPED_CHILDREN } from './lib/cpu.ts';
import { endToEnd, type EndToEndRow } from './lib/e2e.ts';
import { loadFromProcess } from './lib/load.process.ts';
import { removePeerStore, type PeerKind } from './lib/peers.ts';
import type { Sink } from './lib/sink.ts';
import { alternatingOrder, log, sampleProcessMemory } from './lib/stats.ts';
import {
  createDatabase,
  findPostgresBinaries,
  postmasterPid,
  sqliteFile,
  startPrivatePostgres,
  startPrivateRedis,
  type FreshDatabase,
  type PrivatePostgres,
  type PrivateRedis,
} from './lib/stores.ts';
import { peerChild, relayChild, relayName, type ChildSystem } from './lib/systems.ts';
import { SCALE } from './scale.config.ts';

export type Workload = 'steady' | 'burst';

/** A system under test with the store whose CPU counts as its own (none for Relay on SQLite). */
interface Contender {
  name: string;
  make(): Promise<ChildSystem>;
  storePid?: () => number | undefined;
}

/**
 * Starts the system's process, drives its HTTP intake from a separate load process with the same
 * steady rate or burst, joins the accepted referrals to the sink's 250s, and reads the CPU of the
 * system's process tree and of its store's server over the run, and its memory. Closes the system
 * whatever happens.
 */
export async function driveEndToEnd(
  contender: Contender,
  workload: Workload,
  sink: Sink,
  round: number,
): Promise<EndToEndRow> {
  const system = await contender.make();
  try {
    await system.process.start();
    await warmUp(system, sink);
    sink.reset();
    const pids = () => system.pids?.() ?? [system.process.pid];
    const stopSampling = sampleProcessMemory(pids);
    // The load generator is forked for this load and has exited, reaped, by the time the CPU is read
    // (so would a system process that crashed in between: that is logged below).
    const stopCpu = meterCpu({
      system: pids,
      ...(contender.storePid ? { store: contender.storePid } : {}),
      load: () => REAPED_CHILDREN,
      sink: () => sink.pid,
    });
    const meteredFrom = performance.now();
    const run = `e2e-${workload}-${randomBytes(3).toString('hex')}`;
    const job = { url: system.postUrl, headers: system.headers, run };
    const load = await loadFromProcess(
      workload === 'steady'
        ? { ...job, ratePerSecond: SCALE.steadyRate, total: SCALE.steadyRate * SCALE.steadySeconds }
        : { ...job, clients: 64, total: SCALE.burst },
    );
    if (load.firstError) log(`${system.name} ${workload}: first error ${load.firstError}`);
    const row = await endToEnd(system.name, describe(workload), sink, load, deliveryTimeoutMs());
    row.cpuMs = stopCpu();
    row.meteredSeconds = (performance.now() - meteredFrom) / 1000;
    row.memory = stopSampling();
    row.round = round;
    if (!row.complete)
      log(`${system.name} ${workload}: FAILED, ${row.delivered} of ${row.accepted} emails arrived in time`);
    if (system.process.crashes > 0)
      log(`${system.name} ${workload}: the process crashed; its last output:\n${system.process.tail()}`);
    log(
      `${system.name} ${workload} round ${round}: ${row.deliveredPerSecond}/s, makespan ${row.makespanSeconds} s, ` +
        `p99 ${row.fromSubmissionMs.p99} ms from submission, ${row.fromAcceptanceMs.p99} ms from acceptance`,
    );
    return row;
  } finally {
    await system.close();
  }
}

/** Warm-up referrals before each measured run: JIT, connection pools, prepared statements, the SMTP pool. */
const WARM_UP = 50;

async function warmUp(system: ChildSystem, sink: Sink): Promise<void> {
  sink.reset();
  const run = `warm-up-${randomBytes(3).toString('hex')}`;
  const load = await loadFromProcess({
    url: system.postUrl,
    headers: system.headers,
    run,
    clients: 4,
    total: WARM_UP,
  });
  if (!(await sink.waitFor(load.accepted.length, 60_000)))
    throw new Error(`${system.name}: the warm-up's emails did not arrive within 60 s`);
}

/** Long enough for the slowest system seen (about 75 emails/s), not so long that a lost email hangs the run. */
function deliveryTimeoutMs(): number {
  return Math.max(60_000, SCALE.burst * 40);
}

export function describe(workload: Workload): string {
  return workload === 'steady'
    ? `steady ${SCALE.steadyRate}/s for ${SCALE.steadySeconds} s`
    : `burst of ${SCALE.burst} (64 clients)`;
}

/** Private servers for the comparison: their CPU is read from /proc, and no other engineer's work is in it. */
interface Stores {
  postgres: PrivatePostgres;
  redis: { label: string; server: PrivateRedis }[];
}

/** A private PostgreSQL server (initdb'd for the run; fsync and synchronous_commit at their defaults). */
export async function startBenchPostgres(): Promise<PrivatePostgres> {
  const bindir = findPostgresBinaries();
  if (!bindir) throw new Error('the benchmark needs the PostgreSQL server binaries (PG_BINDIR)');
  return startPrivatePostgres(bindir);
}

async function startStores(postgres: PrivatePostgres): Promise<Stores> {
  // The machine's Redis configuration (nothing on disk), and every write fsynced before its answer,
  // the durability Relay's commits have.
  const redis = [
    { label: 'Redis appendonly no', server: await startPrivateRedis({ appendonly: false }) },
    {
      label: 'Redis appendfsync always',
      server: await startPrivateRedis({ appendonly: true, appendfsync: 'always' }),
    },
  ];
  return { postgres, redis };
}

function contenders(sink: Sink, stores: Stores): Contender[] {
  const pg = stores.postgres;
  const pgPid = () => postmasterPid(pg.url);
  const relay = (dialect: Dialect, tree?: string, split = false): Contender => ({
    name: relayName(dialect, tree, split),
    make: async () =>
      relayChild(dialect, sink, await relayDatabase(dialect, pg), {
        actor: 'bench',
        ...(tree ? { tree } : {}),
        split,
      }),
    ...(dialect === 'postgres' ? { storePid: pgPid } : {}),
  });
  const peer = (
    kind: PeerKind,
    stores_: Parameters<typeof peerChild>[3],
    storePid: () => number | undefined,
  ) => ({
    name: kind,
    storePid,
    make: async (): Promise<ChildSystem> => {
      const hex = randomBytes(4).toString('hex');
      const namespace = kind === 'bullmq' ? `bench-e2e-${hex}` : `pgboss_e2e_${hex}`;
      const child = await peerChild(kind, sink, namespace, stores_);
      return {
        ...child,
        close: async () => {
          await child.close();
          await removePeerStore(kind, child.store);
        },
      };
    },
  });
  return [
    ...(SYSTEMS.has('relay') ? SCALE.dialects.map((dialect) => relay(dialect)) : []),
    ...(SYSTEMS.has('relay') && BEFORE ? SCALE.dialects.map((dialect) => relay(dialect, BEFORE)) : []),
    // Intake in one node, sending in another, on one PostgreSQL (SQLite is for one process only).
    ...(SYSTEMS.has('relay-split') && SCALE.dialects.includes('postgres')
      ? [relay('postgres', undefined, true)]
      : []),
    ...(SYSTEMS.has('bullmq')
      ? stores.redis.map(({ label, server }) =>
          peer('bullmq', { redis: server, label: `(${label})` }, () => server.pid),
        )
      : []),
    ...(SYSTEMS.has('pg-boss') ? [peer('pg-boss', { pgUrl: pg.url }, pgPid)] : []),
  ];
}

/**
 * `BENCH_RELAY_BEFORE=<another checkout, its packages installed>`: Relay from that checkout runs too,
 * as "Relay (<engine>) before", in the same rounds, for a change's effect side by side. Its database
 * is migrated by this checkout's code, so the two must have the same migrations.
 */
const BEFORE = process.env.BENCH_RELAY_BEFORE;

/**
 * `BENCH_SYSTEMS=relay` for Relay alone (its memory under the full burst, say); all three by default.
 * `relay-split` adds Relay on PostgreSQL as two nodes, `--role web` taking the referrals and
 * `--role worker` sending them (its CPU and memory are both nodes').
 */
const SYSTEMS = new Set((process.env.BENCH_SYSTEMS ?? 'relay,bullmq,pg-boss').split(','));

async function relayDatabase(dialect: Dialect, pg: PrivatePostgres): Promise<FreshDatabase> {
  if (dialect === 'sqlite') return sqliteFile('relay-bench-e2e-');
  // Dropped with the private server at the end of the comparison.
  const url = await createDatabase(pg.url, `bench_e2e_${randomBytes(4).toString('hex')}`);
  return { url, drop: async () => undefined };
}

/**
 * Relay on each engine and the peers (BullMQ on Redis with and without fsync, pg-boss), `rounds`
 * times in alternating order for each workload, each run on a fresh process and a fresh store.
 */
export async function compareEndToEnd(
  sink: Sink,
  workloads: Workload[],
  rounds: number,
  postgres: PrivatePostgres,
): Promise<EndToEndRow[]> {
  const stores = await startStores(postgres);
  const rows: EndToEndRow[] = [];
  try {
    for (const workload of workloads) {
      const order = alternatingOrder(contenders(sink, stores), rounds);
      for (const [r, contendersInRound] of order.entries())
        for (const contender of contendersInRound) {
          // One failed run is reported and costs only its own row, not the other rounds' figures.
          const row = await driveEndToEnd(contender, workload, sink, r + 1).catch((error: unknown) => {
            log(`${contender.name} ${workload} round ${r + 1}: FAILED: ${String(error)}`);
          });
          if (row) rows.push(row);
        }
    }
  } finally {
    for (const { server } of stores.redis) await server.destroy();
  }
  return rows;
}
