import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { after, afterEach, before, beforeEach, it } from 'node:test';
import { verifyAckToken } from '../../src/records/ack-token.ts';
import { createContext } from '../../src/context.ts';
import { EmailChannel } from '../../src/delivery/channels/email.channel.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { TEST_SECRET, testConfig, type TestRelay } from '../helpers/relay.ts';
import type { TestSmtpServer } from '../helpers/smtp.ts';
import { startWebhookRig, type Receiver, type WebhookRig } from '../helpers/webhook.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

let counter = 0;

describeEachDialect('webhook delivery to a real HTTP receiver', (dialect) => {
  let rig: WebhookRig;
  let receiver: Receiver;
  let relay: TestRelay;
  let smtp: TestSmtpServer;
  let email: EmailChannel;
  let dispatcher: Dispatcher;
  let secret: string;

  before(async () => {
    rig = await startWebhookRig(dialect, '/relay/webhook');
    ({ receiver, relay, smtp, secret } = rig);
  });
  after(async () => rig.close());
  beforeEach(() => {
    receiver.answer = { status: 200 };
    email = new EmailChannel({ smtpUrl: smtp.url, poolSize: 1, timeoutMs: 30_000 });
    dispatcher = new Dispatcher(relay.ctx, {
      transports: { email },
      logger: quiet,
      workerId: 'w1',
      random: () => 0.5,
    });
  });
  afterEach(() => email.close());

  /** Raises a Solihull adult referral and sends what is due; returns the webhook delivery. */
  async function raiseAndSend(by: Dispatcher = dispatcher) {
    counter += 1;
    const base = exampleReferral();
    const response = await relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: { authorization: `Bearer ${relay.epcrKey}` },
      payload: exampleReferral({
        source: { system: 'test-epcr', reference: `WEBHOOK-${counter}` },
        subject: {
          ...base.subject,
          address: { line1: '3 Station Road', town: 'Solihull', postcode: 'B91 3QB' },
        },
      }),
    });
    assert.equal(response.statusCode, 201);
    const doc = response.json() as {
      id: string;
      reference: string;
      deliveries: { id: string; team: string; channel: string; address: string }[];
    };
    const hook = doc.deliveries.find((d) => d.channel === 'webhook');
    assert.ok(hook, 'intake queued a webhook delivery');
    assert.equal(hook.team, 'solihull-adults');
    assert.equal(hook.address, `http://127.0.0.1:${receiver.port}/relay/webhook`);
    await by.drain();
    return { id: doc.id, reference: doc.reference, deliveryId: hook.id };
  }
  const row = (id: string) =>
    relay.ctx.db.kysely.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const inMs = (ms: number) => new Date(relay.clock.now().getTime() + ms).toISOString();

  it('POSTs the signed referral JSON, and a 200 marks the delivery sent', async () => {
    const { id, reference, deliveryId } = await raiseAndSend();
    const [hit, ...more] = receiver.for(deliveryId);
    assert.ok(hit, 'the receiver was called');
    assert.equal(more.length, 0);
    assert.equal(hit.method, 'POST');
    assert.equal(hit.url, '/relay/webhook');
    assert.match(hit.headers['content-type'] ?? '', /^application\/json/);
    assert.equal(hit.headers['x-relay-delivery'], deliveryId);
    assert.equal(hit.headers['x-relay-referral'], id);
    const signature = String(hit.headers['x-relay-signature']);
    assert.match(signature, /^sha256=[0-9a-f]{64}$/);
    const expected = `sha256=${createHmac('sha256', secret).update(hit.body).digest('hex')}`;
    assert.ok(timingSafeEqual(Buffer.from(signature), Buffer.from(expected)), 'signed over the exact body');
    const tampered = createHmac('sha256', secret).update(hit.body.replace('Edna', 'Edno')).digest('hex');
    assert.notEqual(signature, `sha256=${tampered}`);

    const body = JSON.parse(hit.body) as {
      delivery: string;
      team: string;
      referral: { id: string; reference: string; subject: { givenName: string }; concern: string };
      links: { acknowledge: string; portal: string };
    };
    assert.equal(body.delivery, deliveryId);
    assert.equal(body.team, 'solihull-adults');
    assert.equal(body.referral.id, id);
    assert.equal(body.referral.reference, reference);
    assert.equal(body.referral.subject.givenName, 'Edna');
    assert.equal(body.referral.concern, exampleReferral().concern);
    assert.equal(body.links.portal, `http://relay.test/referrals/${id}`);
    const token = body.links.acknowledge.replace('http://relay.test/ack/', '');
    assert.deepEqual(verifyAckToken(TEST_SECRET, token, relay.clock.now()), { ok: true, deliveryId });

    const sent = await row(deliveryId);
    assert.equal(sent.state, 'sent');
    assert.equal(sent.sent_at, relay.clock.now().toISOString());
    assert.equal(sent.attempts, 1);
    const attempts = await relay.ctx.db.kysely
      .selectFrom('delivery_attempts')
      .select(['outcome', 'detail'])
      .where('delivery_id', '=', deliveryId)
      .execute();
    assert.deepEqual(attempts, [{ outcome: 'sent', detail: 'HTTP 200' }]);
  });

  for (const status of [500, 503, 408]) {
    it(`retries after HTTP ${status}, then delivers the same delivery id`, async () => {
      receiver.answer = { status };
      const { deliveryId } = await raiseAndSend();
      const retrying = await row(deliveryId);
      assert.equal(retrying.state, 'retrying');
      assert.equal(retrying.last_error, `HTTP ${status}`);
      assert.equal(retrying.next_attempt_at, inMs(22_500));
      receiver.answer = { status: 200 };
      relay.clock.advance(22_500);
      await dispatcher.drain();
      const sent = await row(deliveryId);
      assert.equal(sent.state, 'sent');
      assert.equal(sent.attempts, 2);
      const hits = receiver.for(deliveryId);
      assert.equal(hits.length, 2);
      // The acknowledge link is signed afresh on each attempt; everything else is repeated as it was.
      const [first, second] = hits.map((h) => ({ ...(JSON.parse(h.body) as object), links: undefined }));
      assert.deepEqual(second, first);
    });
  }

  it('waits exactly as long as a 429 Retry-After in seconds asks', async () => {
    receiver.answer = { status: 429, headers: { 'retry-after': '120' } };
    const { deliveryId } = await raiseAndSend();
    const r = await row(deliveryId);
    assert.equal(r.state, 'retrying');
    assert.equal(r.last_error, 'HTTP 429');
    assert.equal(r.next_attempt_at, inMs(120_000));
  });

  it('reads a Retry-After given as an HTTP date against the relay clock', async () => {
    const httpDate = new Date(inMs(300_000)).toUTCString();
    receiver.answer = { status: 503, headers: { 'retry-after': httpDate } };
    const { deliveryId } = await raiseAndSend();
    assert.equal((await row(deliveryId)).next_attempt_at, new Date(httpDate).toISOString());
  });

  for (const status of [400, 404, 410]) {
    it(`fails at once on HTTP ${status}`, async () => {
      receiver.answer = { status };
      const { deliveryId } = await raiseAndSend();
      const r = await row(deliveryId);
      assert.equal(r.state, 'failed');
      assert.equal(r.last_error, `HTTP ${status}`);
      assert.equal(receiver.for(deliveryId).length, 1);
    });
  }

  it('does not follow a redirect with the referral in hand', async () => {
    receiver.answer = { status: 302, headers: { location: '/elsewhere' } };
    const { deliveryId } = await raiseAndSend();
    assert.equal((await row(deliveryId)).state, 'failed');
    assert.deepEqual(
      receiver.for(deliveryId).map((h) => h.url),
      ['/relay/webhook'],
    );
  });

  it('retries when the connection is refused', async () => {
    await receiver.close();
    // Let the client see its idle keep-alive socket close, so the attempt dials afresh and is refused.
    await new Promise((resolve) => setTimeout(resolve, 50));
    try {
      const { deliveryId } = await raiseAndSend();
      const r = await row(deliveryId);
      assert.equal(r.state, 'retrying');
      assert.equal(r.last_error, 'network: ECONNREFUSED');
      assert.equal(r.next_attempt_at, inMs(22_500));
    } finally {
      await receiver.listen();
    }
  });

  it('retries when the receiver hangs past SEND_TIMEOUT', async () => {
    receiver.answer = 'hang';
    // A receiver that never answers times out whatever the limit: a short one keeps the test quick.
    const impatient = createContext(
      testConfig({ SEND_TIMEOUT: '500ms', WEBHOOK_ALLOW_PRIVATE: 'on' }),
      relay.database.db,
      relay.clock,
    );
    const d = new Dispatcher(impatient, {
      transports: { email },
      logger: quiet,
      workerId: 'w-hang',
      random: () => 0.5,
    });
    const { deliveryId } = await raiseAndSend(d);
    const r = await row(deliveryId);
    assert.equal(r.state, 'retrying');
    assert.equal(r.last_error, 'network: timed out');
    assert.equal(receiver.for(deliveryId).length, 1, 'the request did arrive; the answer never came');
  });
});
