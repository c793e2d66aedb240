import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import nodemailer from 'nodemailer';
import { buildApp } from '../../src/app.ts';
import { EmailChannel } from '../../src/delivery/channels/email.channel.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { startMailCatcher, type MailCatcher } from '../../src/mailcatcher/mailcatcher.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { DIALECTS } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface Listed {
  id: string;
  receivedAt: string;
  from: string;
  to: string[];
  messageId: string | null;
  subject: string;
}

for (const dialect of DIALECTS) {
  describe(`built-in mail catcher [${dialect}]`, () => {
    let relay: TestRelay;
    let catcher: MailCatcher;
    let app: FastifyInstance;

    before(async () => {
      relay = await createTestRelay(dialect, { env: { BOUNCE_DOMAIN: 'bounces.relay.test' } });
      catcher = await startMailCatcher(relay.ctx, 0);
      app = buildApp(relay.ctx, { mailCatcher: true });
      await app.ready();
    });
    after(async () => {
      await app.close();
      await catcher.close();
      await relay.close();
    });

    async function list(): Promise<Listed[]> {
      const response = await app.inject({ method: 'GET', url: '/api/v1/mailcatcher/messages' });
      assert.equal(response.statusCode, 200);
      return (response.json() as { items: Listed[] }).items;
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

      const items = await list();
      assert.deepEqual(
        items.map((m) => m.subject),
        ['Second', 'Test — café'],
        'newest first',
      );
      const listed = items[1]!;
      assert.deepEqual(listed, {
        id: first.id,
        receivedAt: first.received_at,
        from: 'bounce+first@relay.test',
        to: ['one@example.org', 'two@example.org'],
        messageId: '<first@relay.test>',
        subject: 'Test — café',
      });
      assert.equal('text' in listed, false, 'the list leaves the bodies out');

      const one = await app.inject({ method: 'GET', url: `/api/v1/mailcatcher/messages/${first.id}` });
      assert.equal(one.statusCode, 200);
      const body = one.json() as Listed & { text: string; html: string | null };
      assert.equal(body.subject, 'Test — café');
      assert.equal(body.text.trim(), 'Plain body');
      assert.equal(body.html, '<p>HTML <b>body</b></p>');
      const textOnly = await app.inject({
        method: 'GET',
        url: `/api/v1/mailcatcher/messages/${rows[1]!.id}`,
      });
      assert.equal((textOnly.json() as { html: string | null }).html, null);
    });

    it('answers 404 problem+json for a message it does not have', async () => {
      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/mailcatcher/messages/00000000-0000-4000-8000-000000000000',
      });
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
        const id = (await list())[0]!.id;
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

      const email = new EmailChannel({ smtpUrl: catcher.smtpUrl, poolSize: 1, timeoutMs: 30_000 });
      try {
        await new Dispatcher(relay.ctx, { email, logger: quiet, workerId: 'w1', random: () => 0.5 }).drain();
      } finally {
        email.close();
      }
      const delivery = await relay.ctx.db.kysely
        .selectFrom('deliveries')
        .selectAll()
        .where('id', '=', deliveryId)
        .executeTakeFirstOrThrow();
      assert.equal(delivery.state, 'sent');

      const subject = `[secure] Safeguarding referral ${doc.reference} — URGENT — adult — Dudley`;
      const caught = (await list()).find((m) => m.subject === subject);
      assert.ok(caught, 'the referral email is in the catcher');
      assert.deepEqual(caught.to, ['adults.dudley@example.org']);
      assert.equal(caught.from, `bounce+${deliveryId}@bounces.relay.test`);
      assert.equal(caught.messageId, `<${deliveryId}@bounces.relay.test>`);
      const read = await app.inject({ method: 'GET', url: `/api/v1/mailcatcher/messages/${caught.id}` });
      const message = read.json() as { text: string; html: string };
      assert.match(message.text, /Acknowledge receipt: http:\/\/relay\.test\/ack\/[\w-]+\.[\w-]+/);
      assert.ok(message.text.includes(`http://relay.test/referrals/${doc.id}`));
      assert.ok(message.html.includes('Acknowledge receipt'));
      assert.equal(message.text.includes('Whitfield'), false, 'Dudley gets minimal detail');
    });
  });
}
