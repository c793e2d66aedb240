/**
 * `npm run bench`: intake, dispatch against the ceiling, end to end with the peers side by side (each
 * system a child process of its own, with its memory), detection and scale, on SQLite and PostgreSQL. Figures go to bench/results/<timestamp>.{json,md,svg}.
 * `BENCH_SCALE=small` for a quick run; `BENCH_ONLY=intake,dispatch,e2e,detection,scale` to pick.
 */
import { cpus } from 'node:os';
import { ceilingSweep, compareDispatch, type DispatchRow } from './dispatch.bench.ts';
import { benchDetection, type DetectionRow } from './detection.bench.ts';
import { compareEndToEnd, startBenchPostgres, type Workload } from './e2e.bench.ts';
import { benchIntake, type IntakeRow } from './intake.bench.ts';
import type { EndToEndRow } from './lib/e2e.ts';
import { barChart, markdown, writeResults, type Table } from './lib/report.ts';
import {
  across,
  groupBy,
  ratiosByRound,
  storeCpuPerReferral,
  harnessCpuPerReferral,
  coresBusy,
  systemCpuPerReferral,
  totalCpuPerEmail,
} from './lib/rounds.ts';
import { startSinkProcess } from './lib/sink.process.ts';
import { formatSpread, log, machine, spread } from './lib/stats.ts';
import type { PrivatePostgres } from './lib/stores.ts';
import { benchScale, type ScaleRow } from './scale.bench.ts';
import { SCALE } from './scale.config.ts';

const env = process.env;
const list = (raw: string | undefined, fallback: string) => (raw ?? fallback).split(',').filter(Boolean);
const only = new Set(list(env.BENCH_ONLY, 'intake,dispatch,e2e,detection,scale'));
const ROUNDS = Number(env.BENCH_ROUNDS ?? 5);
const WORKLOADS = list(env.BENCH_WORKLOADS, 'burst,steady') as Workload[];
const SWEEP = ceilingSweep(
  list(env.BENCH_SWEEP_POOLS, '5,10').map(Number),
  list(env.BENCH_SWEEP_IN_FLIGHT, '16,64').map(Number),
);
const info = machine();
// A process of its own, as a real SMTP server is another machine: see sink.process.ts.
const sink = await startSinkProcess();
const intake: IntakeRow[] = [];
const sweep: DispatchRow[] = [];
const dispatch: DispatchRow[] = [];
const e2e: EndToEndRow[] = [];
const detection: DetectionRow[] = [];
const scale: ScaleRow[] = [];
let postgres: PrivatePostgres | undefined;

try {
  // Intake, dispatch and end to end on PostgreSQL use a private server, whose CPU is read from /proc.
  if (['intake', 'dispatch', 'e2e'].some((part) => only.has(part))) postgres = await startBenchPostgres();
  for (const dialect of SCALE.dialects) {
    if (only.has('intake')) intake.push(...(await benchIntake(dialect, postgres?.url)));
    if (only.has('dispatch')) {
      const result = await compareDispatch(dialect, sink, SCALE.burst, ROUNDS, SWEEP, postgres?.url);
      sweep.push(...result.sweep);
      dispatch.push(...result.rounds);
    }
  }
  if (only.has('e2e') && postgres) e2e.push(...(await compareEndToEnd(sink, WORKLOADS, ROUNDS, postgres)));
  for (const dialect of SCALE.dialects) {
    if (only.has('detection')) detection.push(...(await benchDetection(dialect, sink)));
    if (only.has('scale')) scale.push(...(await benchScale(dialect, sink, SCALE.scaleRows)));
  }
} finally {
  await postgres?.destroy();
  await sink.close();
}

const dispatchGroups = groupBy(dispatch, (r) => `${r.dialect}|${r.system}`);
const e2eGroups = groupBy(e2e, (r) => `${r.workload}|${r.system}`);

const tables: Table[] = [
  {
    title: 'Intake over HTTP (durable commits, dispatcher off; one run per level)',
    note: 'Load from a separate process. CPU: the benchmark process, where Relay runs (HTTP, intake, SQLite), and the private PostgreSQL server.',
    head: [
      'dialect',
      'clients',
      'accepted',
      'errors',
      'referrals/s',
      'p50 ms',
      'p99 ms',
      'CPU ms per referral',
      'PostgreSQL CPU ms per referral',
      'statements per referral',
    ],
    rows: intake.map((r) => [
      r.dialect,
      r.clients,
      r.accepted,
      r.errors,
      r.perSecond,
      r.latencyMs.p50,
      r.latencyMs.p99,
      r.cpuMsPerReferral,
      r.storeCpuMsPerReferral ?? '',
      r.statementsPerReferral,
    ]),
  },
  {
    title: "The ceiling's sweep (same N emails, same SMTP sink; two passes): median (range)",
    note: 'The configuration with the highest median is the ceiling Relay is compared with below. CPU: the benchmark process, all its threads (the sink and the load are processes of their own).',
    head: ['dialect of the emails', 'configuration', 'passes', 'emails', 'emails/s', 'CPU ms per email'],
    rows: [...groupBy(sweep, (r) => `${r.dialect}|${r.system}`).values()].map((rows) => [
      rows[0]?.dialect ?? '',
      rows[0]?.system ?? '',
      rows.length,
      rows[0]?.n ?? 0,
      across(rows, (x) => x.perSecond),
      across(rows, (x) => x.cpuMsPerEmail, 2),
    ]),
  },
  {
    title: `Dispatch against the best ceiling, ${ROUNDS} alternating rounds: median (range)`,
    note:
      "Each round fills a fresh outbox, then runs Relay's dispatcher and the ceiling on the same emails, in turns. " +
      'Ratio: Relay ÷ ceiling within each round. CPU: the sending process (Relay in-process: dispatcher, SMTP thread, database client; SQLite inside it), ' +
      'plus the private PostgreSQL server (postmaster and backends) for Relay on PostgreSQL. Target ≥ 0.8.',
    head: [
      'dialect',
      'system',
      'rounds',
      'emails/s',
      'ratio to ceiling',
      'CPU ms per email',
      'PostgreSQL CPU ms per email',
    ],
    rows: [...dispatchGroups.values()].map((rows) => {
      const r = rows[0] as DispatchRow;
      const relay = r.system.startsWith('Relay');
      return [
        r.dialect ?? '',
        r.system,
        rows.length,
        across(rows, (x) => x.perSecond),
        relay ? formatSpread(spread(ratiosByRound(dispatch.filter((x) => x.dialect === r.dialect))), 2) : '',
        across(rows, (x) => x.cpuMsPerEmail, 2),
        relay && r.dialect === 'postgres' ? across(rows, (x) => x.storeCpuMsPerEmail ?? Number.NaN, 2) : '',
      ];
    }),
  },
  {
    title: `End to end: submission → SMTP 250, ${ROUNDS} alternating rounds: median (range)`,
    note:
      'Each system is a child process of its own on a fresh store; the load comes from another process (64 closed-loop clients for the burst), the SMTP sink is a third. ' +
      "From submission: the client sent the POST → the sink answered 250 to its email; from acceptance: the POST's answer → the 250. " +
      "Makespan: first POST sent → last 250. CPU (from /proc): the system's process tree, all threads; store: the private Redis or PostgreSQL server (postmaster and backends); " +
      'harness: the load generator and the SMTP sink, the same work for every system. ' +
      `Cores busy: all four together over the metered time (this machine has ${cpus().length}). ` +
      "Not included: the kernel's work for the disk and network beyond each process's system time.",
    head: [
      'workload',
      'system',
      'rounds',
      'all delivered',
      'delivered/s',
      'makespan s',
      'p50 ms from submission',
      'p99 ms from submission',
      'p50 ms from acceptance',
      'p99 ms from acceptance',
      'CPU ms per referral (system)',
      'CPU ms per referral (store)',
      'CPU ms per email (both)',
      'CPU ms per referral (harness)',
      'cores busy',
      'peak RSS MiB',
    ],
    rows: [...e2eGroups.values()].map((rows) => {
      const r = rows[0] as EndToEndRow;
      return [
        r.workload,
        r.system,
        rows.length,
        rows.every((x) => x.complete && x.errors === 0),
        across(rows, (x) => x.deliveredPerSecond),
        across(rows, (x) => x.makespanSeconds, 2),
        across(rows, (x) => x.fromSubmissionMs.p50),
        across(rows, (x) => x.fromSubmissionMs.p99),
        across(rows, (x) => x.fromAcceptanceMs.p50),
        across(rows, (x) => x.fromAcceptanceMs.p99),
        across(rows, systemCpuPerReferral, 2),
        across(rows, storeCpuPerReferral, 2),
        across(rows, totalCpuPerEmail, 2),
        across(rows, harnessCpuPerReferral, 2),
        across(rows, coresBusy, 2),
        across(rows, (x) => x.memory?.peakRssMiB ?? Number.NaN, 0),
      ];
    }),
  },
  {
    title:
      'Detection (real clock; WATCHDOG_INTERVAL_MS=1000, SEND_BY=2s, DELIVERY_LEASE=2s, DISPATCH_POLL=1s)',
    head: ['dialect', 'what', 'samples', 'p50 ms', 'max ms', 'target', 'met'],
    rows: detection.map((r) => [
      r.dialect,
      r.what,
      r.samples.n,
      r.samples.p50,
      r.samples.max,
      `${r.target} (${r.targetMs} ms)`,
      r.samples.max <= r.targetMs,
    ]),
  },
  {
    title: `Scale: queries with ${SCALE.scaleRows.toLocaleString('en-GB')} referrals in the database`,
    head: ['dialect', 'query', 'seed s', 'samples', 'p50 ms', 'p99 ms', 'p99 < 100 ms'],
    rows: scale.map((r) => [
      r.dialect,
      r.query,
      r.seedSeconds,
      r.latencyMs.n,
      r.latencyMs.p50,
      r.latencyMs.p99,
      r.under100ms,
    ]),
  },
].filter((t) => t.rows.length > 0);

const settings = ['BENCH_SCALE', 'BENCH_ONLY', 'BENCH_DIALECTS', 'BENCH_N', 'BENCH_ROUNDS', 'BENCH_WORKLOADS']
  .filter((k) => env[k] !== undefined)
  .map((k) => `${k}=${env[k]}`);
const command = [...settings, 'npm run bench'].join(' ');
const stem = info.at.replace(/[:.]/g, '-');
const md = markdown('Safeguard Relay benchmark', info, command, tables);
const median = (values: number[]) => spread(values).median;
const svg = barChart('Throughput, median of the rounds', '/s', [
  ...[...dispatchGroups.values()].map((rows) => ({
    label: `dispatch (${rows[0]?.dialect}): ${rows[0]?.system.replace(/^ceiling: .*/, 'best ceiling')}`,
    value: median(rows.map((r) => r.perSecond)),
  })),
  ...[...e2eGroups.values()].map((rows) => ({
    label: `${rows[0]?.workload.split(' ')[0]}: ${rows[0]?.system}`,
    value: median(rows.map((r) => r.deliveredPerSecond)),
  })),
]);
const base = writeResults(
  stem,
  { machine: info, scale: SCALE, rounds: ROUNDS, intake, sweep, dispatch, e2e, detection, scale_: scale },
  md,
  svg,
);
process.stdout.write(md);
log(`wrote ${base}.json, .md and .svg`);
