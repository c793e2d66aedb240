import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import { createContext } from '../../src/context.ts';
import { openDatabase, type Db } from '../../src/db/database.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { dudleyReferral } from '../helpers/referrals.ts';
import { createTestRelay, rowCounts, testConfig, type TestRelay } from '../helpers/relay.ts';

interface ReadyBody {
  components: { database: string };
  reasons: string[];
}

const NOT_WRITABLE = 'the database does not accept writes (read-only or full)';

/** What a client and the load balancer see: intake's answer and readiness. */
async function intakeAndReadiness(app: FastifyInstance, key: string, reference: string) {
  const intake = await app.inject({
    method: 'POST',
    url: '/api/v1/referrals',
    headers: { authorization: `Bearer ${key}` },
    payload: dudleyReferral(reference),
  });
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  return { intake, ready: { status: ready.statusCode, body: ready.json() as ReadyBody } };
}

function assertRefusedForNow(intake: Awaited<ReturnType<typeof intakeAndReadiness>>['intake']) {
  assert.equal(intake.statusCode, 503, intake.body);
  assert.match(String(intake.headers['content-type']), /^application\/problem\+json/);
  assert.equal(intake.headers['retry-after'], '30');
  const problem = intake.json() as { type: string; status: number; detail: string };
  assert.equal(problem.type, 'https://safeguard-relay.example/problems/database-not-writable');
  assert.equal(problem.status, 503);
  assert.match(problem.detail, /read-only or full; nothing was accepted/);
}

function assertReadinessSaysNotWritable(ready: { status: number; body: ReadyBody }) {
  assert.equal(ready.status, 503);
  assert.equal(ready.body.components.database, 'not-writable');
  assert.ok(ready.body.reasons.includes(NOT_WRITABLE), JSON.stringify(ready.body.reasons));
}

describeEachDialect('a database that takes no writes', (dialect) => {
  let relay: TestRelay;
  before(async () => {
    relay = await createTestRelay(dialect);
  });
  after(async () => relay.close());

  if (dialect === 'sqlite') {
    // Tests run as root, for whom a read-only file is writable: PRAGMA query_only makes the
    // connection refuse writes as a read-only file does (SQLITE_READONLY).
    it('read-only: intake answers 503 database-not-writable with Retry-After, writes nothing; readiness says so', async () => {
      const before = await rowCounts(relay);
      await sql`pragma query_only = on`.execute(relay.ctx.db.kysely);
      try {
        const { intake, ready } = await intakeAndReadiness(relay.app, relay.epcrKey, 'RO-1');
        assertRefusedForNow(intake);
        assertReadinessSaysNotWritable(ready);
        assert.deepEqual(await rowCounts(relay), before, 'nothing was written');
      } finally {
        await sql`pragma query_only = off`.execute(relay.ctx.db.kysely);
      }
      const { intake, ready } = await intakeAndReadiness(relay.app, relay.epcrKey, 'RO-1');
      assert.equal(intake.statusCode, 201, 'the same referral is accepted once writes work again');
      assert.equal(ready.body.components.database, 'ok');
    });

    it('full: intake answers 503 database-not-writable; readiness says so', async () => {
      const { rows } = await sql<{ page_count: number }>`pragma page_count`.execute(relay.ctx.db.kysely);
      const pages = Number(rows[0]?.page_count);
      // The file may not grow by a page: what a full disk does to SQLite (SQLITE_FULL).
      await sql.raw(`pragma max_page_count = ${pages}`).execute(relay.ctx.db.kysely);
      try {
        let refused = false;
        // Free space in the last pages may take a few referrals before one needs a new page.
        for (let i = 0; i < 200 && !refused; i += 1) {
          const { intake, ready } = await intakeAndReadiness(relay.app, relay.epcrKey, `FULL-${i}`);
          if (intake.statusCode === 201) continue;
          refused = true;
          assertRefusedForNow(intake);
          // The probe's row already has its page, so readiness may still write it; the next
          // thing that needs a page cannot.
          if (ready.body.components.database !== 'ok') assertReadinessSaysNotWritable(ready);
        }
        assert.ok(refused, 'a full database refused a referral');
      } finally {
        await sql.raw('pragma max_page_count = 4294967294').execute(relay.ctx.db.kysely);
      }
    });
  } else {
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    const roles: string[] = [];
    const dbs: Db[] = [];
    before(() => admin.connect());
    after(async () => {
      for (const db of dbs) await db.close();
      for (const role of roles) {
        await admin.query(`drop owned by ${role}`);
        await admin.query(`drop role ${role}`);
      }
      await admin.end();
    });

    /** A login role on the test schema: with every privilege and read-only by default, or SELECT only. */
    async function connectAs(kind: 'read-only-default' | 'select-only'): Promise<Db> {
      const role = `relay_ro_${randomBytes(4).toString('hex')}`;
      roles.push(role);
      const schema = relay.database.pgSchema as string;
      await admin.query(`create role ${role} login`);
      await admin.query(`grant usage on schema ${schema} to ${role}`);
      if (kind === 'select-only') {
        await admin.query(`grant select on all tables in schema ${schema} to ${role}`);
      } else {
        await admin.query(`grant all on all tables in schema ${schema} to ${role}`);
        await admin.query(`grant all on all sequences in schema ${schema} to ${role}`);
        await admin.query(`alter role ${role} set default_transaction_read_only = on`);
      }
      const url = new URL(process.env.TEST_DATABASE_URL as string);
      url.username = role;
      const db = openDatabase(url.toString(), { pgSchema: schema });
      dbs.push(db);
      return db;
    }

    for (const kind of ['read-only-default', 'select-only'] as const) {
      it(`${kind}: intake answers 503 database-not-writable with Retry-After, writes nothing; readiness says so`, async () => {
        const db = await connectAs(kind);
        const app = buildApp(createContext(testConfig(), db, relay.clock));
        await app.ready();
        try {
          const before = await rowCounts(relay);
          const { intake, ready } = await intakeAndReadiness(app, relay.epcrKey, `RO-${kind}`);
          assertRefusedForNow(intake);
          assertReadinessSaysNotWritable(ready);
          assert.deepEqual(await rowCounts(relay), before, 'nothing was written');
        } finally {
          await app.close();
        }
        const { intake, ready } = await intakeAndReadiness(relay.app, relay.epcrKey, `RO-${kind}`);
        assert.equal(intake.statusCode, 201, 'a node whose database takes writes accepts it');
        assert.equal(ready.body.components.database, 'ok');
      });
    }
  }
});
