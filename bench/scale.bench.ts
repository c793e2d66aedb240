import type { Dialect } from '../src/db/database.ts';
import { findReferral } from '../src/records/referral.repository.ts';
import { statusDocument } from '../src/referrals/referral.document.ts';
import { loadDashboardFacts } from '../src/web/safeguarding/dashboard.queries.ts';
import { createUser } from '../src/access/user.service.ts';
import { formSession } from '../test/helpers/web.ts';
import { startBenchRelay, type BenchRelay } from './lib/relay.ts';
import { seedScale, type ScaleSeed } from './lib/scale.seed.ts';
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
  logSlowest(out);
  return summarise(out);
}

/**
 * Which requests were the slowest two (a p99 of 100 rests on them): the first ones point at a cold
 * cache, scattered ones at something else running on the machine or in the database.
 */
function logSlowest(samples: number[]): void {
  const slowest = samples
    .map((ms, k) => ({ ms, k }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 2);
  log(`  slowest: ${slowest.map((s) => `request ${s.k + 1} ${round(s.ms)} ms`).join(', ')}`);
}

/**
 * A person signed in through the sign-in form, as the pages' users are: a safeguarding lead for
 * the dashboard and search, or a duty worker of one team for its inbox.
 */
async function signedIn(relay: BenchRelay, who: { role: 'safeguarding' | 'recipient'; teams: string[] }) {
  const email = `${who.role}@bench.example.org`;
  const password = 'correct horse battery staple';
  await createUser(
    relay.ctx.db.kysely,
    relay.ctx.clock,
    { email, name: `Bench ${who.role}`, roles: [who.role], teams: who.teams, password },
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

/** The team inbox page (rendered, with its three sections' counts) on each section's first page. */
async function timeInbox(dutyWorker: ReturnType<typeof formSession>): Promise<[string, Summary][]> {
  const out: [string, Summary][] = [];
  for (const view of ['new', 'due', 'done'] as const) {
    const summary = await time(100, async () => expectOk(await dutyWorker.get(`/inbox?view=${view}`)));
    out.push([`team inbox page, ${view} (GET /inbox?view=${view}, rendered, app.inject)`, summary]);
  }
  return out;
}

/** Requests per kind of search: a p99 over 200 rests on its two slowest. */
const SEARCHES = 200;

/**
 * The safeguarding search page (GET /safeguarding/search, rendered, audited) for each kind of value a
 * lead types: the commonest surname (about 1.3 % of referrals), the rarest (a handful), and an NHS
 * number, a date of birth, a full postcode and a whole postcode district drawn from the seeded people,
 * a different one for each request, as they are written on a form.
 */
async function timeSearches(
  browser: ReturnType<typeof formSession>,
  seed: ScaleSeed,
  rows: number,
): Promise<[string, Summary][]> {
  const someone = (k: number) => seed.person(1 + Math.floor((k * 104_729) % rows)).subject;
  const rare = rarestSurname(seed, rows);
  const kinds: [string, (k: number) => string][] = [
    ['common surname (Smith)', () => 'Smith'],
    [`rare surname (${rare})`, () => rare],
    ['NHS number (943 476 5919 form)', (k) => someone(k).nhsNumber.replace(/^(\d{3})(\d{3})/, '$1 $2 ')],
    ['date of birth (07/03/1939 form)', (k) => someone(k).dateOfBirth.split('-').reverse().join('/')],
    ['full postcode', (k) => someone(k).address.postcode],
    ['postcode district (outward code)', (k) => someone(k).address.postcode.split(' ')[0] as string],
  ];
  const out: [string, Summary][] = [];
  for (const [kind, typed] of kinds) {
    const summary = await time(SEARCHES, async (k) =>
      expectFound(await browser.get(`/safeguarding/search?q=${encodeURIComponent(typed(k))}`)),
    );
    out.push([`search page by ${kind} (GET /safeguarding/search, app.inject)`, summary]);
  }
  return out;
}

/** The rarest surname among the newest 5,000 referrals' people: a handful of referrals in a million. */
function rarestSurname(seed: ScaleSeed, rows: number): string {
  let rarest = seed.person(1);
  for (let i = 2; i <= Math.min(rows, 5000); i++) {
    const person = seed.person(i);
    if (person.surnameRank > rarest.surnameRank) rarest = person;
  }
  return rarest.subject.familyName;
}

/** A search for a value the seed wrote must list at least one seeded referral, or the timing means nothing. */
function expectFound(response: { statusCode: number; body: string }): void {
  expectOk(response);
  if (!response.body.includes('href="/safeguarding/referrals/seed-'))
    throw new Error('A search for a seeded value found no seeded referral');
}

export async function benchScale(dialect: Dialect, sink: Sink, rows: number): Promise<ScaleRow[]> {
  const relay = await startBenchRelay(dialect, sink.url);
  try {
    const t0 = now();
    const seed = await seedScale(relay.ctx, rows);
    const seedSeconds = round((now() - t0) / 1000, 1);
    log(`scale ${dialect}: seeded ${rows} referrals in ${seedSeconds} s`);
    const db = relay.ctx.db.kysely;
    const browser = await signedIn(relay, { role: 'safeguarding', teams: [] });
    // Every seeded referral is a clone of one, so one team holds all of them: the largest inbox.
    const { team_id: team } = await db
      .selectFrom('routes')
      .select('team_id')
      .where('referral_id', '=', 'seed-1')
      .executeTakeFirstOrThrow();
    const dutyWorker = await signedIn(relay, { role: 'recipient', teams: [team] });
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
      ...(await timeInbox(dutyWorker)),
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
      ...(await timeSearches(browser, seed, rows)),
    ];
    return results.map(([query, latencyMs]) => {
      log(`scale ${dialect}: ${query}: p50=${latencyMs.p50} p99=${latencyMs.p99}`);
      return { dialect, rows, seedSeconds, query, latencyMs, under100ms: latencyMs.p99 < 100 };
    });
  } finally {
    await relay.close();
  }
}
