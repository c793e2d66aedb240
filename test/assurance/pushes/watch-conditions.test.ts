import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openEscalation } from '../../../src/records/escalation.service.ts';
import { resolveEscalation } from '../../../src/assurance/escalation.resolve.ts';
import { escalationPushJob } from '../../../src/assurance/jobs/escalation-push.job.ts';
import { sweep } from '../../../src/assurance/watchdog.ts';
import { EmailChannel } from '../../../src/delivery/channels/email.channel.ts';
import { HOUR, MINUTE } from '../../../src/time.ts';
import { DIALECTS } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../../helpers/smtp.ts';
import { outsideCoverage, raise } from '../../web/safeguarding/helpers.ts';
import type { EscalationReason } from '../../../src/db/codes.ts';

const DESK = 'desk@ambulance.example';
const LEAD = 'lead@ambulance.example';
const BY = { name: 'Alex Morgan', actor: 'user:alex' };

for (const dialect of DIALECTS) {
  describe(`what ends the watch, reason by reason; the ladder for immediate referrals [${dialect}]`, () => {
    let relay: TestRelay;
    let smtp: TestSmtpServer;
    let email: EmailChannel;
    const db = () => relay.ctx.db.kysely;
    const tick = async (ms: number) => {
      relay.clock.advance(ms);
      await sweep(relay.ctx);
      await escalationPushJob(email)(relay.ctx, relay.clock.now());
    };
    const chain = (referralId: string, reason: EscalationReason) =>
      db()
        .selectFrom('escalations')
        .selectAll()
        .where('referral_id', '=', referralId)
        .where('reason', '=', reason)
        .orderBy('opened_at')
        .execute();
    const resolveLatest = async (referralId: string, reason: EscalationReason) => {
      const rows = await chain(referralId, reason);
      const open = rows.find((r) => r.state !== 'resolved');
      assert.ok(open, `an open ${reason} escalation`);
      await resolveEscalation(relay.ctx, open.id, { note: 'Will try later', by: BY });
    };

    before(async () => {
      smtp = await startTestSmtpServer();
      email = new EmailChannel({ smtpUrl: smtp.url, poolSize: 1, timeoutMs: 30_000 });
      relay = await createTestRelay(dialect, {
        env: { SAFEGUARDING_EMAIL: DESK, ESCALATION_LADDER: LEAD, TEST_ALERT_INTERVAL: 'off' },
      });
    });
    after(async () => {
      email.close();
      await relay.close();
      await smtp.close();
    });

    it('re-opens triage-overdue while the referral is still in triage', async () => {
      const referral = await raise(relay, outsideCoverage());
      await tick(30 * MINUTE + MINUTE);
      assert.equal((await chain(referral.id, 'triage-overdue')).length, 1);
      await resolveLatest(referral.id, 'triage-overdue');
      await tick(HOUR);
      const rows = await chain(referral.id, 'triage-overdue');
      assert.deepEqual(
        rows.map((r) => [r.state, r.previous_id]),
        [
          ['resolved', null],
          ['open', rows[0]?.id],
        ],
      );
      assert.equal(rows[1]?.assigned_to, DESK);
    });

    it('re-opens a failed delivery while it stays failed, and stops once a delivery succeeds', async () => {
      const referral = await raise(relay);
      await db()
        .updateTable('deliveries')
        .set({ state: 'failed' })
        .where('referral_id', '=', referral.id)
        .execute();
      await tick(MINUTE);
      await resolveLatest(referral.id, 'failed');
      await tick(HOUR);
      assert.equal((await chain(referral.id, 'failed')).length, 2, 'still failed: opened again');
      await resolveLatest(referral.id, 'failed');
      // Sent again by hand (a redirect or a retry), and this time it went.
      await db()
        .updateTable('deliveries')
        .set({ state: 'sent' })
        .where('referral_id', '=', referral.id)
        .execute();
      await tick(HOUR);
      const rows = await chain(referral.id, 'failed');
      assert.equal(rows.length, 2, 'a successful delivery ends the watch');
      assert.ok(rows.every((r) => r.state === 'resolved' && r.follow_up_at === null));
    });

    it('climbs the ladder after a third of ESCALATION_CLAIM_BY for an immediate referral', async () => {
      const referral = await raise(relay, { urgency: 'immediate' });
      await db()
        .transaction()
        .execute((trx) =>
          openEscalation(
            trx,
            { referralId: referral.id, teamId: 'birmingham-adults', reason: 'bounced' },
            relay.clock.now(),
          ),
        );
      await tick(0);
      const [row] = await chain(referral.id, 'bounced');
      assert.equal(row?.rung, 0);
      await tick(5 * MINUTE - 1000);
      assert.equal((await chain(referral.id, 'bounced'))[0]?.rung, 0);
      await tick(1000);
      assert.equal((await chain(referral.id, 'bounced'))[0]?.rung, 1, 'five minutes, not fifteen');
      const pushes = await db()
        .selectFrom('escalation_pushes')
        .select(['recipient', 'state'])
        .where('escalation_id', '=', row?.id ?? '')
        .orderBy('created_at')
        .execute();
      assert.deepEqual(
        pushes.map((p) => [p.recipient, p.state]),
        [
          [DESK, 'sent'],
          [LEAD, 'sent'],
        ],
      );
    });
  });
}
