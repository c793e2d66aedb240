import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, it } from 'node:test';
import { openEscalation } from '../../../src/records/escalation.service.ts';
import { escalationPushJob } from '../../../src/assurance/jobs/escalation-push.job.ts';
import { MAX_PUSH_ATTEMPTS } from '../../../src/assurance/pushes/push.sender.ts';
import { EmailChannel } from '../../../src/delivery/channels/email.channel.ts';
import { HOUR } from '../../../src/time.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { parseMetrics, sample } from '../../helpers/metrics.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../../helpers/smtp.ts';
import { raiseReferral } from '../jobs/seed.ts';

const SECRET = 'pager-secret-that-is-at-least-32-characters';
const ON_CALL = 'desk@ambulance.example';

interface Page {
  body: string;
  signature: string | undefined;
}

describeEachDialect('escalation pushes to a paging gateway', (dialect) => {
  let relay: TestRelay;
  let smtp: TestSmtpServer;
  let email: EmailChannel;
  let gateway: Server;
  let status = 200;
  const pages: Page[] = [];
  const db = () => relay.ctx.db.kysely;
  const run = () => escalationPushJob(email)(relay.ctx, relay.clock.now());
  const escalate = async (referralId: string, reason: 'failed' | 'bounced') => {
    await db()
      .transaction()
      .execute((trx) =>
        openEscalation(trx, { referralId, teamId: 'birmingham-adults', reason }, relay.clock.now()),
      );
    return (
      await db()
        .selectFrom('escalations')
        .select('id')
        .where('referral_id', '=', referralId)
        .where('reason', '=', reason)
        .executeTakeFirstOrThrow()
    ).id;
  };
  const pagerPushes = (id: string) =>
    db()
      .selectFrom('escalation_pushes')
      .selectAll()
      .where('escalation_id', '=', id)
      .where('channel', '=', 'pager')
      .execute();

  before(async () => {
    gateway = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const signature = request.headers['x-relay-signature'];
        pages.push({
          body: Buffer.concat(chunks).toString('utf8'),
          signature: signature as string | undefined,
        });
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    smtp = await startTestSmtpServer();
    email = new EmailChannel({ smtpUrl: smtp.url, poolSize: 1, timeoutMs: 30_000 });
    relay = await createTestRelay(dialect, {
      env: {
        SAFEGUARDING_EMAIL: ON_CALL,
        PAGER_WEBHOOK_URL: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/page`,
        PAGER_WEBHOOK_SECRET: SECRET,
      },
    });
  });
  after(async () => {
    email.close();
    await relay.close();
    await smtp.close();
    await new Promise((resolve) => gateway.close(resolve));
  });

  it('POSTs the page signed with PAGER_WEBHOOK_SECRET: reference, reason, team, phones, link, no personal data', async () => {
    const referral = await raiseReferral(relay, 'PAGE-1');
    const id = await escalate(referral.id, 'failed');
    await run();
    assert.equal(pages.length, 1);
    const [page] = pages as [Page];
    const expected = `sha256=${createHmac('sha256', SECRET).update(page.body).digest('hex')}`;
    assert.equal(page.signature, expected, 'a gateway can verify the page came from Relay');
    const body = JSON.parse(page.body) as Record<string, unknown>;
    assert.equal(body.reference, referral.reference);
    assert.equal(body.reason, 'failed');
    assert.equal(body.team, 'birmingham-adults');
    assert.equal(body.recipient, ON_CALL);
    assert.equal(body.link, `http://relay.test/safeguarding/escalations/${id}`);
    assert.deepEqual(body.phones, [
      { label: 'Duty desk', number: '01632 960100' },
      { label: 'Team manager', number: '01632 960101' },
    ]);
    for (const p of ['Edna', 'Whitfield', '943 476 5919', 'Elmdon', 'B15 2TT', 'Priya'])
      assert.ok(!page.body.includes(p), `${p} must not be paged`);
    assert.equal((await pagerPushes(id))[0]?.state, 'sent');
    await smtp.waitFor(1);
    assert.deepEqual(smtp.received[0]?.envelopeTo, [ON_CALL], 'the email goes as well');
  });

  it('retries a gateway that fails with back-off, then keeps the failed push visible in the metrics', async () => {
    status = 503;
    const referral = await raiseReferral(relay, 'PAGE-2');
    const id = await escalate(referral.id, 'bounced');
    await run();
    let [push] = await pagerPushes(id);
    assert.equal(push?.state, 'queued');
    assert.equal(push?.attempts, 1);
    assert.equal(push?.last_error, 'HTTP 503');
    const before = pages.length;
    await run();
    assert.equal(pages.length, before, 'not retried before its back-off');
    for (let i = 1; i < MAX_PUSH_ATTEMPTS; i += 1) {
      relay.clock.advance(HOUR);
      await run();
    }
    [push] = await pagerPushes(id);
    assert.equal(push?.state, 'failed');
    assert.equal(push?.attempts, MAX_PUSH_ATTEMPTS);
    const audit = await db()
      .selectFrom('audit_log')
      .select('action')
      .where('entity_id', '=', id)
      .where('action', '=', 'escalation.push-failed')
      .execute();
    assert.equal(audit.length, 1);
    const metrics = parseMetrics((await relay.app.inject({ method: 'GET', url: '/metrics' })).body);
    assert.equal(
      sample(metrics, 'relay_escalation_pushes_undelivered', { state: 'failed', channel: 'pager' }),
      1,
    );
    assert.equal(
      sample(metrics, 'relay_escalation_pushes_undelivered', { state: 'queued', channel: 'email' }),
      0,
    );
  });
});
