import { sql } from 'kysely';
import type { Dialect } from '../src/db/database.ts';
import { findReferral } from '../src/referrals/referral.repository.ts';
import { statusDocument } from '../src/referrals/referral.document.ts';
import { intakeReferral } from '../src/referrals/referral.service.ts';
import { loadDashboardFacts } from '../src/web/safeguarding/dashboard.queries.ts';
import { benchReferral, startBenchRelay } from './lib/relay.ts';
import type { Sink } from './lib/sink.ts';
import { log, now, round, summarise, type Summary } from './lib/stats.ts';

export interface ScaleRow {
  dialect: Dialect;
  rows: number;
  seedSeconds: number;
  query: string;
  latencyMs: Summary;
  under100ms: boolean;
}

const TIMESTAMP_COLUMNS = /(_at|_by|_until)$/;

/**
 * Clones one real referral (with its route and delivery) `rows` times in one statement per table,
 * received five minutes apart back from now (1,000,000 × 5 min ≈ 9.5 years), every one acknowledged.
 */
async function seed(relay: Awaited<ReturnType<typeof startBenchRelay>>, rows: number): Promise<void> {
  const db = relay.ctx.db.kysely;
  const pg = relay.ctx.db.dialect === 'postgres';
  const { id } = await intakeReferral(relay.ctx, benchReferral('template', 0), { actor: 'bench' });
  const series = pg
    ? sql.raw(`generate_series(1, ${rows}) as s(i)`)
    : sql.raw(
        `(with recursive s(i) as (select 1 union all select i + 1 from s where i < ${rows}) select i from s) as s`,
      );
  const at = pg
    ? `to_char(now() at time zone 'utc' - (s.i * interval '5 minutes'), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
    : `strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (s.i * 5) || ' minutes')`;
  const clone = async (table: string, where: string, overrides: Record<string, string>) => {
    const sample = await sql<
      Record<string, unknown>
    >`select * from ${sql.table(table)} where ${sql.raw(where)}`.execute(db);
    const columns = Object.keys(sample.rows[0] ?? {}).filter((c) => !(pg === false && c === 'rowid'));
    const exprs = columns.map((c) => {
      if (overrides[c]) return overrides[c];
      if (TIMESTAMP_COLUMNS.test(c) && sample.rows[0]?.[c] != null) return at;
      return `t.${c}`;
    });
    await sql
      .raw(
        `insert into ${table} (${columns.join(', ')}) select ${exprs.join(', ')} from ${table} t, ${series.compile(db).sql} where ${where.replace(/\b(id|referral_id) =/, 't.$1 =')}`,
      )
      .execute(db);
  };
  const text = (prefix: string) => (pg ? `'${prefix}' || s.i::text` : `'${prefix}' || s.i`);
  await clone('referrals', `id = '${id}'`, {
    id: text('seed-'),
    reference: text('SR-SEED-'),
    source_reference: text('SEED-'),
    status: `'acknowledged'`,
  });
  await clone('routes', `referral_id = '${id}'`, { id: text('seed-r-'), referral_id: text('seed-') });
  await clone('deliveries', `referral_id = '${id}'`, {
    id: text('seed-d-'),
    referral_id: text('seed-'),
    route_id: text('seed-r-'),
    message_id: pg ? `'<seed-' || s.i::text || '@bench>'` : `'<seed-' || s.i || '@bench>'`,
    state: `'acknowledged'`,
  });
  if (pg) await sql`analyze`.execute(db);
  else await sql`analyze`.execute(db);
}

async function time(samples: number, fn: (k: number) => Promise<unknown>): Promise<Summary> {
  const out: number[] = [];
  for (let k = 0; k < samples; k++) {
    const t0 = now();
    await fn(k);
    out.push(now() - t0);
  }
  return summarise(out);
}

export async function benchScale(dialect: Dialect, sink: Sink, rows: number): Promise<ScaleRow[]> {
  const relay = await startBenchRelay(dialect, sink.url);
  try {
    const t0 = now();
    await seed(relay, rows);
    const seedSeconds = round((now() - t0) / 1000, 1);
    log(`scale ${dialect}: seeded ${rows} referrals in ${seedSeconds} s`);
    const db = relay.ctx.db.kysely;
    const results: [string, Summary][] = [
      [
        'safeguarding dashboard (loadDashboardFacts)',
        await time(50, () => loadDashboardFacts(db, new Date())),
      ],
      [
        'status document (GET /api/v1/referrals/:id body)',
        await time(200, async (k) => {
          const id = `seed-${1 + Math.floor((k * 7919) % rows)}`;
          const referral = await findReferral(db, id);
          if (referral) await statusDocument(relay.ctx, referral);
        }),
      ],
    ];
    return results.map(([query, latencyMs]) => {
      log(`scale ${dialect}: ${query}: p50=${latencyMs.p50} p99=${latencyMs.p99}`);
      return { dialect, rows, seedSeconds, query, latencyMs, under100ms: latencyMs.p99 < 100 };
    });
  } finally {
    await relay.close();
  }
}
