import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { escalationPushJob } from '../../../src/assurance/jobs/escalation-push.job.ts';
import { sweep } from '../../../src/assurance/watchdog.ts';
import { EmailChannel } from '../../../src/delivery/channels/email.channel.ts';
import { HOUR, MINUTE } from '../../../src/time.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../../helpers/smtp.ts';
import { signedIn, type Browser } from '../../helpers/web.ts';
import { raise } from '../../helpers/referrals.ts';

const DESK = 'desk@ambulance.example';

describeEachDialect('the escalation page and closing a referral', (dialect) => {
  let relay: TestRelay;
  let smtp: TestSmtpServer;
  let email: EmailChannel;
  let browser: Browser;
  let referral: { id: string; reference: string };
  const db = () => relay.ctx.db.kysely;
  const run = async () => {
    await sweep(relay.ctx);
    await escalationPushJob(email)(relay.ctx, relay.clock.now());
  };
  const notAcknowledged = () =>
    db()
      .selectFrom('escalations')
      .selectAll()
      .where('referral_id', '=', referral.id)
      .where('reason', '=', 'not-acknowledged')
      .orderBy('opened_at')
      .execute();

  before(async () => {
    smtp = await startTestSmtpServer();
    email = new EmailChannel({ smtpUrl: smtp.url, poolSize: 1, timeoutMs: 30_000 });
    relay = await createTestRelay(dialect, {
      env: {
        SAFEGUARDING_EMAIL: DESK,
        ESCALATION_LADDER: 'lead@ambulance.example',
        TEST_ALERT_INTERVAL: 'off',
      },
    });
    referral = await raise(relay);
    await db()
      .updateTable('deliveries')
      .set({ state: 'sent' })
      .where('referral_id', '=', referral.id)
      .execute();
    relay.clock.advance(4 * HOUR + MINUTE);
    // The desk's mail server refuses the first push for good: the page must show it.
    smtp.setMode('550', 1);
    await run();
    browser = (await signedIn(relay, { roles: ['safeguarding'], name: 'Sam Safeguarding' })).browser;
  });
  after(async () => {
    email.close();
    await relay.close();
    await smtp.close();
  });

  it('shows the escalation, its pushes (one not delivered), its history; not kept by the browser', async () => {
    const [e] = await notAcknowledged();
    assert.ok(e);
    const response = await browser.get(`/safeguarding/escalations/${e.id}`);
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers['cache-control'], 'no-store');
    const body = response.body;
    assert.match(body, /Not acknowledged by the deadline/);
    assert.match(body, /A push was not delivered/);
    assert.match(body, new RegExp(`${DESK} <span[^>]*>\\(On call\\)</span>`));
    assert.match(body, /Not delivered \(1 attempts: /);
    assert.match(body, /Duty desk: <a href="tel:01632960100">/);
    assert.match(body, /Assigned: desk@ambulance.example/);
    assert.match(body, /Claim escalation/);
    const main = body.split('<main')[1]?.split('</main>')[0] ?? '';
    assert.doesNotMatch(main, /<script/, 'no script in the page itself');
  });

  it('claims from the page and comes back to it', async () => {
    const [e] = await notAcknowledged();
    assert.ok(e);
    const response = await browser.post(`/safeguarding/escalations/${e.id}/claim`, { from: 'page' });
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, `/safeguarding/escalations/${e.id}`);
    const page = await browser.get(`/safeguarding/escalations/${e.id}`);
    assert.match(page.body, /Claimed by\s*<\/dt>\s*<dd[^>]*>\s*Sam Safeguarding/);
    const again = await browser.post(`/safeguarding/escalations/${e.id}/claim`, { from: 'page' });
    assert.equal(again.statusCode, 409);
    assert.match(again.body, /already claimed by Sam Safeguarding/);
  });

  it('resolves with a follow-up time, names a bad one beside the field, and shows the re-opened escalation linked', async () => {
    const [e] = await notAcknowledged();
    assert.ok(e);
    const form = await browser.get(`/safeguarding/escalations/${e.id}/resolve`);
    assert.match(form.body, /When should Relay look again\?/);
    const bad = await browser.post(`/safeguarding/escalations/${e.id}/resolve`, {
      note: 'Left a voicemail, will try later',
      followUp: 'next-week',
    });
    assert.equal(bad.statusCode, 422);
    assert.match(bad.body, /id="follow-up-error"[\s\S]*Choose when Relay should look again from the list/);
    const done = await browser.post(`/safeguarding/escalations/${e.id}/resolve`, {
      note: 'Left a voicemail, will try later',
      followUp: '15m',
    });
    assert.equal(done.statusCode, 303, done.body);
    const [resolved] = await notAcknowledged();
    assert.equal(resolved?.follow_up_at, new Date(relay.clock.now().getTime() + 15 * MINUTE).toISOString());
    relay.clock.advance(15 * MINUTE);
    await run();
    const [, again] = await notAcknowledged();
    assert.ok(again, 're-opened at the chosen time');
    const page = await browser.get(`/safeguarding/escalations/${again.id}`);
    assert.match(page.body, /Opened again/);
    assert.match(page.body, new RegExp(`<a href="/safeguarding/escalations/${e.id}">Escalation opened`));
    assert.match(page.body, /resolved by Sam Safeguarding/);
    assert.match(page.body, /Re-opened/);
  });

  it('closes the referral with a reason from its page, the reason beside the field when missing', async () => {
    const form = await browser.get(`/safeguarding/referrals/${referral.id}/close`);
    assert.equal(form.statusCode, 200);
    assert.equal(form.headers['cache-control'], 'no-store');
    const empty = await browser.post(`/safeguarding/referrals/${referral.id}/close`, { reason: '' });
    assert.equal(empty.statusCode, 422);
    assert.match(empty.body, /id="reason-error"[\s\S]*Enter why the referral is closed/);
    const closed = await browser.post(`/safeguarding/referrals/${referral.id}/close`, {
      reason: 'Duplicate of a referral the GP made the same morning',
    });
    assert.equal(closed.statusCode, 303, closed.body);
    const row = await db()
      .selectFrom('referrals')
      .selectAll()
      .where('id', '=', referral.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.status, 'closed');
    assert.equal(row.closed_by, 'Sam Safeguarding');
    assert.ok((await notAcknowledged()).every((e) => e.state === 'resolved' && e.follow_up_at === null));
    const audit = await db()
      .selectFrom('audit_log')
      .select('actor')
      .where('action', '=', 'referral.closed')
      .where('entity_id', '=', referral.id)
      .executeTakeFirstOrThrow();
    assert.match(audit.actor, /^user:/);
    const page = await browser.get(`/safeguarding/referrals/${referral.id}`);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(
      page.body,
      /Closed by Sam Safeguarding on [^:]+:\d\d: Duplicate of a referral the GP made the same morning/,
    );
    assert.doesNotMatch(page.body, /Close this referral/);
  });
});
