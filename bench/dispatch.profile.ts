/**
 * Where a delivery's time goes: fills an outbox with N benchmark referrals, then runs Relay's
 * dispatcher alone until the sink has every email, counting the statements and commits it makes.
 * Run under the profiler for the CPU side (one .cpuprofile per thread):
 *
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/dispatch-prof bench/dispatch.profile.ts sqlite 2000
 *   node --import tsx bench/profile.summary.ts /tmp/dispatch-prof
 *
 * The second argument is the number of emails; the first the engine (`postgres` uses
 * BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { DefaultQueryExecutor, TransactionBuilder } from 'kysely';
import type { Dialect } from '../src/db/database.ts';
import { prepareRelayDispatch, waitForAll, dispatchTimeoutMs } from './dispatch.bench.ts';
import { meterCpu, OWN_PROCESS } from './lib/cpu.ts';
import { startSinkProcess } from './lib/sink.process.ts';
import { log, now, round } from './lib/stats.ts';

const dialect = (process.argv[2] ?? 'sqlite') as Dialect;
const n = Number(process.argv[3] ?? 1000);

/** Every statement Kysely sends, by its first word, and every transaction: counted from `counting`. */
const statements = new Map<string, number>();
/**
 * SQLite only: milliseconds inside each statement (its first 70 characters), commits and their
 * fsync included. Statements run synchronously, so this is the time the event loop is held.
 */
const timeBySql = new Map<string, number>();
{
  const probe = new SQLite(':memory:');
  const statement = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, unknown>;
  probe.close();
  for (const method of ['run', 'all', 'get'] as const) {
    const original = statement[method] as (this: { source: string }, ...args: unknown[]) => unknown;
    statement[method] = function (this: { source: string }, ...args: unknown[]) {
      if (!counting) return original.apply(this, args);
      const t = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        const key = this.source.replace(/\s+/g, ' ').slice(0, 70);
        timeBySql.set(key, (timeBySql.get(key) ?? 0) + performance.now() - t);
      }
    };
  }
}
let transactions = 0;
let counting = false;
const base = Object.getPrototypeOf(DefaultQueryExecutor.prototype) as {
  executeQuery(query: { sql: string }, id: unknown): Promise<unknown>;
};
const execute = base.executeQuery;
base.executeQuery = function (this: unknown, query, id) {
  if (counting) {
    const verb = /^\s*(\w+)/.exec(query.sql)?.[1]?.toLowerCase() ?? '?';
    statements.set(verb, (statements.get(verb) ?? 0) + 1);
  }
  return execute.call(this, query, id);
};
const proto = TransactionBuilder.prototype as unknown as { execute(fn: unknown): Promise<unknown> };
const transaction = proto.execute;
proto.execute = function (this: unknown, fn) {
  if (counting) transactions += 1;
  return transaction.call(this, fn);
};

/**
 * The dispatch's start and end on the profiler's clock (microseconds, monotonic), beside the
 * profiles, so the summary counts only the dispatch and not the filling of the outbox.
 */
function writeWindow(from: bigint, to: bigint): void {
  const dir = process.execArgv.find((a) => a.startsWith('--cpu-prof-dir='))?.split('=')[1];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'window.json'), JSON.stringify({ from: Number(from), to: Number(to) }));
}

const sink = await startSinkProcess();
try {
  const prepared = await prepareRelayDispatch(dialect, sink, n);
  sink.reset();
  counting = true;
  const cpu = meterCpu({ self: () => OWN_PROCESS });
  const t0 = now();
  const from = process.hrtime.bigint() / 1000n;
  prepared.relay.dispatcher.start();
  await waitForAll(sink, n, dispatchTimeoutMs(n), `Relay dispatcher (${dialect})`);
  const seconds = (now() - t0) / 1000;
  const used = cpu();
  counting = false;
  writeWindow(from, process.hrtime.bigint() / 1000n);
  await prepared.relay.close();
  const total = [...statements.values()].reduce((a, b) => a + b, 0);
  log(
    `${dialect}: ${n} emails in ${round(seconds, 2)} s (${round(n / seconds)}/s), ` +
      `${round((used.self ?? Number.NaN) / n, 2)} ms CPU per email (all threads)`,
  );
  log(
    `statements: ${total} (${round(total / n, 2)} per email): ` +
      [...statements].map(([verb, count]) => `${verb} ${count}`).join(', ') +
      `; transactions ${transactions} (${round(n / Math.max(transactions, 1), 1)} emails per commit)`,
  );
  for (const [key, ms] of [...timeBySql].sort((a, b) => b[1] - a[1]).slice(0, 12))
    log(`  ${round(ms / n, 3)} ms per email held in SQLite  ${key}`);
} finally {
  await sink.close();
}
