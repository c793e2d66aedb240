import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import nodemailer from 'nodemailer';
import { buildApp } from '../../src/app.ts';
import type { MailCatcher } from '../../src/mailcatcher/mailcatcher.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { drainTo, startCatchingRelay } from '../helpers/mailing.ts';
import type { TestRelay } from '../helpers/relay.ts';
import { formSession } from '../helpers/web.ts';

const PASSWORD = 'a long enough test passphrase';
const SAFEGUARDING_EMAIL = 'safeguarding.mailbox@example.org';

/** Who reads the catcher in these tests: each sees only what is addressed to them or their team. */
const PEOPLE = [
  { email: 'one@example.org', roles: ['crew'], teams: [] },
  { email: 'three@example.org', roles: ['crew'], teams: [] },
  { email: 'sam.dudley@example.org', roles: ['recipient'], teams: ['dudley-adults'] },
  { email: 'sam.birmingham@example.org', roles: ['recipient'], teams: ['birmingham-adults'] },
  { email: 'lead@example.org', roles: ['safeguarding'], teams: [] },
  { email: 'admin@example.org', roles: ['admin'], teams: [] },
];

interface Listed {
  id: string;
  receivedAt: string;
  from: string;
  to: string[];
  messageId: string | null;
  subject: string;
}

describeEachDialect('built-in mail catcher', (dialect) => {
  let relay: TestRelay, catcher: MailCatcher, app: FastifyInstance, close: () => Promise<void>;
  before(async () => {
    ({ relay, catcher, app, close } = await startCatchingRelay(dialect, {
      env: { BOUNCE_DOMAIN: 'bounces.relay.test', SAFEGUARDING_EMAIL },
      people: PEOPLE,
      password: PASSWORD,
    }));
  });
  after(() => close());

  const sessions = new Map<string, ReturnType<typeof formSession>>();
  /** A signed-in browser for one of PEOPLE (kept, so each signs in once). */
  async function as(email: string) {
    const known = sessions.get(email);
    if (known) return known;
    const browser = formSession(app);
    await browser.get('/sign-in');
    assert.equal((await browser.post('/sign-in', { email, password: PASSWORD })).statusCode, 303);
    sessions.set(email, browser);
    return browser;
  }

  async function list(email: string): Promise<Listed[]> {
    const response = await (await as(email)).get('/api/v1/mailcatcher/messages');
    assert.equal(response.statusCode, 200);
    return (response.json() as { items: Listed[] }).items;
  }

  const read = async (email: string, id: string) =>
    (await as(email)).get(`/api/v1/mailcatcher/messages/${id}`);

  async function viewsOf(id: string) {
    return relay.ctx.db.kysely
      .selectFrom('audit_log')
      .select(['actor', 'action', 'entity_type', 'detail'])
      .where('entity_id', '=', id)
      .where('action', '=', 'mailbox.message-viewed')
      .execute();
  }

  async function catchEmail(to: string[], subject: string, text = 'Plain body') {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: catcher.port, secure: false });
    try {
      await transport.sendMail({ from: 'sender@example.org', to, subject, text });
    } finally {
      transport.close();
    }
    const row = await relay.ctx.db.kysely
      .selectFrom('caught_messages')
      .select('id')
      .where('subject', '=', subject)
      .executeTakeFirstOrThrow();
    return row.id;
  }

  it('listens on a free port when asked for port 0', () => {
    assert.ok(catcher.port > 0);
    assert.equal(catcher.smtpUrl, `smtp://127.0.0.1:${catcher.port}`);
  });

  it('stores a real email and serves it at /api/v1/mailcatcher/messages', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: catcher.port, secure: false });
    try {
      await transport.sendMail({
        from: 'Sender <sender@example.org>',
        to: ['one@example.org', 'two@example.org'],
        subject: 'Test — café',
        text: 'Plain body',
        html: '<p>HTML <b>body</b></p>',
        messageId: '<first@relay.test>',
        envelope: { from: 'bounce+first@relay.test', to: ['one@example.org', 'two@example.org'] },
      });
      relay.clock.advance(60_000);
      await transport.sendMail({
        from: 'sender@example.org',
        to: 'three@example.org',
        subject: 'Second',
        text: 'Only text',
        messageId: '<second@relay.test>',
      });
    } finally {
      transport.close();
    }

    const rows = await relay.ctx.db.kysely
      .selectFrom('caught_messages')
      .selectAll()
      .orderBy('received_at')
      .execute();
    assert.equal(rows.length, 2);
    const first = rows[0]!;
    assert.equal(first.envelope_from, 'bounce+first@relay.test');
    assert.deepEqual(JSON.parse(first.envelope_to), ['one@example.org', 'two@example.org']);
    assert.equal(first.message_id, '<first@relay.test>');
    assert.equal(first.subject, 'Test — café');
    assert.equal(first.received_at, new Date(relay.clock.now().getTime() - 60_000).toISOString());
    assert.match(first.raw, /^Message-ID: <first@relay\.test>$/im);

    const items = await list('one@example.org');
    assert.deepEqual(
      items.map((m) => m.subject),
      ['Test — café'],
      'one@ sees the email addressed to them, not three@’s',
    );
    assert.deepEqual(
      (await list('three@example.org')).map((m) => m.subject),
      ['Second'],
    );
    const listed = items[0]!;
    assert.deepEqual(listed, {
      id: first.id,
      receivedAt: first.received_at,
      from: 'bounce+first@relay.test',
      to: ['one@example.org', 'two@example.org'],
      messageId: '<first@relay.test>',
      subject: 'Test — café',
    });
    assert.equal('text' in listed, false, 'the list leaves the bodies out');

    const one = await read('one@example.org', first.id);
    assert.equal(one.statusCode, 200);
    const body = one.json() as Listed & { text: string; html: string | null };
    assert.equal(body.subject, 'Test — café');
    assert.equal(body.text.trim(), 'Plain body');
    assert.equal(body.html, '<p>HTML <b>body</b></p>');
    const textOnly = await read('three@example.org', rows[1]!.id);
    assert.equal((textOnly.json() as { html: string | null }).html, null);
    assert.equal((await read('one@example.org', rows[1]!.id)).statusCode, 404, 'not addressed to one@');

    const user = await relay.ctx.db.kysely
      .selectFrom('users')
      .select('id')
      .where('email', '=', 'one@example.org')
      .executeTakeFirstOrThrow();
    assert.deepEqual(await viewsOf(first.id), [
      {
        actor: `user:${user.id}`,
        action: 'mailbox.message-viewed',
        entity_type: 'caught_message',
        detail: '{"via":"api"}',
      },
    ]);
  });

  it('answers 401 to anyone not signed in, list and message alike', async () => {
    const id = await catchEmail(['one@example.org'], 'Not for strangers');
    for (const url of ['/api/v1/mailcatcher/messages', `/api/v1/mailcatcher/messages/${id}`]) {
      const response = await app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 401, url);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
      assert.equal(response.body.includes('Not for strangers'), false);
    }
    assert.deepEqual(await viewsOf(id), []);
  });

  it('shows the safeguarding mailbox to the safeguarding team only', async () => {
    const id = await catchEmail([SAFEGUARDING_EMAIL], 'Daily summary for the team');
    assert.ok((await list('lead@example.org')).some((m) => m.id === id));
    assert.equal((await read('lead@example.org', id)).statusCode, 200);
    for (const other of ['admin@example.org', 'sam.dudley@example.org', 'one@example.org']) {
      assert.equal(
        (await list(other)).some((m) => m.id === id),
        false,
        other,
      );
      assert.equal((await read(other, id)).statusCode, 404, other);
    }
  });

  it('answers 404 problem+json for a message it does not have', async () => {
    const response = await read('one@example.org', '00000000-0000-4000-8000-000000000000');
    assert.equal(response.statusCode, 404);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    const problem = response.json() as { type: string; title: string; status: number; detail: string };
    assert.equal(problem.status, 404);
    assert.match(problem.type, /not-found$/);
    assert.equal(problem.detail, 'No caught message with that id');
  });

  it('has no mail catcher routes unless the app is built with mailCatcher', async () => {
    const plain = buildApp(relay.ctx);
    try {
      const id = (await list('one@example.org'))[0]!.id;
      for (const url of ['/api/v1/mailcatcher/messages', `/api/v1/mailcatcher/messages/${id}`]) {
        const response = await plain.inject({ method: 'GET', url });
        assert.equal(response.statusCode, 404, url);
        assert.equal(response.body.includes('café'), false);
      }
    } finally {
      await plain.close();
    }
  });

  it('closes the loop: a raised referral is delivered to the catcher and readable there', async () => {
    const base = exampleReferral();
    const raised = await relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: { authorization: `Bearer ${relay.epcrKey}` },
      payload: exampleReferral({
        source: { system: 'test-epcr', reference: 'CATCHER-1' },
        subject: {
          ...base.subject,
          address: { line1: '1 Castle Hill', town: 'Dudley', postcode: 'DY1 4QF' },
        },
      }),
    });
    assert.equal(raised.statusCode, 201);
    const doc = raised.json() as { id: string; reference: string; deliveries: { id: string }[] };
    const deliveryId = doc.deliveries[0]!.id;

    await drainTo(relay, catcher.smtpUrl);
    const delivery = await relay.ctx.db.kysely
      .selectFrom('deliveries')
      .selectAll()
      .where('id', '=', deliveryId)
      .executeTakeFirstOrThrow();
    assert.equal(delivery.state, 'sent');

    const subject = `[secure] Safeguarding referral ${doc.reference} — URGENT — adult — Dudley`;
    for (const outsider of [
      'sam.birmingham@example.org',
      'lead@example.org',
      'admin@example.org',
      'one@example.org',
    ]) {
      assert.equal(
        (await list(outsider)).some((m) => m.subject === subject),
        false,
        `${outsider} does not see Dudley's referral`,
      );
    }
    const caught = (await list('sam.dudley@example.org')).find((m) => m.subject === subject);
    assert.ok(caught, 'the referral email is in the catcher');
    assert.deepEqual(caught.to, ['adults.dudley@example.org']);
    assert.equal(caught.from, `bounce+${deliveryId}@bounces.relay.test`);
    assert.equal(caught.messageId, `<${deliveryId}@bounces.relay.test>`);
    for (const outsider of ['sam.birmingham@example.org', 'lead@example.org', 'admin@example.org']) {
      assert.equal((await read(outsider, caught.id)).statusCode, 404, outsider);
    }
    const opened = await read('sam.dudley@example.org', caught.id);
    const message = opened.json() as { text: string; html: string };
    assert.match(message.text, /Acknowledge receipt: http:\/\/relay\.test\/ack\/[\w-]+\.[\w-]+/);
    assert.ok(message.text.includes(`http://relay.test/referrals/${doc.id}`));
    assert.ok(message.html.includes('Acknowledge receipt'));
    assert.equal(message.text.includes('Whitfield'), false, 'Dudley gets minimal detail');
  });
});
