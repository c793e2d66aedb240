import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { transitionDelivery, type WorkerOutcome } from '../../src/records/delivery.transitions.ts';
import { OutcomeRecorder } from '../../src/delivery/outcome.recorder.ts';
import { claimDue, claimDueIn, type DeliveryRow } from '../../src/delivery/outbox.repository.ts';
import { verifyAuditChain } from '../../src/records/audit.ts';
import { countingCommits, describeEachDialect } from '../helpers/db.ts';
import { raiseDudley } from '../helpers/referrals.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

let counter = 0;

function sent(deliveryId: string, at: Date): WorkerOutcome {
  return {
    deliveryId,
    to: 'sent',
    set: { sent_at: at.toISOString(), last_error: null },
    attempt: { worker: 'w1', startedAt: at, durationMs: 12, outcome: 'sent', detail: '250 2.0.0 OK' },
    detail: { attempt: 1, outcome: 'sent' },
  };
}

describeEachDialect("group commit of the dispatcher's outcomes", (dialect) => {
  let relay: TestRelay;

  before(async () => {
    relay = await createTestRelay(dialect);
  });
  after(() => relay.close());

  /** Raises one referral (one queued email delivery) and returns its id. */
  const raise = async () => (await raiseDudley(relay, `GROUP-${++counter}`)).id;

  /** Raises `n` referrals and claims their deliveries for worker w1, as the dispatcher would. */
  async function claimed(n: number) {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(await raise());
    const { kysely } = relay.ctx.db;
    const rows = await claimDue(kysely, relay.ctx.db.dialect, 'w1', relay.ctx.clock.now(), 60_000, 100);
    return rows.filter((r) => ids.includes(r.referral_id ?? ''));
  }
  const deliveryOf = (id: string) =>
    relay.ctx.db.kysely.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const statusOf = async (referralId: string) =>
    (
      await relay.ctx.db.kysely
        .selectFrom('referrals')
        .select('status')
        .where('id', '=', referralId)
        .executeTakeFirstOrThrow()
    ).status;

  it('records outcomes that finish together in one commit, with every row the single path writes', async () => {
    const rows = await claimed(5);
    assert.equal(rows.length, 5);
    const counted = countingCommits(relay.ctx.db.kysely);
    const recorder = new OutcomeRecorder(counted.db, 'w1', relay.ctx.clock);
    const now = relay.ctx.clock.now();
    const { kysely } = relay.ctx.db;
    const headBefore = await kysely.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow();

    // Each message was answered at its own moment: every row must keep its own sent_at.
    const answeredAt = (i: number) => new Date(now.getTime() + 1000 * i);
    const results = await Promise.all(rows.map((r, i) => recorder.record(sent(r.id, answeredAt(i)))));

    assert.deepEqual(results, ['done', 'done', 'done', 'done', 'done']);
    assert.equal(counted.commits(), 1, 'five outcomes, one commit');
    for (const [i, row] of rows.entries()) {
      const delivery = await deliveryOf(row.id);
      assert.equal(delivery.state, 'sent');
      assert.equal(delivery.locked_by, null);
      assert.equal(delivery.sent_at, answeredAt(i).toISOString());
      assert.equal(await statusOf(row.referral_id ?? ''), 'sent');
      const attempts = await kysely
        .selectFrom('delivery_attempts')
        .selectAll()
        .where('delivery_id', '=', row.id)
        .execute();
      assert.deepEqual(
        attempts.map((a) => [a.worker, a.outcome, a.detail, a.duration_ms]),
        [['w1', 'sent', '250 2.0.0 OK', 12]],
      );
      const events = await kysely
        .selectFrom('referral_events')
        .select(['kind', 'actor'])
        .where('referral_id', '=', row.referral_id ?? '')
        .where('kind', '=', 'delivery-sent')
        .execute();
      assert.deepEqual(events, [{ kind: 'delivery-sent', actor: 'worker:w1' }]);
    }
    // Five entries appended as one block, chained like any other, and the chain still verifies.
    const entries = await kysely
      .selectFrom('audit_log')
      .select(['seq', 'action', 'entity_id'])
      .where('seq', '>', headBefore.seq)
      .orderBy('seq')
      .execute();
    assert.deepEqual(
      entries.map((e) => [e.action, e.entity_id]),
      rows.map((r) => ['delivery.sent', r.id]),
    );
    assert.deepEqual(
      entries.map((e) => e.seq),
      rows.map((_, i) => headBefore.seq + 1 + i),
    );
    assert.equal((await verifyAuditChain(kysely)).ok, true);
  });

  it('records a mix of sent, retrying and failed in one batch, each with its own values', async () => {
    const rows = await claimed(4);
    const recorder = new OutcomeRecorder(relay.ctx.db.kysely, 'w1', relay.ctx.clock);
    const now = relay.ctx.clock.now();
    const retry = (r: (typeof rows)[0], minutes: number): WorkerOutcome => ({
      ...sent(r.id, now),
      to: 'retrying',
      set: {
        next_attempt_at: new Date(now.getTime() + minutes * 60_000).toISOString(),
        last_error: `451 try ${minutes}`,
      },
      attempt: {
        worker: 'w1',
        startedAt: now,
        durationMs: 5,
        outcome: 'temporary',
        detail: `451 try ${minutes}`,
      },
    });
    const [a, b, c, d] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];

    await Promise.all([
      recorder.record(retry(a, 1)),
      recorder.record(sent(b.id, now)),
      recorder.record(retry(c, 2)),
      recorder.record({ ...sent(d.id, now), to: 'failed', set: { last_error: '550 no such user' } }),
    ]);

    const got = await Promise.all([a, b, c, d].map((r) => deliveryOf(r.id)));
    assert.deepEqual(
      got.map((g) => [g.state, g.last_error, g.locked_by]),
      [
        ['retrying', '451 try 1', null],
        ['sent', null, null],
        ['retrying', '451 try 2', null],
        ['failed', '550 no such user', null],
      ],
    );
    assert.equal(got[0]?.next_attempt_at, new Date(now.getTime() + 60_000).toISOString());
    assert.equal(got[2]?.next_attempt_at, new Date(now.getTime() + 120_000).toISOString());
  });

  it('claims the next work in the same commit, and hands it over only once committed', async () => {
    const [done] = await claimed(1);
    // Two more referrals queued, not yet claimed by anyone.
    for (let i = 0; i < 2; i++) await raise();
    const handed: DeliveryRow[][] = [];
    const { kysely, dialect } = relay.ctx.db;
    const recorder = new OutcomeRecorder(kysely, 'w1', relay.ctx.clock, {
      claim: (trx, at) => claimDueIn(trx, dialect, 'w1', at, 60_000, 10),
      claimed: (rows) => handed.push(rows),
    });
    const now = relay.ctx.clock.now();

    assert.equal(await recorder.record(sent((done as DeliveryRow).id, now)), 'done');

    assert.equal(handed.length, 1);
    assert.equal(handed[0]?.length, 2);
    for (const row of handed[0] ?? []) {
      assert.equal((await deliveryOf(row.id)).state, 'sending');
      assert.equal((await deliveryOf(row.id)).locked_by, 'w1');
    }

    // When the commit fails, nothing it claimed is handed over, and nothing stays claimed.
    await raise();
    const queuedBefore = await kysely
      .selectFrom('deliveries')
      .select('id')
      .where('state', '=', 'queued')
      .execute();
    const failing = new OutcomeRecorder(kysely, 'w1', relay.ctx.clock, {
      claim: async (trx, at) => {
        const rows = await claimDueIn(trx, dialect, 'w1', at, 60_000, 10);
        if (rows.length > 0) throw new Error('the database went away mid-commit');
        return rows;
      },
      claimed: (rows) => handed.push(rows),
    });
    const first = handed[0]?.[0] as DeliveryRow;
    await assert.rejects(failing.record(sent(first.id, now)));
    assert.deepEqual(handed.slice(1), [[]]);
    assert.equal((await deliveryOf(first.id)).state, 'sending'); // its own outcome rolled back too
    const queuedAfter = await kysely
      .selectFrom('deliveries')
      .select('id')
      .where('state', '=', 'queued')
      .execute();
    assert.equal(queuedBefore.length, 1);
    assert.deepEqual(queuedAfter, queuedBefore);
  });

  it('leaves alone a delivery whose lease another worker took over, and records the rest', async () => {
    const rows = await claimed(3);
    const [first, taken, third] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
    // The lease ran out and worker w2 claimed it: w1's late outcome must not overwrite w2's attempt.
    await relay.ctx.db.kysely
      .updateTable('deliveries')
      .set({ locked_by: 'w2' })
      .where('id', '=', taken.id)
      .execute();
    const recorder = new OutcomeRecorder(relay.ctx.db.kysely, 'w1', relay.ctx.clock);
    const now = relay.ctx.clock.now();

    const results = await Promise.all([first, taken, third].map((r) => recorder.record(sent(r.id, now))));

    assert.deepEqual(results, ['done', 'lease-lost', 'done']);
    assert.equal((await deliveryOf(taken.id)).state, 'sending');
    assert.equal((await deliveryOf(taken.id)).locked_by, 'w2');
    assert.equal((await deliveryOf(first.id)).state, 'sent');
    assert.equal((await deliveryOf(third.id)).state, 'sent');
  });

  it('when one outcome cannot be written, records the others one by one and rejects only that one', async () => {
    const rows = await claimed(3);
    const [first, bad, third] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
    const recorder = new OutcomeRecorder(relay.ctx.db.kysely, 'w1', relay.ctx.clock);
    const now = relay.ctx.clock.now();
    // next_attempt_at is NOT NULL: the whole batch's transaction fails on this one.
    const broken: WorkerOutcome = {
      ...sent(bad.id, now),
      to: 'retrying',
      set: { next_attempt_at: null as unknown as string },
    };

    const results = await Promise.allSettled([
      recorder.record(sent(first.id, now)),
      recorder.record(broken),
      recorder.record(sent(third.id, now)),
    ]);

    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal((await deliveryOf(first.id)).state, 'sent');
    assert.equal((await deliveryOf(third.id)).state, 'sent');
    // Left to its lease, still visibly `sending`: the lease runs out and it is sent again.
    assert.equal((await deliveryOf(bad.id)).state, 'sending');
    assert.equal((await verifyAuditChain(relay.ctx.db.kysely)).ok, true);
    // The single-delivery path still works after a failed batch (nothing left half-open).
    assert.equal(
      await relay.ctx.db.kysely.transaction().execute((trx) =>
        transitionDelivery(trx, {
          deliveryId: bad.id,
          to: 'sent',
          now,
          actor: 'worker:w1',
          leaseHolder: 'w1',
          set: { sent_at: now.toISOString() },
        }),
      ),
      'done',
    );
  });
});
