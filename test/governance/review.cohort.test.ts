import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { ReviewCondition } from '../../src/governance/review.model.ts';
import { reviewCases } from '../../src/governance/review.queries.ts';
import { createReview } from '../../src/governance/review.service.ts';
import { RelayError } from '../../src/errors.ts';
import { MINUTE } from '../../src/time.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { shaper } from './review.helpers.ts';

const FROM = '2026-11-10T00:00:00.000Z';
const TO = '2026-11-11T00:00:00.000Z';
const by = { actor: 'user:test', name: 'Robin Reviewer' };
const later = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

describeEachDialect('review cohort', (dialect) => {
  let relay: TestRelay;
  /** Name → SR reference of the referrals each condition should (or should not) pick. */
  const ref: Record<string, string> = {};
  const id: Record<string, string> = {};

  before(async () => {
    relay = await createTestRelay(dialect);
    const shape = shaper(relay);
    const names = ['failed', 'bounced', 'sentLate', 'neverSent', 'ackLate', 'neverAcked', 'escalated'];
    const extra = ['clean', 'cancelledInTime', 'cancelledLate', 'beforePeriod', 'atEnd'];
    let minute = 0;
    for (const name of [...names, ...extra]) {
      minute += 1;
      const at =
        name === 'beforePeriod'
          ? later(FROM, -MINUTE)
          : name === 'atEnd'
            ? TO
            : later(FROM, 9 * 60 * MINUTE + minute * MINUTE);
      const raised = await shape.raiseAt(at);
      ref[name] = raised.reference;
      id[name] = raised.id;
      await shape.clean(raised.id);
    }
    await shape.delivery(id.failed!, { state: 'failed', sent_at: null });
    await shape.delivery(id.beforePeriod!, { state: 'failed', sent_at: null });
    await shape.delivery(id.atEnd!, { state: 'failed', sent_at: null });
    await shape.delivery(id.bounced!, { state: 'bounced' });
    const late = await shape.delivery(id.sentLate!, {});
    await shape.delivery(id.sentLate!, { sent_at: later(late.send_by, MINUTE) });
    await shape.delivery(id.neverSent!, { state: 'retrying', sent_at: null });
    // A redirect cancelled one copy before its deadline (no breach), and another after it.
    const inTime = await shape.delivery(id.cancelledInTime!, {});
    await shape.delivery(id.cancelledInTime!, {
      state: 'cancelled',
      sent_at: null,
      updated_at: later(inTime.send_by, -MINUTE),
    });
    const tooLate = await shape.delivery(id.cancelledLate!, {});
    await shape.delivery(id.cancelledLate!, {
      state: 'cancelled',
      sent_at: null,
      updated_at: later(tooLate.send_by, MINUTE),
    });
    await shape.route(id.ackLate!, (ackBy) => ({ acknowledged_at: later(ackBy, MINUTE) }));
    await shape.route(id.neverAcked!, () => ({ acknowledged_at: null }));
    await shape.escalate(id.escalated!, 'not-acknowledged');
    await shape.escalate(null, 'missing-referral', {
      sourceSystem: 'test-epcr',
      sourceReference: 'EPCR-MISSING-1',
      createdAt: '2026-11-10T12:00:00+00:00',
    });
    await shape.escalate(null, 'missing-referral', {
      sourceSystem: 'test-epcr',
      sourceReference: 'EPCR-MISSING-OUTSIDE',
      createdAt: '2026-11-12T12:00:00Z',
    });
    relay.clock.set('2026-11-25T11:00:00Z');
  });
  after(async () => relay.close());

  const cohort = async (conditions: ReviewCondition[]) => {
    const review = await createReview(relay.ctx, { title: 'Test', from: FROM, to: TO, conditions }, by);
    return reviewCases(relay.ctx.db.kysely, review.id);
  };
  const refs = async (condition: ReviewCondition) =>
    (await cohort([condition])).map((c) => c.reference).sort();
  const expect = (...names: string[]) => names.map((n) => ref[n]!).sort();

  it('failed and bounced: a copy in that state, received in the period only', async () => {
    assert.deepEqual(await refs('failed'), expect('failed'));
    assert.deepEqual(await refs('bounced'), expect('bounced'));
  });

  it('breached send-by: sent late, or unsent past it (a copy cancelled in time is no breach)', async () => {
    assert.deepEqual(
      await refs('breached-send-by'),
      expect('failed', 'sentLate', 'neverSent', 'cancelledLate'),
    );
  });

  it('breached ack-by: acknowledged late, or still unacknowledged past it', async () => {
    assert.deepEqual(await refs('breached-ack-by'), expect('ackLate', 'neverAcked'));
  });

  it('escalated: any escalation of the referral', async () => {
    assert.deepEqual(await refs('escalated'), expect('escalated'));
  });

  it('missing in a reconciliation: the escalation, keyed by its source reference, placed by when it was made', async () => {
    const cases = await cohort(['missing-in-reconciliation']);
    assert.equal(cases.length, 1);
    const missing = cases[0]!;
    assert.equal(missing.reference, 'EPCR-MISSING-1');
    assert.equal(missing.referralId, null);
    assert.ok(missing.escalationId);
    assert.equal(missing.sourceSystem, 'test-epcr');
    assert.equal(missing.receivedAt, '2026-11-10T12:00:00.000Z');
    assert.deepEqual(missing.conditions, ['missing-in-reconciliation']);
  });

  it('any of several conditions, each case listing every condition it met, in order of receipt', async () => {
    const cases = await cohort([
      'escalated',
      'failed',
      'breached-send-by',
      'missing-in-reconciliation',
      'failed',
    ]);
    assert.deepEqual(
      cases.map((c) => [c.reference, c.conditions]),
      [
        [ref.failed, ['failed', 'breached-send-by']],
        [ref.sentLate, ['breached-send-by']],
        [ref.neverSent, ['breached-send-by']],
        [ref.escalated, ['escalated']],
        [ref.cancelledLate, ['breached-send-by']],
        ['EPCR-MISSING-1', ['missing-in-reconciliation']],
      ],
    );
    assert.deepEqual(
      cases.map((c) => c.position),
      [1, 2, 3, 4, 5, 6],
    );
    assert.ok(cases.every((c) => c.status === 'not-started' && c.reviewerId === null));
  });

  it('freezes the cohort: later changes to referrals leave the cases as they were', async () => {
    const review = await createReview(
      relay.ctx,
      { title: 'Frozen', from: FROM, to: TO, conditions: ['failed', 'breached-ack-by'] },
      by,
    );
    const before = await reviewCases(relay.ctx.db.kysely, review.id);
    const shape = shaper(relay);
    await shape.clean(id.failed!);
    await shape.clean(id.neverAcked!);
    await shape.delivery(id.clean!, { state: 'failed', sent_at: null });
    assert.deepEqual(await reviewCases(relay.ctx.db.kysely, review.id), before);
    // A new review sees today's state, which shows the first one really did not move.
    const now = (await cohort(['failed', 'breached-ack-by'])).map((c) => c.reference).sort();
    assert.deepEqual(now, expect('clean', 'ackLate'));
    await shape.clean(id.clean!);
  });

  it('audits the creation with the period, conditions and case count, not the title', async () => {
    const review = await createReview(
      relay.ctx,
      { title: 'Audited', from: FROM, to: TO, conditions: ['bounced'] },
      by,
    );
    const entry = await relay.ctx.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'review.created')
      .where('entity_id', '=', review.id)
      .executeTakeFirstOrThrow();
    assert.equal(entry.actor, 'user:test');
    assert.deepEqual(JSON.parse(entry.detail), { from: FROM, to: TO, conditions: ['bounced'], cases: 1 });
  });

  it('refuses a review without a title, with the period backwards or without conditions', async () => {
    await assert.rejects(
      createReview(relay.ctx, { title: ' ', from: TO, to: FROM, conditions: ['nonsense'] }, by),
      (error: unknown) => {
        assert.ok(error instanceof RelayError);
        assert.deepEqual(
          error.errors?.map((e) => e.path),
          ['title', 'to', 'conditions'],
        );
        return true;
      },
    );
    await assert.rejects(
      createReview(relay.ctx, { title: 'x', from: FROM, to: TO, conditions: [] }, by),
      /not valid/,
    );
  });
});
