import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { DAILY_SUMMARY_JOB, dailySummaryJob } from '../../../src/assurance/jobs/daily-summary.job.ts';
import { openEscalation } from '../../../src/records/escalation.service.ts';
import { EmailChannel } from '../../../src/delivery/channels/email.channel.ts';
import { parseAnchor, verifyAuditChain } from '../../../src/records/audit.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { assertNothingMoreSent, startTestSmtpServer, type TestSmtpServer } from '../../helpers/smtp.ts';
import { raiseReferral } from './seed.ts';

const TO = 'safeguarding@ambulance.example';

describeEachDialect('daily summary job', (dialect) => {
  let relay: TestRelay;
  let smtp: TestSmtpServer;
  let email: EmailChannel;
  const db = () => relay.ctx.db.kysely;

  before(async () => {
    smtp = await startTestSmtpServer();
    email = new EmailChannel({ smtpUrl: smtp.url, poolSize: 1, timeoutMs: 30_000 });
    // Tuesday 24 November 2026, 10:00 London: yesterday, from the summary's point of view.
    relay = await createTestRelay(dialect, {
      now: '2026-11-24T10:00:00Z',
      env: { SAFEGUARDING_EMAIL: TO, DAILY_SUMMARY_AT: '07:00' },
    });
    const late = await raiseReferral(relay, 'SUMMARY-1');
    await raiseReferral(relay, 'SUMMARY-2');
    await raiseReferral(relay, 'SUMMARY-3');
    // Acknowledged after its four-hour deadline.
    await db()
      .updateTable('routes')
      .set({ acknowledged_at: '2026-11-24T15:00:00.000Z' })
      .where('referral_id', '=', late.id)
      .execute();
    await db()
      .transaction()
      .execute((trx) =>
        openEscalation(
          trx,
          { referralId: null, teamId: null, reason: 'volume-drop', occasion: '2026-11-23' },
          relay.clock.now(),
        ),
      );
  });
  after(async () => {
    email.close();
    await relay.close();
    await smtp.close();
  });

  it('waits for DAILY_SUMMARY_AT London time', async () => {
    relay.clock.set('2026-11-25T06:59:00Z');
    assert.equal(await dailySummaryJob(email)(relay.ctx, relay.clock.now()), 'not-yet');
    assert.equal(smtp.received.length, 0);
  });

  it("emails yesterday's counts once, with the audit head and no personal data", async () => {
    relay.clock.set('2026-11-25T07:01:00Z');
    const job = dailySummaryJob(email);
    assert.equal(await job(relay.ctx, relay.clock.now()), 'sent');
    const [message] = await smtp.waitFor(1);
    assert.ok(message);
    assert.deepEqual(message.envelopeTo, [TO]);
    const text = message.parsed.text ?? '';
    assert.match(message.parsed.subject ?? '', /daily summary — 2026-11-24 — 3 received, 2 overdue/);
    for (const line of [
      'Referrals received: 3',
      'Copies routed to teams: 3',
      'Acknowledged: 1',
      'Acknowledged late: 1',
      'Not yet acknowledged: 2',
      'Not acknowledged, past deadline: 2',
      'Sent to triage: 0',
      'Escalations open now: volume-drop: 1',
    ]) {
      assert.ok(text.includes(line), `${line} in:\n${text}`);
    }
    const chain = await verifyAuditChain(db());
    assert.ok(chain.ok);
    assert.ok(text.includes(chain.headHash), 'the audit head hash travels off-site');
    // ...as a signed anchor that relay audit verify --anchor accepts.
    const anchorLine = text.split('\n').find((line) => line.startsWith('audit-anchor/1 '));
    assert.ok(anchorLine, `an anchor line in:\n${text}`);
    const anchor = parseAnchor(anchorLine, relay.ctx.config.auditKey);
    assert.equal(anchor.hash, chain.headHash);
    assert.equal(anchor.at, '2026-11-25T07:01:00.000Z');
    assert.deepEqual(await verifyAuditChain(db(), { anchor }), chain);
    for (const personal of [
      'Edna',
      'Whitfield',
      '943 476 5919',
      '9434765919',
      'Elmdon',
      'B15 2TT',
      'nephew',
      '1939',
    ]) {
      assert.ok(!message.raw.includes(personal), `no ${personal} in the summary`);
    }

    const run = await db()
      .selectFrom('scheduled_runs')
      .selectAll()
      .where('job', '=', DAILY_SUMMARY_JOB)
      .executeTakeFirstOrThrow();
    assert.equal(run.period, '2026-11-24');
    const detail = JSON.parse(run.detail);
    assert.equal(detail.status, 'done');
    assert.equal(detail.received, 3);
    assert.equal(detail.acknowledgedLate, 1);
  });

  it('does nothing on a second call the same day, from this job or another node', async () => {
    relay.clock.set('2026-11-25T18:00:00Z');
    assert.equal(await dailySummaryJob(email)(relay.ctx, relay.clock.now()), 'not-claimed');
    await assertNothingMoreSent(email, smtp, 1);
  });

  it('is off without SAFEGUARDING_EMAIL or a mailer', async () => {
    relay.clock.set('2026-11-26T08:00:00Z');
    assert.equal(await dailySummaryJob(undefined)(relay.ctx, relay.clock.now()), 'off');
  });
});
