/**
 * `npm run chaos`: Relay and each peer under the same SMTP faults while referrals arrive at a steady
 * rate, then counts per system what was accepted, delivered, duplicated and left undelivered, and
 * (Relay only has escalations) what was left stuck without one. Results go to bench/results/chaos-*.
 *
 * Faults here: a 421 storm (half the messages), a 451 storm (all), a stalled SMTP server. Not yet
 * here: SIGKILL of the sending process and a PostgreSQL restart (see docs/performance.md).
 */
import type { Dialect } from '../src/db/database.ts';
import { jsonPoster, steadyRate, type Post } from './lib/load.ts';
import { startPeer, type PeerKind } from './lib/peers.ts';
import { benchReferral, startBenchRelay } from './lib/relay.ts';
import { markdown, barChart, writeResults } from './lib/report.ts';
import { startSink, type Sink } from './lib/sink.ts';
import { log, machine, sleep } from './lib/stats.ts';
import { SCALE } from './scale.config.ts';

const RATE = 20;
const SECONDS = 12;
const WINDOW_MS = Number(process.env.CHAOS_WINDOW_MS ?? 150_000);
const TIMEOUT_MS = 3000;

interface ChaosRow {
  system: string;
  accepted: number;
  delivered: number;
  duplicated: number;
  undelivered: number;
  stuckWithoutEscalation: number | string;
}

/** 0–3 s: 421 to half; 3–6 s: 451 to all; 6–9 s: the server stalls; then it recovers. */
async function faults(sink: Sink): Promise<void> {
  sink.setMode('421', 0.5);
  await sleep(3000);
  sink.setMode('451', 1);
  await sleep(3000);
  sink.setMode('stall', 1);
  await sleep(3000);
  sink.setMode('accept');
}

async function drive(sink: Sink, post: Post): Promise<{ keys: string[] }> {
  sink.reset();
  const [load] = await Promise.all([steadyRate(post, RATE, RATE * SECONDS), faults(sink)]);
  const keys = load.accepted.map((a) => a.key);
  const deadline = Date.now() + WINDOW_MS;
  while (Date.now() < deadline && keys.some((k) => !sink.counts.has(k))) await sleep(200);
  return { keys };
}

function tally(system: string, sink: Sink, keys: string[]): Omit<ChaosRow, 'stuckWithoutEscalation'> {
  const delivered = keys.filter((k) => sink.counts.has(k)).length;
  return {
    system,
    accepted: keys.length,
    delivered,
    duplicated: keys.filter((k) => (sink.counts.get(k) ?? 0) > 1).length,
    undelivered: keys.length - delivered,
  };
}

async function chaosRelay(dialect: Dialect, sink: Sink): Promise<ChaosRow> {
  const relay = await startBenchRelay(dialect, sink.url, {
    WATCHDOG_INTERVAL_MS: '1000',
    SEND_BY: '20s',
    SEND_TIMEOUT: `${TIMEOUT_MS}ms`,
  });
  relay.dispatcher.start();
  relay.watchdog.start();
  try {
    const post = jsonPoster(
      `${relay.baseUrl}/api/v1/referrals`,
      { authorization: `Bearer ${relay.key}` },
      (i) => benchReferral(`chaos-${dialect}`, i),
    );
    const { keys } = await drive(sink, post);
    const row = tally(`Relay (${dialect})`, sink, keys);
    const undelivered = keys.filter((k) => !sink.counts.has(k));
    let stuck = 0;
    for (const id of undelivered) {
      const escalation = await relay.ctx.db.kysely
        .selectFrom('escalations')
        .select('id')
        .where('referral_id', '=', id)
        .executeTakeFirst();
      if (!escalation) stuck += 1;
    }
    return { ...row, stuckWithoutEscalation: stuck };
  } finally {
    await relay.close();
  }
}

async function chaosPeer(kind: PeerKind, sink: Sink): Promise<ChaosRow> {
  const peer = await startPeer(kind, sink.url, { timeoutMs: TIMEOUT_MS });
  try {
    const post = jsonPoster(`${peer.baseUrl}/referrals`, {}, (i) => benchReferral(`chaos-${kind}`, i));
    const { keys } = await drive(sink, post);
    const row = tally(peer.name, sink, keys);
    // A job queue has no deadline or escalation: whatever is undelivered is stuck unseen.
    return { ...row, stuckWithoutEscalation: row.undelivered };
  } finally {
    await peer.close();
  }
}

const info = machine();
const sink = await startSink();
const rows: ChaosRow[] = [];
try {
  for (const dialect of SCALE.dialects) rows.push(await chaosRelay(dialect, sink));
  rows.push(await chaosPeer('bullmq', sink));
  rows.push(await chaosPeer('pg-boss', sink));
} finally {
  await sink.close();
}
for (const r of rows) log(`chaos ${r.system}: ${JSON.stringify(r)}`);

const md = markdown('Safeguard Relay chaos run', info, 'npm run chaos', [
  {
    title: 'SMTP faults: 421 storm, 451 storm, stalled server',
    note:
      `${RATE} referrals/s for ${SECONDS} s; faults during the first 9 s (421 to half for 3 s, 451 to all for 3 s, ` +
      `no answer for 3 s; ${TIMEOUT_MS} ms SMTP time-outs on every system); counted ${WINDOW_MS / 1000} s later. ` +
      'Relay retries with its production back-off (30 s base), WATCHDOG_INTERVAL_MS=1000, SEND_BY=20s.',
    head: ['system', 'accepted', 'delivered', 'duplicated', 'undelivered at end', 'stuck without escalation'],
    rows: rows.map((r) => [
      r.system,
      r.accepted,
      r.delivered,
      r.duplicated,
      r.undelivered,
      r.stuckWithoutEscalation,
    ]),
  },
]);
const svg = barChart(
  'Chaos: delivered of accepted',
  '',
  rows.map((r) => ({ label: r.system, value: r.delivered })),
);
const base = writeResults(`chaos-${info.at.replace(/[:.]/g, '-')}`, { machine: info, rows }, md, svg);
process.stdout.write(md);
log(`wrote ${base}.json, .md and .svg`);
