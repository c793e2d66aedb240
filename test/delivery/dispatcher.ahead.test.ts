import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, it } from 'node:test';
import { EmailChannel, type OutgoingEmail } from '../../src/delivery/channels/email.channel.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { verifyAuditChain } from '../../src/records/audit.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { raiseDudley } from '../helpers/referrals.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';

let counter = 0;

/**
 * The real email channel behind a gate: each send waits until the test lets it through, so the
 * test can see what the dispatcher holds while the SMTP server is busy.
 */
class GatedSender {
  readonly waiting: { message: OutgoingEmail; go: () => void }[] = [];
  readonly started: string[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly email: EmailChannel) {}

  async send(message: OutgoingEmail) {
    this.started.push(message.messageId);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise<void>((go) => this.waiting.push({ message, go }));
    try {
      return await this.email.send(message);
    } finally {
      this.inFlight -= 1;
    }
  }

  /** Lets the oldest waiting send go to the SMTP server. */
  releaseOne(): void {
    this.waiting.shift()?.go();
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describeEachDialect('dispatcher claims ahead of its free slots', (dialect) => {
  let relay: TestRelay;
  let smtp: TestSmtpServer;
  let email: EmailChannel;
  let sender: GatedSender;
  const warnings: string[] = [];
  const logger = {
    info: () => undefined,
    warn: (_: object, msg: string) => void warnings.push(msg),
    error: () => undefined,
  };

  before(async () => {
    smtp = await startTestSmtpServer();
    relay = await createTestRelay(dialect, {
      env: { DISPATCH_CONCURRENCY: '2', DELIVERY_LEASE: '1m', DISPATCH_POLL: '50ms' },
    });
  });
  after(async () => {
    await relay.close();
    await smtp.close();
  });
  beforeEach(() => {
    email = new EmailChannel({ smtpUrl: smtp.url, poolSize: 2, timeoutMs: 30_000 });
    sender = new GatedSender(email);
    warnings.length = 0;
  });
  afterEach(() => email.close());

  async function raise(n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await raiseDudley(relay, `AHEAD-${++counter}`)).deliveryId);
    return ids;
  }
  /** Starts a dispatcher and waits until both its slots are sends held at the gate. */
  async function startWithTwoAtServer(workerId: string): Promise<Dispatcher> {
    const dispatcher = new Dispatcher(relay.ctx, { transports: { email: sender }, logger, workerId });
    dispatcher.start();
    await until('two sends at the server', () => sender.waiting.length === 2);
    return dispatcher;
  }
  const states = async (ids: string[]) => {
    const rows = await relay.ctx.db.kysely
      .selectFrom('deliveries')
      .select(['state', 'attempts'])
      .where('id', 'in', ids)
      .execute();
    const count = (state: string) => rows.filter((r) => r.state === state).length;
    return { sending: count('sending'), queued: count('queued'), sent: count('sent'), rows };
  };

  it('holds as many claimed again as it sends, never sends more at once than its concurrency, and sends each once', async () => {
    const ids = await raise(8);
    const dispatcher = await startWithTwoAtServer('w1');
    try {
      // Two at the server and two more claimed, ready for the moment a slot frees.
      assert.deepEqual(await states(ids).then(({ sending, queued }) => ({ sending, queued })), {
        sending: 4,
        queued: 4,
      });
      for (let released = 0; released < 8; released++) {
        await until('a send to release', () => sender.waiting.length > 0);
        sender.releaseOne();
      }
      await until('all eight sent', async () => (await states(ids)).sent === 8);
    } finally {
      await dispatcher.stop();
    }
    assert.equal(sender.maxInFlight, 2);
    assert.equal(new Set(sender.started).size, 8);
    assert.equal(sender.started.length, 8, 'no message was sent twice');
    assert.ok((await states(ids)).rows.every((r) => r.attempts === 1));
    const bare = (id: string | undefined) => (id ?? '').replace(/[<>]/g, '');
    const received = new Set(smtp.received.map((r) => bare(r.parsed.messageId)));
    assert.ok(
      sender.started.every((id) => received.has(bare(id))),
      'each reached the SMTP server',
    );
    assert.equal((await verifyAuditChain(relay.ctx.db.kysely)).ok, true);
  });

  it('does not send a claimed delivery that waited past half its lease; it goes once the lease has run out', async () => {
    const ids = await raise(3);
    const dispatcher = await startWithTwoAtServer('w2');
    try {
      assert.equal((await states(ids)).sending, 3, 'the third is claimed and waits');
      relay.clock.advance(31_000); // more than half of the one-minute lease
      sender.releaseOne();
      sender.releaseOne();
      await until('the two sent', async () => (await states(ids)).sent === 2);
      await until('the warning', () => warnings.length > 0);
      assert.equal(sender.started.length, 2, 'the stale claim was not sent');
      assert.equal(
        (await states(ids)).sending,
        1,
        'it stays under its lease for the watchdog and a later claim',
      );

      relay.clock.advance(30_000); // the lease has run out
      dispatcher.nudge();
      await until('the third at the server', () => sender.waiting.length === 1);
      sender.releaseOne();
      await until('all three sent', async () => (await states(ids)).sent === 3);
    } finally {
      await dispatcher.stop();
    }
    assert.equal(sender.started.length, 3, 'each sent once');
    assert.deepEqual((await states(ids)).rows.map((r) => r.attempts).sort(), [1, 1, 2]);
    assert.match(warnings[0] ?? '', /waited past half its lease/);
  });

  it('on stop, finishes the sends at the server, gives back what it had claimed ahead at once, and claims nothing more', async () => {
    const ids = await raise(6);
    const dispatcher = await startWithTwoAtServer('w3');
    const stopped = dispatcher.stop();
    for (let released = 0; released < 2; released++) {
      await until('a send to release', () => sender.waiting.length > 0);
      sender.releaseOne();
    }
    assert.deepEqual(await stopped, { released: 2, unfinished: 0 });
    const after = await states(ids);
    assert.equal(after.sent, 2, 'the two at the server finish');
    assert.equal(sender.started.length, 2, 'nothing claimed ahead was started');
    assert.equal(after.queued, 2, 'the rest stay queued for the next worker');
    const held = await relay.ctx.db.kysely
      .selectFrom('deliveries')
      .select(['attempts', 'locked_by'])
      .where('id', 'in', ids)
      .where('state', '=', 'sending')
      .execute();
    assert.deepEqual(
      held,
      [
        { attempts: 0, locked_by: null },
        { attempts: 0, locked_by: null },
      ],
      'the two claimed ahead are given back unattempted, under no lease, for the next worker',
    );
  });
});

describeEachDialect('dispatcher after it has found nothing more due', (dialect) => {
  const POLL_MS = 4000;
  let relay: TestRelay;
  let smtp: TestSmtpServer;
  let email: EmailChannel;
  const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

  before(async () => {
    smtp = await startTestSmtpServer();
    relay = await createTestRelay(dialect, {
      env: { DISPATCH_CONCURRENCY: '2', DELIVERY_LEASE: '1m', DISPATCH_POLL: `${POLL_MS}ms` },
    });
    email = new EmailChannel({ smtpUrl: smtp.url, poolSize: 2, timeoutMs: 30_000 });
  });
  after(async () => {
    email.close();
    await relay.close();
    await smtp.close();
  });

  const stateOf = async (id: string) =>
    (
      await relay.ctx.db.kysely
        .selectFrom('deliveries')
        .select('state')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).state;
  const dueAt = (id: string, at: Date) =>
    relay.ctx.db.kysely
      .updateTable('deliveries')
      .set({ next_attempt_at: at.toISOString() })
      .where('id', '=', id)
      .execute();

  it('claims nothing when a slot frees until work is announced or the poll comes round, and then sends it', async () => {
    const first = (await raiseDudley(relay, `DRAINED-${++counter}`)).deliveryId;
    const quiet = (await raiseDudley(relay, `DRAINED-${++counter}`)).deliveryId;
    await dueAt(quiet, new Date(relay.clock.now().getTime() + 3_600_000));
    const sender = new GatedSender(email);
    const dispatcher = new Dispatcher(relay.ctx, { transports: { email: sender }, logger, workerId: 'd1' });
    dispatcher.start();
    try {
      await until('the first at the server', () => sender.waiting.length === 1);
      // Due now, as a retry comes due: no intake announced it.
      await dueAt(quiet, relay.clock.now());
      const drainedAt = Date.now();
      sender.releaseOne();
      await until('the first sent', async () => (await stateOf(first)) === 'sent');
      await new Promise((r) => setTimeout(r, 200));
      if (Date.now() - drainedAt < POLL_MS - 500) {
        assert.equal(await stateOf(quiet), 'queued', 'the freed slot did not claim it');
        assert.equal(sender.started.length, 1);
      }
      await until('the poll to claim it', () => sender.waiting.length === 1);
      assert.ok(Date.now() - drainedAt >= POLL_MS - 100, 'claimed by the poll, not by the freed slot');
      sender.releaseOne();
      await until('the quiet one sent', async () => (await stateOf(quiet)) === 'sent');

      // Announced work is claimed at once, not at the next poll.
      const announcedAt = Date.now();
      const announced = (await raiseDudley(relay, `DRAINED-${++counter}`)).deliveryId;
      await until('the announced one at the server', () => sender.waiting.length === 1);
      assert.ok(Date.now() - announcedAt < POLL_MS, 'claimed on the announcement');
      sender.releaseOne();
      await until('the announced one sent', async () => (await stateOf(announced)) === 'sent');
    } finally {
      await dispatcher.stop();
    }
    assert.equal(sender.started.length, 3, 'each sent once');
  });
});
