import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openEscalation } from '../../src/records/escalation.service.ts';
import { redirectReferral } from '../../src/response/redirect.service.ts';
import { raiseDudley } from '../helpers/referrals.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

const ROUNDS = 25;
const by = { name: 'Test Person', actor: 'test', ackMethod: 'inbox' as const };

/**
 * A redirect and a sweep's escalation on the same referral, at the same moment. Before changeReferral
 * the redirect locked the referral row and then waited for the audit head, while the escalation held
 * the head and waited for the row: PostgreSQL broke the cycle by failing one (40P01). Only
 * PostgreSQL has row locks to invert, so the suite runs there.
 */
describe(
  'a redirect and an escalation at once take their locks in one order [postgres]',
  {
    skip: process.env.TEST_DATABASE_URL ? false : 'needs PostgreSQL (TEST_DATABASE_URL)',
  },
  () => {
    let relay: TestRelay;
    before(async () => {
      relay = await createTestRelay('postgres');
    });
    after(async () => {
      await relay?.close();
    });

    it(`${ROUNDS} rounds: both succeed every time, and no deadlock is reported`, async () => {
      const failures: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const referral = await raiseDudley(relay, `lock-order-${process.pid}-${round}`);
        const now = relay.clock.now();
        const outcomes = await Promise.allSettled([
          redirectReferral(relay.ctx, referral.id, 'dudley-adults', 'coventry-adults', 'Moved', by),
          relay.ctx.db.kysely
            .transaction()
            .execute((trx) =>
              openEscalation(
                trx,
                { referralId: referral.id, teamId: 'dudley-adults', reason: 'not-acknowledged' },
                now,
              ),
            ),
        ]);
        for (const o of outcomes) {
          if (o.status === 'rejected') {
            const e = o.reason as { code?: string; message?: string };
            failures.push(`round ${round}: ${e.code ?? ''} ${e.message ?? String(o.reason)}`);
          }
        }
        assert.deepEqual(failures, [], 'every redirect and escalation committed');
        const routes = await relay.ctx.db.kysely
          .selectFrom('routes')
          .select(['team_id', 'outcome'])
          .where('referral_id', '=', referral.id)
          .orderBy('position')
          .execute();
        assert.deepEqual(
          routes.map((r) => [r.team_id, r.outcome]),
          [
            ['dudley-adults', 'redirected'],
            ['coventry-adults', null],
          ],
        );
      }
      assert.deepEqual(failures, [], 'every redirect and escalation committed');
    });
  },
);
