import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { after, afterEach, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { Watchdog } from '../../src/assurance/watchdog.runner.ts';
import { createContext } from '../../src/context.ts';
import type { Dialect } from '../../src/db/database.ts';
import { EmailChannel } from '../../src/delivery/channels/email.channel.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { DIALECTS } from '../helpers/db.ts';
import { eventually } from '../helpers/process.ts';
import { raiseDudley } from '../helpers/referrals.ts';
import { createTestRelay, testConfig, type TestRelay } from '../helpers/relay.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';

const KEY = `key-a:${randomBytes(32).toString('base64')}`;
const OTHER_KEY = `key-b:${randomBytes(32).toString('base64')}`;
const ENV = { RELAY_DATA_KEYS: KEY, RETRY_WINDOW: '10m', DELIVERY_LEASE: '1m', SEND_BY: '2m' };
const SEND_TIMEOUT_MS = 30_000;
let counter = 0;

interface Logged {
  level: 'info' | 'warn' | 'error';
  msg: string;
  obj: Record<string, unknown>;
  at: number;
}

function recordingLogger(into: Logged[]) {
  const log = (level: Logged['level']) => (obj: object, msg: string) =>
    void into.push({ level, msg, obj: obj as Record<string, unknown>, at: performance.now() });
  return { info: log('info'), warn: log('warn'), error: log('error') };
}

/**
 * Makes the database refuse a write, as a full disk, a revoked grant or a constraint would: a
 * trigger that raises. Returns what takes it away again.
 */
async function refuse(
  relay: TestRelay,
  dialect: Dialect,
  write: { table: 'deliveries' | 'delivery_attempts'; on: 'INSERT' | 'UPDATE'; when?: string },
): Promise<() => Promise<void>> {
  const db = relay.ctx.db.kysely;
  const name = `refuse_${write.table}_${write.on.toLowerCase()}`;
  const when = write.when ? `WHEN (${write.when})` : '';
  if (dialect === 'sqlite') {
    await sql
      .raw(
        `CREATE TRIGGER ${name} BEFORE ${write.on} ON ${write.table} ${when}
         BEGIN SELECT RAISE(ABORT, 'write refused by the test'); END`,
      )
      .execute(db);
    return async () => void (await sql.raw(`DROP TRIGGER ${name}`).execute(db));
  }
  await sql
    .raw(
      `CREATE OR REPLACE FUNCTION refuse_write() RETURNS trigger LANGUAGE plpgsql
       AS $$ BEGIN RAISE EXCEPTION 'write refused by the test'; END $$`,
    )
    .execute(db);
  await sql
    .raw(
      `CREATE TRIGGER ${name} BEFORE ${write.on} ON ${write.table} FOR EACH ROW ${when}
       EXECUTE FUNCTION refuse_write()`,
    )
    .execute(db);
  return async () => void (await sql.raw(`DROP TRIGGER ${name} ON ${write.table}`).execute(db));
}

for (const dialect of DIALECTS) {
  describe(`the dispatcher when things go wrong [${dialect}]`, () => {
    let relay: TestRelay;
    let smtp: TestSmtpServer;
    let email: EmailChannel;
    const logged: Logged[] = [];

    before(async () => {
      smtp = await startTestSmtpServer();
      relay = await createTestRelay(dialect, { env: ENV });
      email = new EmailChannel({ smtpUrl: smtp.url, poolSize: 2, timeoutMs: SEND_TIMEOUT_MS });
    });
    after(async () => {
      email.close();
      await relay.close();
      await smtp.close();
    });
    afterEach(() => {
      logged.length = 0;
    });

    const delivery = (id: string) =>
      relay.ctx.db.kysely.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const attempts = async (id: string) =>
      (
        await relay.ctx.db.kysely
          .selectFrom('delivery_attempts')
          .select('outcome')
          .where('delivery_id', '=', id)
          .orderBy('id')
          .execute()
      ).map((a) => a.outcome);
    const escalations = async (referralId: string) =>
      (
        await relay.ctx.db.kysely
          .selectFrom('escalations')
          .select(['reason', 'team_id'])
          .where('referral_id', '=', referralId)
          .orderBy('opened_at')
          .execute()
      ).map((e) => [e.reason, e.team_id]);
    const messagesFor = (deliveryId: string) =>
      smtp.received.filter((m) => m.parsed.headers.get('x-relay-delivery') === deliveryId);
    // One watchdog for the suite: it holds the sweep lease, which another node could not take until it ran out.
    let watchdog: Watchdog | undefined;
    const sweep = () => (watchdog ??= new Watchdog(relay.ctx, recordingLogger(logged))).runOnce();

    it('records an attempt that throws as temporary, retries it, and fails it into an escalation when the window is spent', async () => {
      const { id, deliveryId } = await raiseDudley(relay, `FAIL-${++counter}`);
      // The payload is sealed under KEY; this worker was started with only a newer key.
      const keyless = createContext(
        testConfig({ ...ENV, RELAY_DATA_KEYS: OTHER_KEY }),
        relay.database.db,
        relay.clock,
      );
      const dispatcher = new Dispatcher(keyless, {
        transports: { email },
        logger: recordingLogger(logged),
        workerId: 'w-keyless',
        random: () => 0.5,
      });

      await dispatcher.drain();
      let row = await delivery(deliveryId);
      assert.equal(row.state, 'retrying');
      assert.equal(row.last_error, 'internal error while preparing the message');
      assert.deepEqual(await attempts(deliveryId), ['temporary']);
      const crash = logged.find((l) => l.msg === 'delivery attempt crashed');
      assert.ok(crash, 'the crash is logged');
      assert.match(String(crash.obj.err), /data key "key-a"/);
      assert.doesNotMatch(JSON.stringify(logged), /Edna|Whitfield|Castle Hill|9434765919/);

      // Past its send-by deadline while still retrying: the watchdog does not wait for the window.
      relay.clock.advance(2 * 60_000 + 1);
      await sweep();
      assert.deepEqual(await escalations(id), [['not-sent', 'dudley-adults']]);

      for (let i = 0; i < 20 && row.state === 'retrying'; i++) {
        relay.clock.set(row.next_attempt_at);
        await dispatcher.drain();
        row = await delivery(deliveryId);
      }
      assert.equal(row.state, 'failed', 'the retry window of 10 minutes is spent');
      assert.ok((await attempts(deliveryId)).every((o) => o === 'temporary'));
      assert.ok(row.attempts > 1, 'it was retried');
      assert.equal(messagesFor(deliveryId).length, 0, 'nothing half-made reached the mail server');

      await sweep();
      assert.deepEqual(await escalations(id), [
        ['not-sent', 'dudley-adults'],
        ['failed', 'dudley-adults'],
      ]);
    });

    it('leaves a sent message whose outcome the database refuses to its lease, and sends it again later', async () => {
      const { deliveryId } = await raiseDudley(relay, `FAIL-${++counter}`);
      const dispatcher = new Dispatcher(relay.ctx, {
        transports: { email },
        logger: recordingLogger(logged),
        workerId: 'w-refused',
        random: () => 0.5,
      });
      const allow = await refuse(relay, dialect, { table: 'delivery_attempts', on: 'INSERT' });
      try {
        await dispatcher.drain();
      } finally {
        await allow();
      }
      assert.equal(messagesFor(deliveryId).length, 1, 'the mail server took it');
      assert.ok(
        logged.some((l) => l.msg === 'could not record attempt' && l.obj.delivery === deliveryId),
        'the lost outcome is logged',
      );
      let row = await delivery(deliveryId);
      assert.equal(row.state, 'sending', 'not lost: still under the lease');
      assert.equal(row.locked_by, 'w-refused');
      assert.deepEqual(await attempts(deliveryId), []);

      await dispatcher.drain();
      assert.equal(messagesFor(deliveryId).length, 1, 'not sent again while the lease holds');
      relay.clock.set(new Date(Date.parse(row.lease_until ?? '') + 1));
      await dispatcher.drain();
      row = await delivery(deliveryId);
      assert.equal(row.state, 'sent');
      assert.deepEqual(await attempts(deliveryId), ['sent']);
      const ids = messagesFor(deliveryId).map((m) => m.parsed.messageId);
      assert.equal(ids.length, 2, 'sent again once the lease ran out');
      assert.equal(new Set(ids).size, 1, 'with the same Message-ID, so the team sees one email');
    });

    it('backs off after failed passes instead of spinning, and resumes when the database answers', async () => {
      const ctx = createContext(
        testConfig({ ...ENV, DISPATCH_POLL: '20ms' }),
        relay.database.db,
        relay.clock,
      );
      const dispatcher = new Dispatcher(ctx, {
        transports: { email },
        logger: recordingLogger(logged),
        workerId: 'w-backoff',
      });
      const { deliveryId } = await raiseDudley(relay, `FAIL-${++counter}`);
      const failedPasses = () => logged.filter((l) => l.msg === 'dispatcher pass failed; will retry');
      const allow = await refuse(relay, dialect, {
        table: 'deliveries',
        on: 'UPDATE',
        when: "NEW.state = 'sending'",
      });
      dispatcher.start();
      try {
        try {
          await eventually(async () => failedPasses().length >= 6, 'six failed passes');
        } finally {
          await allow();
        }
        const failures = failedPasses();
        assert.deepEqual(
          failures.slice(0, 6).map((l) => l.obj.failures),
          [1, 2, 3, 4, 5, 6],
        );
        // Each wait is at least the doubled poll (a loaded machine only makes waits longer): 40, 80,
        // 160, 320, 640 ms. A dispatcher that spun would have failed hundreds of times by now.
        for (let n = 1; n < 6; n++) {
          const gap = failures[n]!.at - failures[n - 1]!.at;
          assert.ok(gap >= 20 * 2 ** n - 2, `wait after failure ${n} was ${Math.round(gap)} ms`);
        }
        await eventually(async () => (await delivery(deliveryId)).state === 'sent', 'sent once it can claim');
      } finally {
        await dispatcher.stop();
      }
      assert.deepEqual(await attempts(deliveryId), ['sent']);
    });
  });
}
