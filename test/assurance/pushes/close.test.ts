import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { EmailChannel } from '../../../src/delivery/channels/email.channel.ts';
import { PERSONAL_FIELDS, unsealField } from '../../../src/records/personal-data.ts';
import { HOUR, MINUTE } from '../../../src/time.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../../helpers/smtp.ts';
import { apiClient, errorPaths } from '../api.helpers.ts';
import { passAt, sentNotAcknowledged } from './pushes.helpers.ts';

const REASON = 'Duplicate: Edna Whitfield was referred by the GP the same morning';

describeEachDialect('closing a referral with a reason ends the watch', (dialect) => {
  let relay: TestRelay;
  let smtp: TestSmtpServer;
  let email: EmailChannel;
  let api: ReturnType<typeof apiClient>;
  let key: string;
  let referral: { id: string; reference: string };
  let escalationId: string;
  const db = () => relay.ctx.db.kysely;
  const tick = (at: number) => passAt(relay, email, at);
  const escalations = () =>
    db().selectFrom('escalations').selectAll().where('referral_id', '=', referral.id).execute();
  let ackBy = 0;

  before(async () => {
    smtp = await startTestSmtpServer();
    email = new EmailChannel({ smtpUrl: smtp.url, poolSize: 1, timeoutMs: 30_000 });
    relay = await createTestRelay(dialect, {
      env: { SAFEGUARDING_EMAIL: 'desk@ambulance.example', TEST_ALERT_INTERVAL: 'off' },
    });
    api = apiClient(relay);
    key = await api.makeKey('safeguarding tooling', 'escalations:write');
    referral = await api.raise();
    ackBy = await sentNotAcknowledged(relay, referral.id);
    await tick(ackBy + MINUTE);
    const [row] = await escalations();
    assert.ok(row);
    escalationId = row.id;
    await smtp.waitFor(1);
  });
  after(async () => {
    email.close();
    await relay.close();
    await smtp.close();
  });

  it('refuses a resolution follow-up more than 24 hours away, naming the field', async () => {
    const tooLate = new Date(relay.clock.now().getTime() + 25 * HOUR).toISOString();
    const response = await api.post(`/api/v1/escalations/${escalationId}/resolve`, key, {
      by: 'Alex Morgan',
      note: 'Will try tomorrow',
      followUpAt: tooLate,
    });
    assert.equal(response.statusCode, 422, response.body);
    assert.deepEqual(errorPaths(response), ['followUpAt']);
  });

  it('needs the safeguarding scope, a name and a reason', async () => {
    const url = `/api/v1/referrals/${referral.id}/close`;
    assert.equal((await api.post(url, relay.teamKey, { by: 'Sam', reason: 'x' })).statusCode, 403);
    const missing = await api.post(url, key, {});
    assert.equal(missing.statusCode, 422, missing.body);
    assert.deepEqual(errorPaths(missing).sort(), ['by', 'reason']);
    assert.equal(
      (
        await db()
          .selectFrom('referrals')
          .select('closed_at')
          .where('id', '=', referral.id)
          .executeTakeFirstOrThrow()
      ).closed_at,
      null,
    );
  });

  it('closes the referral, keeps the reason encrypted and out of the audit log, and resolves its escalations', async () => {
    const response = await api.post(`/api/v1/referrals/${referral.reference}/close`, key, {
      by: 'Alex Morgan',
      reason: REASON,
    });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json() as Record<string, unknown>;
    assert.equal(body.status, 'closed');
    assert.equal(body.closedBy, 'Alex Morgan');
    const row = await db()
      .selectFrom('referrals')
      .selectAll()
      .where('id', '=', referral.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.status, 'closed');
    assert.ok(row.close_reason && !row.close_reason.includes('Edna'), 'the reason is stored encrypted');
    assert.equal(
      unsealField(relay.ctx.config.dataKeys, PERSONAL_FIELDS.closeReason, referral.id, row.close_reason),
      REASON,
    );
    const audit = await db()
      .selectFrom('audit_log')
      .select(['action', 'detail', 'actor'])
      .where('entity_id', '=', referral.id)
      .where('action', '=', 'referral.closed')
      .execute();
    assert.equal(audit.length, 1);
    assert.ok(!audit[0]?.detail.includes('Edna'), 'the reason is personal data: not in the audit log');
    assert.match(audit[0]?.actor ?? '', /^apikey:/);
    assert.deepEqual(
      (await escalations()).map((e) => [e.state, e.follow_up_at]),
      [['resolved', null]],
    );
    const again = await api.post(`/api/v1/referrals/${referral.id}/close`, key, {
      by: 'Alex',
      reason: 'again',
    });
    assert.equal(again.statusCode, 409);
  });

  it('opens and pushes nothing more for a closed referral, however long its route stays unacknowledged', async () => {
    const sent = smtp.received.length;
    await tick(ackBy + 6 * HOUR);
    await tick(ackBy + 30 * HOUR);
    assert.equal((await escalations()).length, 1);
    assert.equal(smtp.received.length, sent);
  });
});
