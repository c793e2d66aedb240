import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { createContext } from '../../src/context.ts';
import { openDatabase, type Db } from '../../src/db/database.ts';
import { verifyAuditChain } from '../../src/records/audit.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { dudleyReferral } from '../helpers/referrals.ts';
import { createTestRelay, testConfig, type TestRelay } from '../helpers/relay.ts';

/**
 * Two nodes on one PostgreSQL database, each with its own connection pool and intake writer, take
 * the same referrals at the same moment, as a source system's retries through a load balancer send
 * them. Each writer settles idempotency in its batch's own read, so the two can both find a source
 * reference new and race to insert it: the database's unique index decides, and the loser answers
 * as a repeat.
 */
describeEachDialect(
  'intake on two nodes at once',
  (dialect) => {
    let relay: TestRelay;
    let secondDb: Db;
    let second: FastifyInstance;

    before(async () => {
      relay = await createTestRelay(dialect);
      const { url, pgSchema } = relay.database;
      secondDb = openDatabase(url, { pgSchema });
      second = buildApp(createContext(testConfig(), secondDb, relay.clock));
      await second.ready();
    });
    after(async () => {
      await second.close();
      await secondDb.close();
      await relay.close();
    });

    const post = (node: FastifyInstance, payload: unknown) =>
      node.inject({
        method: 'POST',
        url: '/api/v1/referrals',
        headers: { authorization: `Bearer ${relay.epcrKey}` },
        payload: payload as object,
      });

    it('accepts each source reference once, with unique numbers and one audit chain, whichever node wins', async () => {
      const same = Array.from({ length: 30 }, (_, i) => dudleyReferral(`TWO-NODES-${i}`));
      const differing = Array.from({ length: 10 }, (_, i) => dudleyReferral(`TWO-NODES-DIFF-${i}`));
      // Sent once, to one node: they share batches with the racing ones and must not fail with them.
      const single = Array.from({ length: 20 }, (_, i) => dudleyReferral(`TWO-NODES-ONE-${i}`));
      const singles = Promise.all(single.map((body, i) => post(i % 2 ? second : relay.app, body)));
      const pairs = await Promise.all([
        ...same.map((body) => Promise.all([post(relay.app, body), post(second, body)])),
        ...differing.map((body) =>
          Promise.all([post(relay.app, body), post(second, { ...body, urgency: 'immediate' })]),
        ),
      ]);
      assert.deepEqual(
        (await singles).map((r) => r.statusCode),
        single.map(() => 201),
      );

      for (const [i, [a, b]] of pairs.entries()) {
        const statuses = [a.statusCode, b.statusCode].sort();
        if (i < same.length) {
          assert.deepEqual(statuses, [200, 201], `the same body twice: one created, one repeat (${i})`);
          assert.equal(a.json().id, b.json().id);
        } else {
          assert.deepEqual(statuses, [201, 409], `a different body under one reference conflicts (${i})`);
        }
      }

      const db = relay.ctx.db.kysely;
      const stored = await db
        .selectFrom('referrals')
        .select(['id', 'reference', 'source_reference'])
        .where('source_reference', 'like', 'TWO-NODES-%')
        .execute();
      assert.equal(stored.length, 60);
      assert.equal(new Set(stored.map((r) => r.source_reference)).size, 60);
      const numbers = stored.map((r) => Number(r.reference.slice(-6))).sort((x, y) => x - y);
      assert.equal(new Set(numbers).size, 60, 'every referral has a number of its own');
      const received = await db
        .selectFrom('audit_log')
        .select('entity_id')
        .where('action', '=', 'referral.received')
        .where(
          'entity_id',
          'in',
          stored.map((r) => r.id),
        )
        .execute();
      assert.equal(received.length, 60, 'one audit entry per referral accepted, none for a repeat');
      assert.equal((await verifyAuditChain(db)).ok, true);
    });
  },
  { only: ['postgres'] },
);
