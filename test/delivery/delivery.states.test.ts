import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DELIVERY_STATES, type DeliveryState } from '../../src/db/codes.ts';
import {
  assertTransition,
  canTransition,
  IllegalTransitionError,
  UNFINISHED_STATES,
} from '../../src/records/delivery.states.ts';
import { transitionDelivery } from '../../src/records/delivery.transitions.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { DIALECTS } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

/**
 * docs/architecture.md (Delivery states), written out by hand rather than read from the code under test:
 * queued → sending → sent → acknowledged; sending → retrying → sending; → failed (permanent error
 * or window spent); sent → bounced; → cancelled only by a redirect, from a delivery still live.
 * A lease that runs out is claimed again (sending → sending), and an acknowledgement can arrive by
 * phone before or after this channel did its part, so every state short of cancelled may become
 * acknowledged. Nothing leaves acknowledged or cancelled.
 */
const EXPECTED: Record<DeliveryState, DeliveryState[]> = {
  queued: ['sending', 'acknowledged', 'cancelled'],
  sending: ['sending', 'sent', 'retrying', 'failed', 'acknowledged', 'cancelled'],
  retrying: ['sending', 'failed', 'acknowledged', 'cancelled'],
  sent: ['acknowledged', 'bounced', 'cancelled'],
  acknowledged: [],
  failed: ['acknowledged'],
  bounced: ['acknowledged'],
  cancelled: [],
};

describe('delivery state machine', () => {
  it('knows exactly the eight states of docs/architecture.md', () => {
    assert.deepEqual([...DELIVERY_STATES].sort(), [
      'acknowledged',
      'bounced',
      'cancelled',
      'failed',
      'queued',
      'retrying',
      'sending',
      'sent',
    ]);
  });

  for (const from of DELIVERY_STATES) {
    for (const to of DELIVERY_STATES) {
      const allowed = EXPECTED[from].includes(to);
      it(`${allowed ? 'allows' : 'refuses'} ${from} → ${to}`, () => {
        assert.equal(canTransition(from, to), allowed);
        if (allowed) assert.doesNotThrow(() => assertTransition(from, to));
        else {
          assert.throws(
            () => assertTransition(from, to),
            (e: unknown) =>
              e instanceof IllegalTransitionError &&
              e.from === from &&
              e.to === to &&
              e.message === `A delivery cannot go from ${from} to ${to}`,
          );
        }
      });
    }
  }

  it('cancels only a delivery that is still live', () => {
    const cancellable = DELIVERY_STATES.filter((s) => canTransition(s, 'cancelled'));
    assert.deepEqual(cancellable, ['queued', 'sending', 'retrying', 'sent']);
  });

  it('lets nothing leave acknowledged or cancelled', () => {
    for (const to of DELIVERY_STATES) {
      assert.equal(canTransition('acknowledged', to), false, `acknowledged → ${to}`);
      assert.equal(canTransition('cancelled', to), false, `cancelled → ${to}`);
    }
  });

  it('never goes back to queued, and reaches sent and bounced only by their one road', () => {
    for (const from of DELIVERY_STATES) {
      assert.equal(canTransition(from, 'queued'), false, `${from} → queued`);
      assert.equal(canTransition(from, 'sent'), from === 'sending', `${from} → sent`);
      assert.equal(canTransition(from, 'bounced'), from === 'sent', `${from} → bounced`);
      assert.equal(canTransition(from, 'retrying'), from === 'sending', `${from} → retrying`);
    }
  });

  it('throws IllegalTransitionError for a state it does not know', () => {
    for (const from of ['', 'QUEUED', 'delivered', 'pending', 'constructor', '__proto__']) {
      assert.throws(
        () => assertTransition(from, 'sending'),
        (e: unknown) => e instanceof IllegalTransitionError && e.from === from && e.to === 'sending',
        `from "${from}"`,
      );
    }
    assert.throws(
      () => assertTransition('queued', 'delivered' as DeliveryState),
      (e: unknown) => e instanceof IllegalTransitionError && e.to === 'delivered',
    );
  });

  it('counts queued, sending and retrying as still to reach the team', () => {
    assert.deepEqual([...UNFINISHED_STATES].sort(), ['queued', 'retrying', 'sending']);
  });
});

for (const dialect of DIALECTS) {
  describe(`transitionDelivery enforces the table on the row [${dialect}]`, () => {
    let relay: TestRelay;
    before(async () => {
      relay = await createTestRelay(dialect);
    });
    after(() => relay.close());

    it('refuses to acknowledge a cancelled delivery and leaves the row and its timeline alone', async () => {
      const response = await relay.app.inject({
        method: 'POST',
        url: '/api/v1/referrals',
        headers: { authorization: `Bearer ${relay.epcrKey}` },
        payload: exampleReferral({ source: { system: 'test-epcr', reference: 'STATES-1' } }),
      });
      assert.equal(response.statusCode, 201);
      const deliveryId = (response.json() as { deliveries: { id: string }[] }).deliveries[0]!.id;
      const db = relay.ctx.db.kysely;
      const change = (to: DeliveryState) =>
        db
          .transaction()
          .execute((trx) =>
            transitionDelivery(trx, { deliveryId, to, now: relay.clock.now(), actor: 'user:test' }),
          );
      await assert.rejects(change('sent'), IllegalTransitionError, 'queued → sent skips sending');
      assert.equal(await change('cancelled'), 'done');
      const events = async () =>
        (await db.selectFrom('referral_events').select('kind').execute()).map((e) => e.kind);
      const before = await events();
      await assert.rejects(change('acknowledged'), IllegalTransitionError);
      await assert.rejects(change('sending'), IllegalTransitionError);
      const row = await db
        .selectFrom('deliveries')
        .selectAll()
        .where('id', '=', deliveryId)
        .executeTakeFirstOrThrow();
      assert.equal(row.state, 'cancelled');
      assert.deepEqual(await events(), before, 'a refused change writes no timeline event');
    });
  });
}
