import type { Dialect } from '../src/db/database.ts';
import { findReferral } from '../src/records/referral.repository.ts';
import { statusDocument } from '../src/referrals/referral.document.ts';
import { loadDashboardFacts } from '../src/web/safeguarding/dashboard.queries.ts';
import { createUser } from '../src/access/user.service.ts';
import { formSession } from '../test/helpers/web.ts';
import { startBenchRelay, type BenchRelay } from './lib/relay.ts';
import { seedScale } from './lib/scale.seed.ts';
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

async function time(samples: number, fn: (k: number) => Promise<unknown>): Promise<Summary> {
  const out: number[] = [];
  for (let k = 0; k < samples; k++) {
    const t0 = now();
    await fn(k);
    out.push(now() - t0);
  }
  return summarise(out);
}

/** A safeguarding lead signed in through the sign-in form, as the dashboard's users are. */
async function safeguardingSession(relay: BenchRelay) {
  const email = 'lead@bench.example.org';
  const password = 'correct horse battery staple';
  await createUser(
    relay.ctx.db.kysely,
    relay.ctx.clock,
    { email, name: 'Bench Lead', roles: ['safeguarding'], teams: [], password },
    'bench',
    () => true,
  );
  const browser = formSession(relay.app);
  await browser.get('/sign-in');
  expectOk(await browser.post('/sign-in', { email, password }), 303);
  return browser;
}

function expectOk(response: { statusCode: number }, status = 200): void {
  if (response.statusCode !== status) throw new Error(`Expected HTTP ${status}, got ${response.statusCode}`);
}

export async function benchScale(dialect: Dialect, sink: Sink, rows: number): Promise<ScaleRow[]> {
  const relay = await startBenchRelay(dialect, sink.url);
  try {
    const t0 = now();
    await seedScale(relay.ctx, rows);
    const seedSeconds = round((now() - t0) / 1000, 1);
    log(`scale ${dialect}: seeded ${rows} referrals in ${seedSeconds} s`);
    const db = relay.ctx.db.kysely;
    const browser = await safeguardingSession(relay);
    const api = { authorization: `Bearer ${relay.key}` };
    const sampleId = (k: number) => `seed-${1 + Math.floor((k * 7919) % rows)}`;
    const results: [string, Summary][] = [
      [
        'safeguarding dashboard (loadDashboardFacts)',
        await time(100, () => loadDashboardFacts(db, new Date())),
      ],
      [
        'safeguarding dashboard page (GET /safeguarding, rendered, app.inject)',
        await time(100, async () => expectOk(await browser.get('/safeguarding'))),
      ],
      [
        'metrics scrape (GET /metrics, app.inject)',
        await time(100, async () => expectOk(await relay.app.inject({ method: 'GET', url: '/metrics' }))),
      ],
      [
        'status document (GET /api/v1/referrals/:id body)',
        await time(200, async (k) => {
          const referral = await findReferral(db, sampleId(k));
          if (referral) await statusDocument(relay.ctx, referral);
        }),
      ],
      [
        'status document over HTTP (GET /api/v1/referrals/:id, app.inject)',
        await time(200, async (k) =>
          expectOk(
            await relay.app.inject({ method: 'GET', url: `/api/v1/referrals/${sampleId(k)}`, headers: api }),
          ),
        ),
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
