/**
 * `npm run chaos`: Relay and each peer under the same faults while referrals arrive at a steady rate,
 * then counts per system what was accepted, delivered, duplicated, escalated, still queued, lost, and
 * left stuck without an escalation. Results go to bench/results/chaos-*.
 *
 * Scenarios (CHAOS_ONLY=smtp,sigkill,restart,restart-backlog picks them):
 * - smtp: a 421 storm (half the messages), a 451 storm (all), a stalled SMTP server;
 * - sigkill: the sending process SIGKILLed at seeded random moments and started again at once;
 * - restart: the store restarted under load: PostgreSQL for Relay and pg-boss, Redis for BullMQ;
 * - restart-backlog: the same, each restart preceded by 5 s of 451s, so the store holds retries.
 * Every system runs as a child process (`relay start`, or bench/lib/peer.main.ts) on private
 * PostgreSQL and Redis servers, never the shared ones. CHAOS_DIALECTS=sqlite,postgres picks Relay's
 * databases; CHAOS_PEERS=bullmq,pg-boss the peers; CHAOS_SEED the fault schedule.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Dialect } from '../src/db/database.ts';
import { drive, errorRow, type ChaosRow, type DriveOptions } from './chaos/drive.ts';
import {
  schedule,
  seeded,
  sigkills,
  smtpStorms,
  storeRestarts,
  storeRestartsWithBacklog,
  type Fault,
} from './chaos/faults.ts';
import { chaosTables } from './chaos/report.ts';
import { peerSystem, relaySystem, type ChaosSystem } from './chaos/systems.ts';
import { PEER_NAMES, type PeerKind } from './lib/peers.ts';
import { barChart, markdown, writeResults } from './lib/report.ts';
import { startSink } from './lib/sink.ts';
import { log, machine, round } from './lib/stats.ts';
import {
  findPostgresBinaries,
  startPrivatePostgres,
  startPrivateRedis,
  type PrivatePostgres,
} from './lib/stores.ts';

const env = process.env;
const list = (raw: string | undefined, fallback: string) => (raw ?? fallback).split(',').filter(Boolean);
const only = new Set(list(env.CHAOS_ONLY, 'smtp,sigkill,restart,restart-backlog'));
const dialects = list(env.CHAOS_DIALECTS, 'sqlite,postgres') as Dialect[];
const peers = list(env.CHAOS_PEERS, 'bullmq,pg-boss') as PeerKind[];
const SEED = Number(env.CHAOS_SEED ?? 8);
const options: DriveOptions = {
  rate: Number(env.CHAOS_RATE ?? 20),
  seconds: Number(env.CHAOS_SECONDS ?? 30),
  windowMs: Number(env.CHAOS_WINDOW_MS ?? 120_000),
  smtpAnswerMs: Number(env.CHAOS_SMTP_ANSWER_MS ?? 100),
};
const DOWN_MS = Number(env.CHAOS_DOWN_MS ?? 3000);
/** restart-backlog: the SMTP server answers 451 for this long before each restart. */
const BACKLOG_MS = 5000;

const kills = only.has('sigkill')
  ? schedule(seeded(SEED), Number(env.CHAOS_KILLS ?? 5), 3, options.seconds - 2, 4)
  : [];
const restarts = [...only].some((s) => s.startsWith('restart'))
  ? schedule(seeded(SEED + 1), Number(env.CHAOS_RESTARTS ?? 2), 5, options.seconds - 5, 10)
  : [];

const needsPostgres = peers.includes('pg-boss') || dialects.includes('postgres');
const bindir = findPostgresBinaries();
if (needsPostgres && !bindir)
  throw new Error('PostgreSQL server binaries not found (initdb, pg_ctl): install them or set PG_BINDIR');

/** The versions of what ran, for the report. */
function softwareVersions(pgBindir: string | undefined): Record<string, string> {
  const require = createRequire(import.meta.url);
  const pkg = (name: string) => (require(`${name}/package.json`) as { version: string }).version;
  const tool = (file: string, args: string[]) => {
    try {
      return execFileSync(file, args, { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    postgresql: pgBindir ? tool(join(pgBindir, 'postgres'), ['--version']) : 'not used',
    redis: tool('redis-server', ['--version']).split(' ').slice(0, 3).join(' '),
    bullmq: pkg('bullmq'),
    'pg-boss': pkg('pg-boss'),
    nodemailer: pkg('nodemailer'),
  };
}

const info = machine();
const loadBefore = loadavg()[0] as number;
const sink = await startSink();
const postgres: PrivatePostgres | undefined = needsPostgres
  ? await startPrivatePostgres(bindir as string)
  : undefined;
const rows: ChaosRow[] = [];
// Ctrl-C: the private PostgreSQL server runs detached (pg_ctl), so it is stopped here; children die on exit.
process.once('SIGINT', () => {
  void (postgres?.destroy() ?? Promise.resolve()).finally(() => process.exit(130));
});

/** One system under one fault, with a fresh store of its own where the store is what fails. */
async function one(
  scenario: string,
  label: string,
  make: () => Promise<{ system: ChaosSystem; fault: Fault; done?: () => Promise<void> }>,
) {
  let done: (() => Promise<void>) | undefined;
  try {
    const made = await make();
    done = made.done;
    rows.push(await drive(scenario, made.system, sink, made.fault, options));
  } catch (error) {
    // One system that cannot run must not cost the others their rows.
    log(`chaos ${scenario}: ${label} did not run: ${String(error)}`);
    rows.push(errorRow(scenario, label, error));
  } finally {
    await done?.().catch(() => undefined);
  }
}

async function withRedis(
  appendonly: boolean,
  label: string,
  fault: (restart: (ms: number) => Promise<unknown>) => Fault,
) {
  const redis = await startPrivateRedis({ appendonly });
  const system = await peerSystem('bullmq', sink, { redis, label });
  return { system, fault: fault((ms) => redis.restart(ms)), done: () => redis.destroy() };
}

try {
  for (const [scenario, faultOf] of [
    ['smtp', () => smtpStorms(sink)],
    ['sigkill', () => sigkills(kills)],
  ] as const) {
    if (!only.has(scenario)) continue;
    for (const dialect of dialects)
      await one(scenario, `Relay (${dialect})`, async () => ({
        system: await relaySystem(dialect, sink, postgres),
        fault: faultOf(),
      }));
    if (peers.includes('bullmq'))
      await one(scenario, PEER_NAMES.bullmq, () => withRedis(false, '(appendonly no)', () => faultOf()));
    if (peers.includes('pg-boss'))
      await one(scenario, PEER_NAMES['pg-boss'], async () => ({
        system: await peerSystem('pg-boss', sink, { postgres }),
        fault: faultOf(),
      }));
  }
  for (const scenario of ['restart', 'restart-backlog'] as const) {
    if (!only.has(scenario)) continue;
    const restartFault = (restart: (ms: number) => Promise<unknown>) =>
      scenario === 'restart'
        ? storeRestarts(restarts, DOWN_MS, restart)
        : storeRestartsWithBacklog(restarts, DOWN_MS, restart, sink, BACKLOG_MS);
    const restartPg = () => restartFault((ms) => (postgres as PrivatePostgres).restart(ms));
    if (dialects.includes('postgres'))
      await one(scenario, 'Relay (postgres)', async () => ({
        system: await relaySystem('postgres', sink, postgres),
        fault: restartPg(),
      }));
    if (peers.includes('pg-boss'))
      await one(scenario, PEER_NAMES['pg-boss'], async () => ({
        system: await peerSystem('pg-boss', sink, { postgres }),
        fault: restartPg(),
      }));
    if (peers.includes('bullmq')) {
      await one(scenario, PEER_NAMES.bullmq, () => withRedis(false, '(appendonly no)', restartFault));
      await one(scenario, `${PEER_NAMES.bullmq} (appendonly yes)`, () =>
        withRedis(true, '(appendonly yes, everysec)', restartFault),
      );
    }
  }
} finally {
  await sink.close();
  await postgres?.destroy();
}

const versions = softwareVersions(bindir);
const loadAverage = { before: round(loadBefore, 1), after: round(loadavg()[0] as number, 1) };
const md = markdown(
  'Safeguard Relay chaos run',
  info,
  'npm run chaos',
  chaosTables(rows, {
    ...options,
    seed: SEED,
    kills,
    restarts,
    downMs: DOWN_MS,
    backlogMs: BACKLOG_MS,
    versions,
    loadAverage,
  }),
);
const svg = barChart(
  'Chaos: delivered, % of accepted',
  '%',
  rows.map((r) => ({
    label: `${r.scenario}: ${r.system}`,
    value: r.accepted ? Math.round((1000 * r.delivered) / r.accepted) / 10 : 0,
  })),
);
const base = writeResults(
  `chaos-${info.at.replace(/[:.]/g, '-')}`,
  { machine: info, loadAverage, versions, options, seed: SEED, kills, restarts, downMs: DOWN_MS, rows },
  md,
  svg,
);
process.stdout.write(md);
log(`wrote ${base}.json, .md and .svg`);
