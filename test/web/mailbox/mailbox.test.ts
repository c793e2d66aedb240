import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { MailCatcher } from '../../../src/mailcatcher/mailcatcher.ts';
import { exampleReferral } from '../../../src/referrals/referral.example.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { drainTo, startCatchingRelay } from '../../helpers/mailing.ts';
import type { TestRelay } from '../../helpers/relay.ts';
import { formSession, signIn, PASSWORD } from '../../helpers/web.ts';

describeEachDialect('mailbox', (dialect) => {
  let relay: TestRelay, catcher: MailCatcher, app: FastifyInstance, close: () => Promise<void>;
  before(async () => {
    ({ relay, catcher, app, close } = await startCatchingRelay(dialect, {
      env: { BOUNCE_DOMAIN: 'bounces.relay.test' },
      people: [
        { email: 'crew@example.org', roles: ['crew'] },
        { email: 'admin@example.org', roles: ['admin'] },
        { email: 'sam@example.org', roles: ['recipient'], teams: ['birmingham-adults'] },
      ],
      password: PASSWORD,
    }));
  });
  after(() => close());

  const insert = async (values: { subject: string; text: string; html: string | null; at: string }) => {
    const id = randomUUID();
    await relay.ctx.db.kysely
      .insertInto('caught_messages')
      .values({
        id,
        received_at: values.at,
        envelope_from: 'bounce+x@bounces.relay.test',
        envelope_to: JSON.stringify(['crew@example.org']),
        message_id: `<${id}@relay.test>`,
        subject: values.subject,
        text: values.text,
        html: values.html,
        raw: '',
      })
      .execute();
    return id;
  };

  it('lists caught emails newest first, and shows one safely with only Relay’s own links clickable', async () => {
    const older = await insert({
      subject: 'Older',
      text: 'first',
      html: null,
      at: '2026-11-25T09:00:00.000Z',
    });
    const id = await insert({
      subject: 'Newer <b>bold</b>',
      text:
        'Acknowledge receipt: http://relay.test/ack/abc.def.\n' +
        'Lookalike: http://relay.test.evil.example/ack/x\nElsewhere: https://elsewhere.example/y\n' +
        '<script>alert("text")</script>',
      html: '<p>Hello</p><script>alert("html")</script>',
      at: '2026-11-25T10:30:00.000Z',
    });
    const browser = await signIn(app, 'crew@example.org');
    const list = await browser.get('/mailbox');
    assert.equal(list.statusCode, 200);
    assert.ok(list.body.indexOf(`/mailbox/${id}`) < list.body.indexOf(`/mailbox/${older}`), 'newest first');
    assert.match(list.body, /Newer &lt;b&gt;bold&lt;\/b&gt;/);
    assert.match(list.body, /crew@example\.org/);
    assert.match(list.body, /25 Nov 2026, 10:30/, 'London time');

    const page = await browser.get(`/mailbox/${id}`);
    assert.equal(page.statusCode, 200);
    assert.match(
      page.body,
      /<a href="http:\/\/relay\.test\/ack\/abc\.def">http:\/\/relay\.test\/ack\/abc\.def<\/a>\./,
    );
    assert.doesNotMatch(page.body, /<a href="http:\/\/relay\.test\.evil/);
    assert.doesNotMatch(page.body, /<a href="https:\/\/elsewhere/);
    assert.match(page.body, /https:\/\/elsewhere\.example\/y/, 'a foreign link is shown as text');
    assert.match(page.body, /&lt;script&gt;alert\(&quot;text&quot;\)&lt;\/script&gt;/);
    assert.doesNotMatch(page.body, /<script>alert/);
    const frame = /<iframe [^>]*>/.exec(page.body)?.[0] ?? '';
    assert.match(frame, /sandbox=""/);
    assert.doesNotMatch(frame, /allow-/);
    assert.match(frame, /srcdoc="[^"]*&lt;p&gt;Hello&lt;\/p&gt;/);

    assert.equal((await browser.get(`/mailbox/${randomUUID()}`)).statusCode, 404);
    const views = await relay.ctx.db.kysely
      .selectFrom('audit_log')
      .select(['action', 'detail'])
      .where('entity_id', '=', id)
      .execute();
    assert.deepEqual(views, [{ action: 'mailbox.message-viewed', detail: '{"via":"page"}' }]);

    const admin = await signIn(app, 'admin@example.org');
    const theirs = await admin.get('/mailbox');
    assert.equal(theirs.statusCode, 200);
    assert.doesNotMatch(theirs.body, new RegExp(`/mailbox/${id}`), 'not addressed to the admin');
    assert.equal((await admin.get(`/mailbox/${id}`)).statusCode, 404);
  });

  it('closes the loop: a referral’s email, its acknowledge link, and the acknowledgement', async () => {
    const raised = await relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: { authorization: `Bearer ${relay.epcrKey}` },
      payload: exampleReferral({ source: { system: 'test-epcr', reference: 'MAILBOX-1' } }),
    });
    assert.equal(raised.statusCode, 201);
    const doc = raised.json() as { reference: string; deliveries: { id: string; channel: string }[] };
    await drainTo(relay, catcher.smtpUrl);

    const crew = await signIn(app, 'crew@example.org');
    assert.doesNotMatch((await crew.get('/mailbox')).body, new RegExp(doc.reference), 'not the crew’s mail');
    const browser = await signIn(app, 'sam@example.org');
    const list = await browser.get('/mailbox');
    const id = new RegExp(`href="/mailbox/([\\w-]+)">[^<]*${doc.reference}`).exec(list.body)?.[1];
    assert.ok(id, 'the referral email is listed');
    const page = await browser.get(`/mailbox/${id}`);
    const ack = /<a href="(http:\/\/relay\.test\/ack\/[^"]+)">/.exec(page.body)?.[1];
    assert.ok(ack, 'the acknowledge link is clickable');

    const reader = formSession(app);
    const path = ack.slice('http://relay.test'.length);
    const confirm = await reader.get(path);
    assert.equal(confirm.statusCode, 200);
    assert.match(confirm.body, /Acknowledge receipt/);
    const done = await reader.post(path, { fullName: 'Dee Duty', role: 'Duty social worker' });
    assert.equal(done.statusCode, 200);
    assert.match(done.body, new RegExp(`Referral ${doc.reference} acknowledged`));
    const delivery = await relay.ctx.db.kysely
      .selectFrom('deliveries')
      .select('state')
      .where('id', '=', doc.deliveries.find((d) => d.channel === 'email')!.id)
      .executeTakeFirstOrThrow();
    assert.equal(delivery.state, 'acknowledged');
  });

  it('asks a signed-out visitor to sign in', async () => {
    const response = await app.inject({ method: 'GET', url: '/mailbox' });
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, '/sign-in?next=%2Fmailbox');
  });

  it('does not exist without the mail catcher', async () => {
    const browser = await signIn(relay.app, 'crew@example.org');
    const response = await browser.get('/mailbox');
    assert.equal(response.statusCode, 404);
    const withCatcher = await signIn(app, 'crew@example.org');
    assert.match((await withCatcher.get('/mailbox')).body, /href="\/mailbox"/, 'the navigation links to it');
    assert.doesNotMatch(response.body, /href="\/mailbox"/, 'and does not without it');
  });
});
