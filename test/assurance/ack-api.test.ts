import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { apiClient } from './api.helpers.ts';

describeEachDialect('acknowledgement and outcome API', (dialect) => {
  let relay: TestRelay;
  let api: ReturnType<typeof apiClient>;
  let childrenKey: string;

  before(async () => {
    relay = await createTestRelay(dialect);
    api = apiClient(relay);
    childrenKey = await api.makeKey('children system', 'acknowledgements:write', 'birmingham-children');
  });
  after(async () => relay.close());

  const db = () => relay.ctx.db.kysely;
  const raise = (overrides?: Parameters<typeof api.raise>[0]) => api.raise(overrides);
  const post = (url: string, key: string, payload: unknown) => api.post(url, key, payload);
  const acksOf = (referralId: string) => api.acksOf(referralId);

  describe('POST /api/v1/referrals/:id/acknowledgements', () => {
    it('acknowledges with 201, then answers 200 with the existing acknowledgement', async () => {
      const { id, reference } = await raise();
      const first = await post(`/api/v1/referrals/${id}/acknowledgements`, relay.teamKey, {
        by: 'Sam Patel',
      });
      assert.equal(first.statusCode, 201, first.body);
      const at = relay.clock.now().toISOString();
      assert.deepEqual(first.json(), {
        referralId: id,
        reference,
        team: 'birmingham-adults',
        acknowledgedAt: at,
        by: 'Sam Patel',
        method: 'api',
      });
      relay.clock.advance(60_000);
      const again = await post(`/api/v1/referrals/${reference}/acknowledgements`, relay.teamKey, {
        by: 'Someone Else',
      });
      assert.equal(again.statusCode, 200);
      assert.deepEqual(again.json(), first.json());
      const acks = await acksOf(id);
      assert.equal(acks.length, 1);
      assert.equal(acks[0]?.method, 'api');
      assert.ok(acks[0]?.by_key, 'records the key that acknowledged');
      const referral = await db()
        .selectFrom('referrals')
        .select('status')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.equal(referral.status, 'acknowledged');
    });

    it("answers 404 for another team's referral, 403 for a referrals:write key, 401 without a key", async () => {
      const dudley = await raise({
        subject: {
          ...exampleReferral().subject,
          address: { line1: '1 Castle Hill', town: 'Dudley', postcode: 'DY1 4QF' },
        },
      });
      const notOurs = await post(`/api/v1/referrals/${dudley.id}/acknowledgements`, relay.teamKey, {
        by: 'Sam',
      });
      assert.equal(notOurs.statusCode, 404);
      assert.equal(notOurs.headers['content-type'], 'application/problem+json; charset=utf-8');
      const unknown = await post('/api/v1/referrals/no-such-id/acknowledgements', relay.teamKey, {
        by: 'Sam',
      });
      assert.equal(unknown.statusCode, 404);
      const epcr = await post(`/api/v1/referrals/${dudley.id}/acknowledgements`, relay.epcrKey, {
        by: 'Sam',
      });
      assert.equal(epcr.statusCode, 403);
      const anonymous = await relay.app.inject({
        method: 'POST',
        url: `/api/v1/referrals/${dudley.id}/acknowledgements`,
        payload: { by: 'Sam' },
      });
      assert.equal(anonymous.statusCode, 401);
      assert.equal((await acksOf(dudley.id)).length, 0);
    });

    it('answers 422 naming every bad field, and writes nothing', async () => {
      const { id } = await raise();
      const url = `/api/v1/referrals/${id}/acknowledgements`;
      for (const [payload, paths] of [
        [{}, ['by']],
        [{ by: '   ' }, ['by']],
        [{ by: 'x'.repeat(201) }, ['by']],
        [{ by: 'Sam', method: 'phone' }, ['method']],
      ] as const) {
        const response = await post(url, relay.teamKey, payload);
        assert.equal(response.statusCode, 422, JSON.stringify(payload));
        const problem = response.json() as { type: string; errors: { path: string }[] };
        assert.match(problem.type, /validation-failed$/);
        assert.deepEqual(
          problem.errors.map((e) => e.path),
          paths,
        );
      }
      assert.equal((await acksOf(id)).length, 0);
    });
  });

  describe('POST /api/v1/referrals/:id/outcomes', () => {
    it('records each team outcome, acknowledging first, and closes the referral when every route has one', async () => {
      const { id, reference } = await raise({ householdChildren: 2 });
      const routes = await db()
        .selectFrom('routes')
        .select('team_id')
        .where('referral_id', '=', id)
        .execute();
      assert.deepEqual(routes.map((r) => r.team_id).sort(), ['birmingham-adults', 'birmingham-children']);
      const url = `/api/v1/referrals/${id}/outcomes`;

      const bad = await post(url, relay.teamKey, { outcome: 'sorted', note: '' });
      assert.equal(bad.statusCode, 422);
      assert.deepEqual((bad.json() as { errors: { path: string }[] }).errors.map((e) => e.path).sort(), [
        'note',
        'outcome',
      ]);

      const adults = await post(url, relay.teamKey, {
        outcome: 's42-enquiry',
        note: 'Section 42 enquiry opened.',
      });
      assert.equal(adults.statusCode, 201, adults.body);
      assert.deepEqual(adults.json(), {
        referralId: id,
        reference,
        team: 'birmingham-adults',
        outcome: 's42-enquiry',
        note: 'Section 42 enquiry opened.',
        recordedAt: relay.clock.now().toISOString(),
        referralStatus: 'routed',
      });
      const acks = await acksOf(id);
      assert.equal(acks.length, 1, 'an outcome implies acknowledgement');
      assert.equal(acks[0]?.team_id, 'birmingham-adults');
      assert.equal(acks[0]?.method, 'api');

      const repeat = await post(url, relay.teamKey, {
        outcome: 's42-enquiry',
        note: 'Section 42 enquiry opened.',
      });
      assert.equal(repeat.statusCode, 200);
      const conflict = await post(url, relay.teamKey, {
        outcome: 'no-further-action',
        note: 'Changed my mind.',
      });
      assert.equal(conflict.statusCode, 409);
      assert.match((conflict.json() as { type: string }).type, /state-conflict$/);

      relay.clock.advance(60_000);
      const children = await post(url, childrenKey, {
        outcome: 'advice-given',
        note: 'Advice to the family.',
      });
      assert.equal(children.statusCode, 201, children.body);
      assert.equal(children.json().referralStatus, 'closed');
      const referral = await db()
        .selectFrom('referrals')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.equal(referral.status, 'closed');
      assert.equal(referral.closed_at, relay.clock.now().toISOString());
      const outcomes = await db()
        .selectFrom('routes')
        .select(['team_id', 'outcome', 'outcome_note', 'acknowledged_at'])
        .where('referral_id', '=', id)
        .orderBy('team_id')
        .execute();
      assert.deepEqual(
        outcomes.map((r) => [r.team_id, r.outcome, r.acknowledged_at !== null]),
        [
          ['birmingham-adults', 's42-enquiry', true],
          ['birmingham-children', 'advice-given', true],
        ],
      );
      const audit = await db()
        .selectFrom('audit_log')
        .select(['action', 'detail'])
        .where('action', 'in', ['route.outcome', 'referral.closed'])
        .where('detail', 'like', `%${id}%`)
        .orderBy('seq')
        .execute();
      assert.deepEqual(
        audit.map((a) => a.action),
        ['route.outcome', 'route.outcome'],
      );
      assert.ok(
        audit.every((a) => !a.detail.includes('Advice')),
        'notes stay out of the audit log',
      );
      const closed = await db()
        .selectFrom('audit_log')
        .select('action')
        .where('entity_id', '=', id)
        .where('action', '=', 'referral.closed')
        .execute();
      assert.equal(closed.length, 1);
      const events = await db()
        .selectFrom('referral_events')
        .select('kind')
        .where('referral_id', '=', id)
        .execute();
      assert.equal(events.filter((e) => e.kind === 'outcome-recorded').length, 2);
    });
  });
});
