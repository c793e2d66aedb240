import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { reconnectDelay, startNotifications, type Notifications } from '../../src/cluster/notify.ts';
import { createContext } from '../../src/context.ts';
import { openDatabase, type Db } from '../../src/db/database.ts';
import { EmailChannel } from '../../src/delivery/channels/email.channel.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { eventually } from '../helpers/process.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';

const SKIP = process.env.TEST_DATABASE_URL
  ? false
  : 'LISTEN/NOTIFY is PostgreSQL-only: set TEST_DATABASE_URL (CI does) to run it';
/** Far longer than the test could wait, so only a notification can explain a send. */
const POLL = '1h';
/** A ceiling for the send, generous for a loaded machine and still a minute short of the poll. */
const PROMPT_MS = 60_000;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('reconnect back-off', () => {
  it('doubles from a quarter second to ten seconds, with jitter below the ceiling', () => {
    assert.equal(
      reconnectDelay(1, () => 1),
      250,
    );
    assert.equal(
      reconnectDelay(2, () => 1),
      500,
    );
    assert.equal(
      reconnectDelay(3, () => 0),
      500,
    );
    assert.equal(
      reconnectDelay(20, () => 1),
      10_000,
    );
    assert.equal(
      reconnectDelay(20, () => 0),
      5_000,
    );
  });
});

describe('deliveries announced across nodes with LISTEN/NOTIFY [postgres]', { skip: SKIP }, () => {
  let relay: TestRelay;
  let smtp: TestSmtpServer;
  let workerDb: Db;
  let email: EmailChannel;
  let dispatcher: Dispatcher;
  let web: Notifications;
  let worker: Notifications;
  let counter = 0;
  let passes = 0;

  before(async () => {
    smtp = await startTestSmtpServer();
    // The web node: intake only, announcing what it queued.
    relay = await createTestRelay('postgres', { env: { DISPATCH_POLL: POLL } });
    web = startNotifications(relay.ctx, { logger: quiet });
    // The worker node: its own pool and signals on the same schema, as another process would have.
    workerDb = openDatabase(relay.database.url, { pgSchema: relay.database.pgSchema as string });
    const workerCtx = createContext(relay.ctx.config, workerDb, relay.clock);
    email = new EmailChannel({ smtpUrl: smtp.url, poolSize: 2, timeoutMs: 30_000 });
    dispatcher = new Dispatcher(workerCtx, {
      transports: { email },
      logger: quiet,
      onPass: () => (passes += 1),
    });
    worker = startNotifications(workerCtx, { logger: quiet, wake: () => dispatcher.nudge() });
    dispatcher.start();
    await eventually(async () => worker.listenerPid() !== undefined, 'the worker listens');
  });
  after(async () => {
    await web.stop();
    await worker.stop();
    await dispatcher.stop();
    email.close();
    await workerDb.close();
    await relay.close();
    await smtp.close();
  });

  async function raise(): Promise<string> {
    counter += 1;
    const base = exampleReferral();
    const response = await relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: { authorization: `Bearer ${relay.epcrKey}` },
      payload: exampleReferral({
        source: { system: 'test-epcr', reference: `NOTIFY-${counter}` },
        subject: {
          ...base.subject,
          address: { line1: '1 Castle Hill', town: 'Dudley', postcode: 'DY1 4QF' },
        },
      }),
    });
    assert.equal(response.statusCode, 201, response.body);
    return (response.json() as { id: string }).id;
  }
  const reached = (id: string) => smtp.received.some((m) => m.parsed.headers.get('x-relay-referral') === id);

  it("a referral taken by one node is sent by another node's worker at once, not at its poll", async () => {
    // The worker's first pass and the one its wake-on-connect asks for are over: it sleeps until
    // its hour-long poll, so only the notification can wake it.
    await eventually(async () => passes >= 2, "the worker's first passes");
    const id = await raise();
    await eventually(async () => reached(id), 'the worker sent it', PROMPT_MS);
  });

  it('listens again after losing its connection, and catches up on what it missed', async () => {
    const before = worker.listenerPid();
    assert.ok(before);
    const admin = new pg.Client({ connectionString: relay.database.url });
    await admin.connect();
    await admin.query('select pg_terminate_backend($1)', [before]);
    await admin.end();
    // Queued while the worker may not be listening: announced to nobody, or heard after reconnecting.
    const missed = await raise();
    await eventually(async () => reached(missed), 'the missed referral was sent', PROMPT_MS);
    await eventually(
      async () => ![undefined, before].includes(worker.listenerPid()),
      'a new LISTEN session',
      PROMPT_MS,
    );
    const id = await raise();
    await eventually(async () => reached(id), 'the worker sent the next one at once', PROMPT_MS);
  });
});
