import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import { after, before, describe, it } from 'node:test';
import type { OutgoingEmail } from '../../src/delivery/channels/email.channel.ts';
import { ThreadedEmailChannel } from '../../src/delivery/channels/email.thread.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';

let n = 0;
function message(): OutgoingEmail {
  n += 1;
  return {
    from: 'Safeguard Relay <relay@relay.test>',
    envelopeFrom: `bounce+t${n}@bounces.relay.test`,
    to: 'adults@dudley.example.org',
    subject: `[secure] Safeguarding referral SR-2026-${String(n).padStart(6, '0')} — URGENT — adult — Dudley`,
    text: 'Acknowledge receipt: http://relay.test/ack/x',
    html: '<p>Acknowledge receipt</p>',
    messageId: `<t${n}@bounces.relay.test>`,
    headers: { 'X-Relay-Delivery': `t${n}` },
  };
}

/** The thread behind the channel, so a test can make it die as a crashed thread would. */
const threadOf = (channel: ThreadedEmailChannel) => (channel as unknown as { worker: Worker }).worker;

describe('the email channel on its own thread', () => {
  let smtp: TestSmtpServer;
  before(async () => {
    smtp = await startTestSmtpServer();
  });
  after(() => smtp.close());

  it('delivers the message as the SMTP server received it, and reports each kind of answer', async () => {
    const channel = new ThreadedEmailChannel({ smtpUrl: smtp.url, poolSize: 2, timeoutMs: 30_000 });
    try {
      const sent = message();
      assert.equal((await channel.send(sent)).kind, 'sent');
      const [received] = (await smtp.waitFor(1)).slice(-1);
      assert.equal(received?.parsed.messageId, sent.messageId);
      assert.equal(received?.parsed.subject, sent.subject);
      assert.equal(received?.envelopeFrom, sent.envelopeFrom);
      assert.equal(received?.parsed.headers.get('x-relay-delivery'), sent.headers['X-Relay-Delivery']);

      smtp.setMode('451', 1);
      const temporary = await channel.send(message());
      assert.equal(temporary.kind, 'temporary');
      assert.match(temporary.detail, /451/);
      smtp.setMode('550', 1);
      const permanent = await channel.send(message());
      assert.equal(permanent.kind, 'permanent');
      assert.match(permanent.detail, /550/);
    } finally {
      channel.close();
    }
  });

  it('sends many at once, each answered with its own outcome', async () => {
    const channel = new ThreadedEmailChannel({ smtpUrl: smtp.url, poolSize: 3, timeoutMs: 30_000 });
    try {
      const before = smtp.received.length;
      const messages = Array.from({ length: 30 }, message);
      const outcomes = await Promise.all(messages.map((m) => channel.send(m)));
      assert.deepEqual(new Set(outcomes.map((o) => o.kind)), new Set(['sent']));
      const got = (await smtp.waitFor(before + 30)).slice(before).map((r) => r.parsed.messageId);
      assert.deepEqual(got.sort(), messages.map((m) => m.messageId).sort());
    } finally {
      channel.close();
    }
  });

  it('when the thread dies mid-send, answers temporary (a retry, never silence) and a new thread takes over', async () => {
    const channel = new ThreadedEmailChannel({ smtpUrl: smtp.url, poolSize: 1, timeoutMs: 30_000 });
    try {
      // The server holds its answer until the thread is gone, so the send is surely in flight.
      smtp.setDelay(60_000);
      const before = smtp.received.length;
      const inFlight = message();
      let settled = false;
      const pending = channel.send(inFlight).finally(() => (settled = true));
      // The server has this very message and has not answered: the thread is mid-send.
      const [arrived] = (await smtp.waitFor(before + 1)).slice(before);
      assert.equal(arrived?.parsed.messageId, inFlight.messageId);
      assert.equal(settled, false, 'the send is still waiting for the server when the thread dies');
      await threadOf(channel).terminate();
      const outcome = await pending;
      assert.deepEqual(outcome, { kind: 'temporary', detail: 'email thread stopped' });
      smtp.setDelay(0);
      const next = message();
      assert.equal((await channel.send(next)).kind, 'sent');
      const [taken] = (await smtp.waitFor(before + 2)).slice(before + 1);
      assert.equal(taken?.parsed.messageId, next.messageId, 'the new thread delivered the next message');
    } finally {
      smtp.setDelay(0);
      channel.close();
    }
  });

  it('after close, answers temporary instead of waiting for ever', async () => {
    const channel = new ThreadedEmailChannel({ smtpUrl: smtp.url, poolSize: 1, timeoutMs: 30_000 });
    channel.close();
    assert.deepEqual(await channel.send(message()), { kind: 'temporary', detail: 'email channel closed' });
  });
});
