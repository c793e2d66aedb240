import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, it } from 'node:test';
import { EmailChannel } from '../../src/delivery/channels/email.channel.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { claimDue } from '../../src/delivery/outbox.repository.ts';
import { transitionDelivery } from '../../src/records/delivery.transitions.ts';
import { verifyAuditChain } from '../../src/records/audit.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { raiseDudley } from '../helpers/referrals.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
/** Generous, so that a loaded machine never turns a send that succeeds into a time-out. */
const SEND_TIMEOUT_MS = 30_000;
/** For the one server that never answers: any time-out will do, so a short one keeps the test quick. */
const STALL_TIMEOUT_MS = 700;
let counter = 0;

describeEachDialect('dispatcher against a real SMTP server', (dialect) => {
  let relay: TestRelay;
  let smtp: TestSmtpServer;
  let email: EmailChannel;
  let dispatcher: Dispatcher;

  before(async () => {
    smtp = await startTestSmtpServer();
    relay = await createTestRelay(dialect, {
      env: {
        SEND_TIMEOUT: '30s',
        RETRY_WINDOW: '10m',
        BOUNCE_DOMAIN: 'bounces.relay.test',
        DELIVERY_LEASE: '1m',
      },
    });
  });
  after(async () => {
    await relay.close();
    await smtp.close();
  });
  beforeEach(() => {
    smtp.setMode('accept');
    email = new EmailChannel({ smtpUrl: smtp.url, poolSize: 2, timeoutMs: SEND_TIMEOUT_MS });
    dispatcher = new Dispatcher(relay.ctx, {
      transports: { email },
      logger: quiet,
      workerId: 'w1',
      random: () => 0.5,
    });
  });
  afterEach(() => email.close());

  const raise = () => raiseDudley(relay, `DISPATCH-${++counter}`);
  const delivery = (id: string) =>
    relay.ctx.db.kysely.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const attempts = (id: string) =>
    relay.ctx.db.kysely
      .selectFrom('delivery_attempts')
      .selectAll()
      .where('delivery_id', '=', id)
      .orderBy('id')
      .execute();

  it('sends the email as docs/architecture.md, Delivery, describes and records the attempt', async () => {
    const before = smtp.received.length;
    const { id, reference, deliveryId } = await raise();
    await dispatcher.drain();
    const row = await delivery(deliveryId);
    assert.equal(row.state, 'sent');
    assert.equal(row.sent_at, relay.clock.now().toISOString());
    assert.equal(row.locked_by, null);
    const [attempt] = await attempts(deliveryId);
    assert.equal(attempt?.outcome, 'sent');
    assert.match(attempt?.detail ?? '', /^250/);
    const message = smtp.received[before]!;
    assert.equal(
      message.parsed.subject,
      `[secure] Safeguarding referral ${reference} — URGENT — adult — Dudley`,
    );
    assert.equal(message.envelopeFrom, `bounce+${deliveryId}@bounces.relay.test`);
    assert.deepEqual(message.envelopeTo, ['adults.dudley@example.org']);
    assert.equal(message.parsed.messageId, `<${deliveryId}@bounces.relay.test>`);
    assert.equal(message.parsed.headers.get('x-relay-delivery'), deliveryId);
    assert.equal(message.parsed.headers.get('x-relay-referral'), id);
    assert.match(message.parsed.text ?? '', /Acknowledge receipt: http:\/\/relay\.test\/ack\/[\w-]+\.[\w-]+/);
    assert.match(message.parsed.text ?? '', new RegExp(`http://relay.test/referrals/${id}`));
    assert.ok(message.parsed.html, 'has an HTML part');
    for (const personal of ['Edna', 'Whitfield', '9434765919', 'Castle Hill', 'DY1 4QF', '1939', 'pension']) {
      assert.equal(message.raw.includes(personal), false, `minimal email leaks ${personal}`);
    }
    const doc = await relay.app.inject({
      method: 'GET',
      url: `/api/v1/referrals/${id}`,
      headers: { authorization: `Bearer ${relay.epcrKey}` },
    });
    assert.equal(doc.json().status, 'sent');
    assert.ok((doc.json().timeline as { kind: string }[]).some((e) => e.kind === 'delivery-sent'));
    assert.equal((await verifyAuditChain(relay.ctx.db.kysely)).ok, true);
  });

  for (const code of ['421', '451'] as const) {
    it(`retries after ${code} with back-off, then sends`, async () => {
      smtp.setMode(code, 1);
      const { deliveryId } = await raise();
      await dispatcher.drain();
      let row = await delivery(deliveryId);
      assert.equal(row.state, 'retrying');
      assert.equal(row.attempts, 1);
      assert.match(row.last_error ?? '', new RegExp(`^${code}`));
      // First retry: 30 s base × jitter factor 0.75 (random pinned at 0.5).
      const expected = new Date(relay.clock.now().getTime() + 22_500).toISOString();
      assert.equal(row.next_attempt_at, expected);
      await dispatcher.drain();
      assert.equal((await delivery(deliveryId)).state, 'retrying', 'not retried before its time');
      relay.clock.advance(22_500);
      await dispatcher.drain();
      row = await delivery(deliveryId);
      assert.equal(row.state, 'sent');
      assert.equal(row.attempts, 2);
      assert.deepEqual(
        (await attempts(deliveryId)).map((a) => a.outcome),
        ['temporary', 'sent'],
      );
    });
  }

  for (const code of ['550', '554'] as const) {
    it(`fails at once on ${code}`, async () => {
      smtp.setMode(code, 1);
      const { deliveryId } = await raise();
      await dispatcher.drain();
      const row = await delivery(deliveryId);
      assert.equal(row.state, 'failed');
      assert.equal(row.attempts, 1);
      assert.match(row.last_error ?? '', new RegExp(`^${code}`));
    });
  }

  it('retries when the connection drops in the middle of DATA', async () => {
    smtp.setMode('drop', 1);
    const { deliveryId } = await raise();
    await dispatcher.drain();
    const row = await delivery(deliveryId);
    assert.equal(row.state, 'retrying');
    assert.ok(row.last_error, 'the error is recorded');
  });

  it('retries when the server stalls past the time-out', async () => {
    smtp.setMode('stall', 1);
    const impatient = new EmailChannel({ smtpUrl: smtp.url, poolSize: 1, timeoutMs: STALL_TIMEOUT_MS });
    const d = new Dispatcher(relay.ctx, {
      transports: { email: impatient },
      logger: quiet,
      workerId: 'w-stall',
      random: () => 0.5,
    });
    const { deliveryId } = await raise();
    await d.drain();
    impatient.close();
    const row = await delivery(deliveryId);
    assert.equal(row.state, 'retrying');
    assert.match(row.last_error ?? '', /ETIMEDOUT|timeout|ECONNECTION/i);
  });

  it('retries a refused connection', async () => {
    const closed = await startTestSmtpServer();
    await closed.close();
    const dead = new EmailChannel({ smtpUrl: closed.url, poolSize: 1, timeoutMs: SEND_TIMEOUT_MS });
    const d = new Dispatcher(relay.ctx, {
      transports: { email: dead },
      logger: quiet,
      workerId: 'w-dead',
      random: () => 0.5,
    });
    const { deliveryId } = await raise();
    await d.drain();
    dead.close();
    const row = await delivery(deliveryId);
    assert.equal(row.state, 'retrying');
    assert.match(row.last_error ?? '', /ECONNREFUSED|ECONNECTION/);
  });

  it('fails when the retry window is spent, with the doubling back-off on the way', async () => {
    smtp.setMode('451');
    const { deliveryId } = await raise();
    const created = relay.clock.now().getTime();
    const waits: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      await dispatcher.drain();
      const row = await delivery(deliveryId);
      if (row.state !== 'retrying') break;
      const wait = new Date(row.next_attempt_at).getTime() - relay.clock.now().getTime();
      waits.push(wait);
      relay.clock.advance(wait);
    }
    const row = await delivery(deliveryId);
    assert.equal(row.state, 'failed');
    assert.deepEqual(waits, [22_500, 45_000, 90_000, 180_000]);
    assert.ok(relay.clock.now().getTime() - created <= 10 * 60_000);
    smtp.setMode('accept');
  });

  it('lets only the lease holder finish a delivery, and hands an expired lease to another worker', async () => {
    const { deliveryId } = await raise();
    const db = relay.ctx.db;
    const claimedA = await claimDue(db.kysely, db.dialect, 'worker-a', relay.clock.now(), 60_000, 10);
    assert.ok(claimedA.some((d) => d.id === deliveryId));
    const stillLeased = await claimDue(db.kysely, db.dialect, 'worker-b', relay.clock.now(), 60_000, 10);
    assert.equal(
      stillLeased.some((d) => d.id === deliveryId),
      false,
      'a live lease is not taken',
    );
    relay.clock.advance(60_001);
    const claimedB = await claimDue(db.kysely, db.dialect, 'worker-b', relay.clock.now(), 60_000, 10);
    assert.ok(
      claimedB.some((d) => d.id === deliveryId),
      'an expired lease is reclaimed',
    );
    const late = await db.kysely.transaction().execute((trx) =>
      transitionDelivery(trx, {
        deliveryId,
        to: 'sent',
        now: relay.clock.now(),
        actor: 'worker:worker-a',
        leaseHolder: 'worker-a',
      }),
    );
    assert.equal(late, 'lease-lost');
    const row = await delivery(deliveryId);
    assert.equal(row.state, 'sending');
    assert.equal(row.locked_by, 'worker-b');
    assert.equal(row.attempts, 2);
    // A delivery being sent is next due when its lease runs out: the claims in a burst find the
    // waiting ones first instead of stepping over every one in flight.
    assert.equal(row.next_attempt_at, row.lease_until);
    await dispatcher.drain(); // nothing due for w1 while worker-b holds it
    assert.equal((await delivery(deliveryId)).locked_by, 'worker-b');
    relay.clock.advance(60_001);
    await dispatcher.drain();
    assert.equal((await delivery(deliveryId)).state, 'sent');
  });
});
