import { after, before, beforeEach } from 'node:test';
import { EmailChannel } from '../../src/delivery/channels/email.channel.ts';
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
