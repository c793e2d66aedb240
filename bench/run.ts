/**
 * `npm run bench`: intake, dispatch against the ceiling, end to end with the peers side by side (each
 * system a child process of its own, with its memory), detection and scale, on SQLite and PostgreSQL. Figures go to bench/results/<timestamp>.{json,md,svg}.
 * `BENCH_SCALE=small` for a quick run; `BENCH_ONLY=intake,dispatch,e2e,detection,scale` to pick.
 */
import {
  benchCeiling,
  benchRelayDispatch,
  prepareRelayDispatch,
  type DispatchRow,
} from './dispatch.bench.ts';
import { benchDetection, type DetectionRow } from './detection.bench.ts';
import { benchRelayEndToEnd } from './e2e.bench.ts';
import { benchIntake, type IntakeRow } from './intake.bench.ts';
import type { EndToEndRow } from './lib/e2e.ts';
import { barChart, markdown, writeResults, type Table } from './lib/report.ts';
import { startThreadSink } from './lib/sink.thread.ts';
import { log, machine, round } from './lib/stats.ts';
import { benchPeer } from './peers.bench.ts';
import { benchScale, type ScaleRow } from './scale.bench.ts';
import { SCALE, SMALL } from './scale.config.ts';

const only = new Set((process.env.BENCH_ONLY ?? 'intake,dispatch,e2e,detection,scale').split(','));
const info = machine();
// In its own thread, as a real SMTP server is: see sink.thread.ts.
const sink = await startThreadSink();
const intake: IntakeRow[] = [];
const dispatch: DispatchRow[] = [];
const e2e: EndToEndRow[] = [];
const detection: DetectionRow[] = [];
const scale: ScaleRow[] = [];

try {
  for (const dialect of SCALE.dialects) {
    if (only.has('intake')) intake.push(...(await benchIntake(dialect)));
    if (only.has('dispatch')) {
      // Ceiling, Relay, ceiling, all sending the same emails: the ratio is taken against the mean
      // of the two ceilings around Relay, as the shared machine's speed drifts.
      const prepared = await prepareRelayDispatch(dialect, sink, SCALE.burst);
      const before = await benchCeiling(sink, prepared.messages);
      const relay = await benchRelayDispatch(prepared, dialect, sink).finally(() => prepared.relay.close());
      const after = await benchCeiling(sink, prepared.messages);
      relay.ratio = round(relay.perSecond / ((before.perSecond + after.perSecond) / 2), 2);
      dispatch.push(before, relay, after);
    }
  }
  if (only.has('e2e')) {
    for (const workload of ['steady', 'burst'] as const) {
      for (const dialect of SCALE.dialects) e2e.push(await benchRelayEndToEnd(dialect, sink, workload));
      e2e.push(await benchPeer('bullmq', sink, workload));
      e2e.push(await benchPeer('pg-boss', sink, workload));
    }
  }
  for (const dialect of SCALE.dialects) {
    if (only.has('detection')) detection.push(...(await benchDetection(dialect, sink)));
    if (only.has('scale')) scale.push(...(await benchScale(dialect, sink, SCALE.scaleRows)));
  }
} finally {
  await sink.close();
}

const tables: Table[] = [
  {
    title: 'Intake over HTTP (durable commits, dispatcher off)',
    head: ['dialect', 'clients', 'accepted', 'errors', 'referrals/s', 'p50 ms', 'p99 ms'],
    rows: intake.map((r) => [
      r.dialect,
      r.clients,
      r.accepted,
      r.errors,
      r.perSecond,
      r.latencyMs.p50,
      r.latencyMs.p99,
    ]),
  },
  {
    title: 'Dispatch against the ceiling (same N emails, same local SMTP sink)',
    note: 'Ratio = Relay ÷ mean of the ceiling runs immediately before and after it. Target ≥ 0.8.',
    head: ['system', 'emails', 'seconds', 'emails/s', 'ratio to ceiling', 'all arrived'],
    rows: dispatch.map((r) => [r.system, r.n, r.seconds, r.perSecond, r.ratio ?? '', r.complete]),
  },
  {
    title: 'End to end: POST accepted → SMTP 250, Relay and peers side by side',
    note:
      "Each system runs as its own child process (`relay start`, or bench/lib/peer.main.ts); the load generator and the SMTP sink stay in the benchmark's process. " +
      "Peak RSS: the system's process's VmRSS, sampled every 100 ms from the start of the load until the last message arrived; " +
      "VmHWM: the kernel's high-water mark over the whole life of that process. " +
      "Not included: Redis's memory for BullMQ, PostgreSQL's for pg-boss, nor the database server's for Relay on PostgreSQL. " +
      "For Relay on SQLite the database is inside Relay's process and is included.",
    head: [
      'system',
      'workload',
      'accepted',
      'errors',
      'delivered',
      'delivered/s',
      'p50 ms',
      'p99 ms',
      "peak RSS of the system's process (MiB)",
      'VmHWM MiB',
    ],
    rows: e2e.map((r) => [
      r.system,
      r.workload,
      r.accepted,
      r.errors,
      r.delivered,
      r.deliveredPerSecond,
      r.latencyMs.p50,
      r.latencyMs.p99,
      r.memory?.peakRssMiB ?? '',
      r.memory?.hwmMiB ?? '',
    ]),
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

const command = `${SMALL ? 'BENCH_SCALE=small ' : ''}npm run bench`;
const stem = info.at.replace(/[:.]/g, '-');
const md = markdown('Safeguard Relay benchmark', info, command, tables);
const svg = barChart('Throughput, side by side in one run', '/s', [
  ...dispatch.map((r) => ({ label: `dispatch: ${r.system}`, value: r.perSecond })),
  ...e2e.map((r) => ({ label: `${r.workload.split(' ')[0]}: ${r.system}`, value: r.deliveredPerSecond })),
]);
const base = writeResults(
  stem,
  { machine: info, scale: SCALE, intake, dispatch, e2e, detection, scale_: scale },
  md,
  svg,
);
process.stdout.write(md);
log(`wrote ${base}.json, .md and .svg`);
