import { after, before, beforeEach } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { createUser } from '../../src/access/user.service.ts';
import { EmailChannel } from '../../src/delivery/channels/email.channel.ts';
import { startMailCatcher, type MailCatcher } from '../../src/mailcatcher/mailcatcher.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import type { Dialect } from '../../src/db/database.ts';
import type { StatusDocument } from '../../src/referrals/referral.document.schema.ts';
import { createTestRelay, type TestRelay } from './relay.ts';
import { startTestSmtpServer, type TestSmtpServer } from './smtp.ts';

/** A logger that says nothing: the dispatcher's log lines are not what these tests look at. */
export const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface MailingRelay {
  relay: TestRelay;
  /** Where the dispatcher's emails arrive. */
  smtp: TestSmtpServer;
  /** Sends what is queued when a test calls `drain()`: worker `w1`, no jitter. */
  dispatcher: Dispatcher;
}

/**
 * For suites that follow a referral's emails: registers the suite's hooks for a test Relay (clock
 * at `now`) whose dispatcher sends to a real SMTP test server. Before each test the clock is back
 * at `now` and the dispatcher is a new one; `bind` is handed the parts each time, from the suite's
 * first `before` on.
 */
export function mailingRelaySuite(dialect: Dialect, now: string, bind: (parts: MailingRelay) => void): void {
  let parts: MailingRelay | undefined;
  let email: EmailChannel | undefined;
  const fresh = (relay: TestRelay, smtp: TestSmtpServer) => {
    email?.close();
    email = new EmailChannel({ smtpUrl: smtp.url, poolSize: 1, timeoutMs: 30_000 });
    const dispatcher = new Dispatcher(relay.ctx, {
      transports: { email },
      logger: quiet,
      workerId: 'w1',
      random: () => 0.5,
    });
    parts = { relay, smtp, dispatcher };
    bind(parts);
  };
  before(async () => fresh(await createTestRelay(dialect, { now }), await startTestSmtpServer()));
  beforeEach(() => {
    const { relay, smtp } = parts as MailingRelay;
    relay.clock.set(now);
    fresh(relay, smtp);
  });
  after(async () => {
    email?.close();
    await parts?.relay.close();
    await parts?.smtp.close();
  });
}

/** A referral's status document, as its source system reads it over the API. */
export async function statusDocument(relay: TestRelay, id: string): Promise<StatusDocument> {
  const response = await relay.app.inject({
    method: 'GET',
    url: `/api/v1/referrals/${id}`,
    headers: { authorization: `Bearer ${relay.epcrKey}` },
  });
  return response.json() as StatusDocument;
}

/** Sends everything queued to the SMTP server at `smtpUrl`, once, as a worker would. */
export async function drainTo(relay: TestRelay, smtpUrl: string): Promise<void> {
  const email = new EmailChannel({ smtpUrl, poolSize: 1, timeoutMs: 30_000 });
  try {
    await new Dispatcher(relay.ctx, {
      transports: { email },
      logger: quiet,
      workerId: 'w1',
      random: () => 0.5,
    }).drain();
  } finally {
    email.close();
  }
}

export interface CatchingRelay {
  relay: TestRelay;
  /** The built-in mail catcher, on a free port. */
  catcher: MailCatcher;
  /** The app with the Mailbox pages on, as the embedded default serves it. */
  app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * The embedded default's mail: a test Relay with the built-in catcher running, the app serving its
 * Mailbox, and the people who read it (each with `password`).
 */
export async function startCatchingRelay(
  dialect: Dialect,
  options: {
    env: Record<string, string>;
    people: { email: string; roles: string[]; teams?: string[] }[];
    password: string;
  },
): Promise<CatchingRelay> {
  const relay = await createTestRelay(dialect, { env: options.env });
  const catcher = await startMailCatcher(relay.ctx, 0);
  const app = buildApp(relay.ctx, { mailCatcher: true });
  await app.ready();
  for (const person of options.people) {
    await createUser(
      relay.ctx.db.kysely,
      relay.clock,
      { ...person, password: options.password },
      'test',
      () => true,
    );
  }
  const close = async () => {
    await app.close();
    await catcher.close();
    await relay.close();
  };
  return { relay, catcher, app, close };
}
