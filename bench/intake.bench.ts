import type { Dialect } from '../src/db/database.ts';
import { closedLoop, jsonPoster } from './lib/load.ts';
import { benchReferral, startBenchRelay } from './lib/relay.ts';
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
}

/**
 * Referrals accepted per second over real HTTP, each a durable commit (SQLite WAL with
 * synchronous=FULL; PostgreSQL's default synchronous_commit=on). The dispatcher is not running, so
 * this is intake alone.
 */
export async function benchIntake(dialect: Dialect): Promise<IntakeRow[]> {
  const sink = await startSink();
  const relay = await startBenchRelay(dialect, sink.url);
  const rows: IntakeRow[] = [];
  try {
    const post = jsonPoster(
      `${relay.baseUrl}/api/v1/referrals`,
      { authorization: `Bearer ${relay.key}` },
      (i) => benchReferral('intake', i),
    );
    await closedLoop(post, 4, 50, 1_000_000); // warm-up: JIT, connection pool, prepared statements
    let offset = 0;
    for (const clients of SCALE.intakeClients) {
      const total = clients === 1 ? Math.ceil(SCALE.intakeRequests / 4) : SCALE.intakeRequests;
      const result = await closedLoop(post, clients, total, offset);
      offset += total;
      const row: IntakeRow = {
        dialect,
        clients,
        accepted: result.accepted.length,
        errors: result.errors,
        perSecond: round((result.accepted.length / result.durationMs) * 1000),
        latencyMs: summarise(result.accepted.map((a) => a.acceptedAt - a.sentAt)),
      };
      if (result.firstError) log(`intake ${dialect} ${clients}: first error ${result.firstError}`);
      log(
        `intake ${dialect} clients=${clients}: ${row.perSecond}/s p50=${row.latencyMs.p50} p99=${row.latencyMs.p99}`,
      );
      rows.push(row);
    }
  } finally {
    await relay.close();
    await sink.close();
  }
  return rows;
}
