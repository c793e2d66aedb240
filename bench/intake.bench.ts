import type { Dialect } from '../src/db/database.ts';
import { meterCpu, OWN_PROCESS } from './lib/cpu.ts';
import { countStatements } from './lib/statements.ts';
import { loadFromProcess } from './lib/load.process.ts';
import { postmasterPid } from './lib/stores.ts';
import { startBenchRelay } from './lib/relay.ts';
import { startSink } from './lib/sink.ts';
import { log, round, summarise, type Summary } from './lib/stats.ts';
import { SCALE } from './scale.config.ts';

export interface IntakeRow {
  dialect: Dialect;
  clients: number;
  accepted: number;
  errors: number;
  perSecond: number;
  latencyMs: Summary;
  /** CPU of this process (Relay runs in it; the load does not) per accepted referral. */
  cpuMsPerReferral: number;
  /** CPU of the private PostgreSQL server (postmaster and backends) per accepted referral. */
  storeCpuMsPerReferral?: number;
  /** Statements sent to the database per accepted referral: on PostgreSQL, round trips. */
  statementsPerReferral: number;
}

/**
 * Referrals accepted per second over real HTTP, each a durable commit (SQLite WAL with
 * synchronous=FULL; PostgreSQL's default synchronous_commit=on). The dispatcher is not running, so
 * this is intake alone.
 */
export async function benchIntake(dialect: Dialect, pgUrl?: string): Promise<IntakeRow[]> {
  const sink = await startSink();
  const relay = await startBenchRelay(dialect, sink.url, {}, pgUrl);
  const pg = dialect === 'postgres' ? pgUrl : undefined;
  const rows: IntakeRow[] = [];
  try {
    const job = {
      url: `${relay.baseUrl}/api/v1/referrals`,
      headers: { authorization: `Bearer ${relay.key}` },
    };
    // warm-up: JIT, connection pool, prepared statements
    await loadFromProcess({ ...job, run: 'intake-warm-up', clients: 4, total: 50 });
    for (const clients of SCALE.intakeClients) {
      const total = clients === 1 ? Math.ceil(SCALE.intakeRequests / 4) : SCALE.intakeRequests;
      // From a process of its own: in this one the clients would share Relay's event loop.
      const statements = countStatements();
      const cpu = meterCpu({ self: () => OWN_PROCESS, ...(pg ? { store: () => postmasterPid(pg) } : {}) });
      const result = await loadFromProcess({ ...job, run: `intake-${clients}`, clients, total });
      const used = cpu();
      const sent = statements();
      const accepted = result.accepted.length;
      const row: IntakeRow = {
        dialect,
        clients,
        accepted: result.accepted.length,
        errors: result.errors,
        perSecond: round((result.accepted.length / result.durationMs) * 1000),
        latencyMs: summarise(result.accepted.map((a) => a.acceptedAt - a.sentAt)),
        cpuMsPerReferral: round((used.self ?? Number.NaN) / accepted, 2),
        ...(used.store !== undefined ? { storeCpuMsPerReferral: round(used.store / accepted, 2) } : {}),
        statementsPerReferral: round(sent / accepted, 2),
      };
      if (result.firstError) log(`intake ${dialect} ${clients}: first error ${result.firstError}`);
      log(
        `intake ${dialect} clients=${clients}: ${row.perSecond}/s p50=${row.latencyMs.p50} p99=${row.latencyMs.p99} cpu=${row.cpuMsPerReferral}ms statements=${row.statementsPerReferral}`,
      );
      rows.push(row);
    }
  } finally {
    await relay.close();
    await sink.close();
  }
  return rows;
}
