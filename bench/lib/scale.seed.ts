import { sql } from 'kysely';
import type { DataKey } from '../../src/config.ts';
import type { RelayContext } from '../../src/context.ts';
import { newestKey } from '../../src/records/field-crypto.ts';
import { termDigest, type SearchTermRow } from '../../src/records/search-index.ts';
import { termsOfPayload, type SearchTerm } from '../../src/records/search-terms.ts';
import { intakeReferral } from '../../src/referrals/referral.service.ts';
import { benchReferral } from './relay.ts';
import { seedPerson, type SeedPerson } from './scale.people.ts';

/** One referral every five minutes: 1,000,000 of them reach back about 9.5 years. */
const SPACING_MINUTES = 5;
/** The last 48 hours hold the open work; everything older is finished. */
const RECENT = (48 * 60) / SPACING_MINUTES;

/**
 * What each cloned referral `s.i` (1 = newest) is now, in SQL. The recent two days look like a
 * working region: a few just routed, some sent and awaiting acknowledgement, some escalated or in
 * triage, the rest acknowledged. Older ones are finished: most closed, one in five acknowledged
 * without an outcome recorded (so never closed).
 */
const STATUS = `(case
  when s.i <= 3 then 'routed'
  when s.i <= ${RECENT} and s.i % 53 = 0 then 'triage'
  when s.i <= ${RECENT} and s.i % 29 = 0 then 'escalated'
  when s.i <= ${RECENT} and s.i % 4 = 0 then 'sent'
  when s.i <= ${RECENT} or s.i % 5 = 0 then 'acknowledged'
  else 'closed' end)`;
const FINISHED = `${STATUS} in ('acknowledged', 'closed')`;
/** Finished long ago, and escalated or triaged on the way, as a few in every hundred are. */
const PAST_ESCALATION = `(s.i > ${RECENT} and s.i % 50 = 0)`;
const PAST_TRIAGE = `(s.i > ${RECENT} and s.i % 100 = 7)`;

const TIMESTAMP_COLUMNS = /(_at|_by|_until)$/;

/**
 * Clones one real referral (intake's own rows: referral, route, delivery, events) `rows` times with
 * one INSERT…SELECT per table, received five minutes apart back from now, and adds the
 * acknowledgements, escalations and triage items their statuses imply, and the search index's rows
 * for the people they are about (scale.people.ts). ANALYZE (and on PostgreSQL
 * VACUUM, as autovacuum would have done over ten years) and a checkpoint at the end, so plans and
 * files are those of a long-lived database.
 */
export async function seedScale(ctx: RelayContext, rows: number): Promise<ScaleSeed> {
  const db = ctx.db.kysely;
  const pg = ctx.db.dialect === 'postgres';
  const nowMs = ctx.clock.now().getTime();
  const { id } = await intakeReferral(ctx, benchReferral('template', 0, nowMs), { actor: 'bench' });
  await assertOneRoute(ctx, id);
  const base = new Date(nowMs).toISOString();
  const series = pg
    ? `generate_series(1, ${rows}) as s(i)`
    : `(with recursive s(i) as (select 1 union all select i + 1 from s where i < ${rows}) select i from s) as s`;
  /** The clone's receipt time, plus `minutes`, as an ISO string like the application writes. */
  const at = (minutes = 0) =>
    pg
      ? `to_char(('${base}'::timestamptz at time zone 'utc') - (s.i * interval '${SPACING_MINUTES} minutes') + interval '${minutes} minutes', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
      : `strftime('%Y-%m-%dT%H:%M:%fZ', '${base}', '-' || (s.i * ${SPACING_MINUTES}) || ' minutes', '${minutes} minutes')`;
  const text = (prefix: string) => (pg ? `'${prefix}' || s.i::text` : `'${prefix}' || s.i`);
  const when = (condition: string, value: string) => `case when ${condition} then ${value} end`;
  const run = (query: string) => sql.raw(query).execute(db);

  const clone = async (
    table: string,
    overrides: Record<string, string>,
    options: { only?: string; omit?: string[] } = {},
  ) => {
    const template = `t.${table === 'referrals' ? 'id' : 'referral_id'} = '${id}'`;
    const sample = await run(`select * from ${table} t where ${template}`);
    const first = (sample.rows[0] ?? {}) as Record<string, unknown>;
    const columns = Object.keys(first).filter((c) => !(options.omit ?? []).includes(c));
    const exprs = columns.map((c) => {
      if (overrides[c]) return overrides[c];
      if (TIMESTAMP_COLUMNS.test(c) && first[c] != null) return at();
      return `t.${c}`;
    });
    const only = options.only ? ` and ${options.only}` : '';
    await run(
      `insert into ${table} (${columns.join(', ')}) select ${exprs.join(', ')} from ${table} t, ${series} where ${template}${only}`,
    );
  };

  await clone('referrals', {
    id: text('seed-'),
    reference: text('SR-SEED-'),
    source_reference: text('SEED-'),
    status: STATUS,
    received_at: at(),
    updated_at: `case when ${STATUS} = 'closed' then ${at(720)} when ${FINISHED} then ${at(40)} else ${at()} end`,
    closed_at: when(`${STATUS} = 'closed'`, at(720)),
  });
  // A referral in triage has not been routed yet: no route, no delivery.
  const routed = `${STATUS} <> 'triage'`;
  await clone(
    'routes',
    {
      id: text('seed-r-'),
      referral_id: text('seed-'),
      created_at: at(),
      reminder_at: at(120),
      ack_by: at(240),
      acknowledged_at: when(FINISHED, at(40)),
      outcome: when(`${STATUS} = 'closed'`, `'advice-given'`),
      outcome_at: when(`${STATUS} = 'closed'`, at(720)),
    },
    { only: routed },
  );
  await clone(
    'deliveries',
    {
      id: text('seed-d-'),
      referral_id: text('seed-'),
      route_id: text('seed-r-'),
      message_id: pg ? `'<seed-' || s.i::text || '@bench>'` : `'<seed-' || s.i || '@bench>'`,
      state: `case ${STATUS} when 'routed' then 'queued' when 'sent' then 'sent' when 'escalated' then 'sent' else 'acknowledged' end`,
      attempts: `case when ${STATUS} = 'routed' then 0 else 1 end`,
      created_at: at(),
      updated_at: `case when ${STATUS} = 'routed' then ${at()} else ${at(1)} end`,
      sent_at: when(`${STATUS} <> 'routed'`, at(1)),
      acknowledged_at: when(FINISHED, at(40)),
    },
    { only: routed },
  );
  await clone('referral_events', { referral_id: text('seed-'), at: at() }, { omit: ['id'] });

  const team = `(select team_id from routes where referral_id = '${id}')`;
  await run(
    `insert into acknowledgements (id, referral_id, route_id, team_id, delivery_id, at, method, by_name)
     select ${text('seed-a-')}, ${text('seed-')}, ${text('seed-r-')}, ${team}, ${text('seed-d-')}, ${at(40)}, 'link', 'Duty worker'
     from ${series} where ${FINISHED}`,
  );
  const open = `${STATUS} = 'escalated'`;
  await run(
    `insert into escalations (id, dedupe_key, referral_id, team_id, reason, state, detail, opened_at, claimed_by, claimed_at, resolved_by, resolved_at)
     select ${text('seed-e-')}, ${text('seed-')} || ':' || ${team} || ':not-acknowledged', ${text('seed-')}, ${team},
       'not-acknowledged', case when ${open} then (case when s.i % 3 = 0 then 'claimed' else 'open' end) else 'resolved' end, '{}', ${at(240)},
       ${when(`not (${open}) or s.i % 3 = 0`, `'Sam Safeguarding'`)}, ${when(`not (${open}) or s.i % 3 = 0`, at(250))},
       ${when(`not (${open})`, `'Sam Safeguarding'`)}, ${when(`not (${open})`, at(300))}
     from ${series} where ${open} or ${PAST_ESCALATION}`,
  );
  const inTriage = `${STATUS} = 'triage'`;
  await run(
    `insert into triage_items (id, referral_id, reason, detail, created_at, triage_by, resolved_at, resolved_by, resolution)
     select ${text('seed-t-')}, ${text('seed-')}, 'no-coverage', 'No authority covers the postcode', ${at()}, ${at(60)},
       ${when(`not (${inTriage})`, at(30))}, ${when(`not (${inTriage})`, `'Sam Safeguarding'`)},
       ${when(`not (${inTriage})`, `'routed by hand to ' || ${team}`)}
     from ${series} where ${inTriage} or ${PAST_TRIAGE}`,
  );
  await seedSearchTerms(ctx, rows, nowMs);
  // Only this schema's tables: a bare VACUUM would work through every other schema in the database.
  const tables =
    'referrals, routes, deliveries, referral_events, acknowledgements, escalations, triage_items, referral_search_terms';
  await run(pg ? `vacuum analyze ${tables}` : 'analyze');
  // The seed's gigabytes of writes are flushed now, as ten years' would have been long ago, not
  // written back by a checkpoint while the pages are timed (PostgreSQL's spreads over minutes, and
  // SQLite's runs inside whichever timed request's commit crosses its threshold).
  await run(pg ? 'checkpoint' : 'pragma wal_checkpoint(truncate)');
  return { person: (i) => seedPerson(i, nowMs, SPACING_MINUTES) };
}

export interface ScaleSeed {
  /** Who clone `seed-<i>` is about, as its search rows say: values a search can be sure to find. */
  person(i: number): SeedPerson;
}

/**
 * Each clone copies the template's routes and deliveries with ids made from the clone's number, so
 * a template with two (the out-of-hours team's too, as the demo directory gives at night) would
 * make two rows with one id. The benchmark directory keeps the team open; this says so if it is not.
 */
async function assertOneRoute(ctx: RelayContext, referralId: string): Promise<void> {
  const db = ctx.db.kysely;
  const routes = await db.selectFrom('routes').select('id').where('referral_id', '=', referralId).execute();
  const deliveries = await db
    .selectFrom('deliveries')
    .select('id')
    .where('referral_id', '=', referralId)
    .execute();
  if (routes.length !== 1 || deliveries.length !== 1)
    throw new Error(
      `the scale seed clones a referral with one route and one delivery; the template has ${routes.length} and ${deliveries.length} (is the benchmark directory loaded?)`,
    );
}

/** Referrals per statement: about nine index rows each, one JSON document of about 1 MB. */
const SEARCH_BATCH = 10_000;

/**
 * The search index's rows for every clone, as intake writes them: each clone's person (scale.people.ts)
 * indexed by the product's own term extraction and keyed digests under the newest data key. The clones
 * share the template's sealed payload, which no search reads; only these rows say who each is about.
 * Each batch travels as one JSON parameter that the database unpacks, so a million referrals' nine
 * million rows take a few thousand statements' worth of time, not nine thousand round trips.
 */
async function seedSearchTerms(ctx: RelayContext, rows: number, nowMs: number): Promise<void> {
  const db = ctx.db.kysely;
  const key = newestKey(ctx.config.dataKeys);
  const digestOf = cachedDigests(key);
  const insert =
    ctx.db.dialect === 'postgres'
      ? (json: string) =>
          sql`insert into referral_search_terms (referral_id, kind, key_id, digest, received_at)
            select referral_id, kind, key_id, digest, received_at
            from json_to_recordset(${json}::json)
              as x(referral_id text, kind text, key_id text, digest text, received_at text)`.execute(db)
      : (json: string) =>
          sql`insert into referral_search_terms (referral_id, kind, key_id, digest, received_at)
            select value ->> 'referral_id', value ->> 'kind', value ->> 'key_id', value ->> 'digest',
              value ->> 'received_at'
            from json_each(${json})`.execute(db);
  const rebuild = await dropSecondaryIndexes(ctx, 'referral_search_terms');
  for (let first = 1; first <= rows; first += SEARCH_BATCH) {
    const batch: SearchTermRow[] = [];
    for (let i = first; i < Math.min(rows + 1, first + SEARCH_BATCH); i++) {
      // The clone's received_at as the seed's SQL writes it (`at()`): an ISO instant with milliseconds.
      const receivedAt = new Date(nowMs - i * SPACING_MINUTES * 60_000).toISOString();
      for (const term of termsOfPayload(seedPerson(i, nowMs, SPACING_MINUTES)))
        batch.push({
          referral_id: `seed-${i}`,
          kind: term.kind,
          key_id: key.id,
          digest: digestOf(term),
          received_at: receivedAt,
        });
    }
    await insert(JSON.stringify(batch));
  }
  await rebuild();
}

/**
 * Drops a table's indexes other than its primary key and returns what recreates them from their own
 * stored definitions (sqlite_master, pg_indexes), whatever migrations made them. Building an index
 * once over millions of rows sorts them; keeping it up to date row by row costs several times more.
 */
async function dropSecondaryIndexes(ctx: RelayContext, table: string): Promise<() => Promise<void>> {
  const db = ctx.db.kysely;
  const found =
    ctx.db.dialect === 'postgres'
      ? await sql<{ name: string; definition: string }>`select indexname as name, indexdef as definition
          from pg_indexes i where schemaname = current_schema() and tablename = ${table}
          and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`.execute(db)
      : await sql<{ name: string; definition: string }>`select name, sql as definition from sqlite_master
          where type = 'index' and tbl_name = ${table} and sql is not null`.execute(db);
  for (const index of found.rows) await sql`drop index ${sql.id(index.name)}`.execute(db);
  return async () => {
    for (const index of found.rows) await sql.raw(index.definition).execute(db);
  };
}

/** Kinds whose values recur across people (a surname, a birthday, a street): worth remembering. */
const RECURRING = new Set<SearchTerm['kind']>(['name', 'dob', 'postcode']);

/** termDigest, remembered for recurring values: most of a referral's HMACs are a name or a postcode seen before. */
function cachedDigests(key: DataKey): (term: SearchTerm) => string {
  const seen = new Map<string, string>();
  return (term) => {
    if (!RECURRING.has(term.kind)) return termDigest(key, term);
    const id = `${term.kind}:${term.value}`;
    let digest = seen.get(id);
    if (digest === undefined) seen.set(id, (digest = termDigest(key, term)));
    return digest;
  };
}
