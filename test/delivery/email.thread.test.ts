import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import { after, before, describe, it } from 'node:test';
import type { OutgoingEmail } from '../../src/delivery/channels/email.channel.ts';
import { ThreadedEmailChannel } from '../../src/delivery/channels/email.thread.ts';
import { renderEmail, type EmailDraft } from '../../src/delivery/channels/email.draft.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import type { ReferralInputType } from '../../src/referrals/referral.schema.ts';
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

/** A referral email's draft, as the dispatcher hands it to the thread: facts, not text and HTML. */
function draft(full: boolean): EmailDraft {
  const m = message();
  return {
    from: m.from,
    envelopeFrom: m.envelopeFrom,
    to: m.to,
    messageId: m.messageId,
    headers: m.headers,
    content: {
      kind: 'referral',
      facts: {
        reference: `SR-2026-${String(n).padStart(6, '0')}`,
        urgency: 'urgent',
        subjectType: 'adult',
        referralType: 'adult-at-risk',
        categories: ['neglect'],
        authorityName: 'Dudley Metropolitan Borough Council',
        teamName: 'Dudley Adult Safeguarding',
        receivedAt: '6 December 2026 03:09 (UK time)',
        ackUrl: `http://relay.test/ack/t${n}`,
        portalUrl: `http://relay.test/referrals/t${n}`,
        referral: full ? (exampleReferral() as unknown as ReferralInputType) : undefined,
      },
    },
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

  it('writes each draft out on the thread: the server receives the same email the main thread would have written', async () => {
    const channel = new ThreadedEmailChannel({ smtpUrl: smtp.url, poolSize: 3, timeoutMs: 30_000 });
    try {
      const before = smtp.received.length;
      const drafts = Array.from({ length: 20 }, (_, i) => draft(i % 2 === 0));
      // Handed over in one turn, so they cross to the thread together; each still gets its own answer.
      const outcomes = await Promise.all(drafts.map((d) => channel.sendDraft(d)));
      assert.deepEqual(new Set(outcomes.map((o) => o.kind)), new Set(['sent']));
      const received = (await smtp.waitFor(before + 20)).slice(before);
      for (const d of drafts) {
        const got = received.find((r) => r.parsed.messageId === d.messageId);
        const expected = renderEmail(d);
        assert.equal(got?.parsed.subject, expected.subject);
        assert.equal(got?.parsed.text?.trim(), expected.text.trim());
        assert.equal(got?.envelopeFrom, d.envelopeFrom);
        assert.equal(got?.parsed.headers.get('x-relay-delivery'), d.headers['X-Relay-Delivery']);
        const name = exampleReferral().subject.givenName;
        assert.equal(
          got?.parsed.text?.includes(name),
          d.content.kind === 'referral' && !!d.content.facts.referral,
        );
        assert.ok(!got?.parsed.subject?.includes(name), 'no personal data in the subject');
      }
    } finally {
      channel.close();
    }
  });

  it('a draft the thread cannot write out is answered temporary, so it is retried and never dropped', async () => {
    const channel = new ThreadedEmailChannel({ smtpUrl: smtp.url, poolSize: 1, timeoutMs: 30_000 });
    try {
      const before = smtp.received.length;
      const broken = { ...draft(false), content: { kind: 'referral', facts: null } } as unknown as EmailDraft;
      const good = draft(false);
      const [bad, fine] = await Promise.all([channel.sendDraft(broken), channel.sendDraft(good)]);
      assert.deepEqual(bad, { kind: 'temporary', detail: 'internal error while preparing the message' });
      assert.equal(fine.kind, 'sent');
      const received = (await smtp.waitFor(before + 1)).slice(before);
      assert.deepEqual(
        received.map((r) => r.parsed.messageId),
        [good.messageId],
      );
    } finally {
      channel.close();
    }
  });

  it('after close, answers temporary instead of waiting for ever', async () => {
    const channel = new ThreadedEmailChannel({ smtpUrl: smtp.url, poolSize: 1, timeoutMs: 30_000 });
    channel.close();
    assert.deepEqual(await channel.send(message()), { kind: 'temporary', detail: 'email channel closed' });
  });
});
