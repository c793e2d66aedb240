import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sweep } from '../../src/assurance/watchdog.ts';
import { loadConfig } from '../../src/config.ts';
import {
  classifyAddress,
  webhookPolicy,
  type WebhookPolicy,
} from '../../src/delivery/channels/webhook.address.ts';
import { sendWebhook } from '../../src/delivery/channels/webhook.channel.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import type { EmailSender } from '../../src/delivery/channels/channel.ts';
import { DEMO_DIRECTORY_PATH, readDirectoryFile } from '../../src/directory/directory.service.ts';
import type { Directory } from '../../src/directory/directory.types.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { DIALECTS } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const emailAccepted: EmailSender = { send: async () => ({ kind: 'sent', detail: '250 accepted' }) };

/** A real HTTP server on loopback that records every request it gets and answers as told. */
async function startReceiver(answer: (path: string) => { status: number; headers?: Record<string, string> }) {
  const hits: string[] = [];
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      hits.push(request.url ?? '');
      const { status, headers } = answer(request.url ?? '');
      response.writeHead(status, headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    hits,
    port,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const PUBLIC_ONLY: WebhookPolicy = { httpsOnly: false, allowPrivate: false };
const PRIVATE_ALLOWED: WebhookPolicy = { httpsOnly: false, allowPrivate: true };
const NOW = new Date('2026-12-06T14:00:00Z');

function post(url: string, policy: WebhookPolicy) {
  const hook = { url, secret: 's', deliveryId: 'd1', referralId: 'r1', body: '{"referral":"personal"}' };
  return sendWebhook(hook, policy, 2000, NOW);
}

describe('webhook addresses', () => {
  it('classifies internal, metadata and special addresses, IPv4 inside IPv6 included', () => {
    const cases: [string, string | undefined][] = [
      ['93.184.215.14', undefined],
      ['2606:4700:4700::1111', undefined],
      ['172.15.255.255', undefined],
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['::1', 'loopback'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['10.0.0.1', 'private'],
      ['172.16.0.1', 'private'],
      ['192.168.1.1', 'private'],
      ['fd12:3456::1', 'private'],
      ['::ffff:10.0.0.1', 'private'],
      ['64:ff9b::a00:1', 'private'],
      ['100.64.0.1', 'shared'],
      ['169.254.169.254', 'metadata'],
      ['::ffff:169.254.169.254', 'metadata'],
      ['2002:a9fe:a9fe::1', 'metadata'],
      ['fd00:ec2::254', 'metadata'],
      ['100.100.100.200', 'metadata'],
      ['169.254.1.1', 'link-local'],
      ['fe80::1', 'link-local'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['ff02::1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['198.18.0.1', 'reserved'],
    ];
    for (const [address, expected] of cases) assert.equal(classifyAddress(address), expected, address);
  });

  it('is https only in production, and private addresses only with WEBHOOK_ALLOW_PRIVATE=on', () => {
    const delivery = { webhookAllowPrivate: false };
    assert.deepEqual(webhookPolicy({ env: 'production', delivery }), {
      httpsOnly: true,
      allowPrivate: false,
    });
    assert.deepEqual(webhookPolicy({ env: 'development', delivery }), PUBLIC_ONLY);
    assert.deepEqual(
      webhookPolicy({ env: 'test', delivery: { webhookAllowPrivate: true } }),
      PRIVATE_ALLOWED,
    );
    assert.equal(loadConfig({}).delivery.webhookAllowPrivate, false, 'off unless asked for');
    assert.equal(loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'on' }).delivery.webhookAllowPrivate, true);
    assert.throws(
      () => loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'yes' }),
      /WEBHOOK_ALLOW_PRIVATE: must be on or off/,
    );
  });
});

describe('webhook connections to a real HTTP server', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let other: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    other = await startReceiver(() => ({ status: 200 }));
    receiver = await startReceiver((path) =>
      path === '/redirect'
        ? { status: 307, headers: { location: `http://127.0.0.1:${other.port}/stolen` } }
        : { status: 200 },
    );
  });
  after(async () => {
    await receiver.close();
    await other.close();
  });

  it('refuses loopback by name (the real resolver), by literal and as IPv4-mapped IPv6, sending nothing', async () => {
    for (const host of ['localhost', '127.0.0.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[::1]']) {
      const outcome = await post(`http://${host}:${receiver.port}/hook`, PUBLIC_ONLY);
      assert.equal(outcome.kind, 'permanent', host);
      assert.match(outcome.detail, /^refused: .*loopback address/, host);
      assert.doesNotMatch(outcome.detail, /personal/);
    }
    assert.deepEqual(receiver.hits, [], 'not one request reached the server');
  });

  it('names the resolved address when a name is refused', async () => {
    const outcome = await post(`http://localhost:${receiver.port}/hook`, PUBLIC_ONLY);
    assert.match(outcome.detail, /^refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
  });

  it('refuses metadata, private, link-local and unspecified literals before connecting', async () => {
    const expected: [string, RegExp][] = [
      ['https://169.254.169.254/latest/meta-data/', /metadata/],
      ['https://10.0.0.1/', /private/],
      ['https://[fd00:ec2::254]/', /metadata/],
      ['http://169.254.1.1:8080/', /link-local/],
      ['http://0.0.0.0:1/', /unspecified/],
      ['https://[::ffff:a9fe:a9fe]/', /metadata/],
      ['https://100.64.0.9/', /shared/],
    ];
    for (const [url, kind] of expected) {
      const outcome = await post(url, PUBLIC_ONLY);
      assert.equal(outcome.kind, 'permanent', url);
      assert.match(outcome.detail, kind, url);
    }
  });

  it('with WEBHOOK_ALLOW_PRIVATE=on reaches loopback and private, never metadata or link-local', async () => {
    const before = receiver.hits.length;
    assert.deepEqual(await post(`http://localhost:${receiver.port}/by-name`, PRIVATE_ALLOWED), {
      kind: 'sent',
      detail: 'HTTP 200',
    });
    assert.deepEqual(await post(`http://[::ffff:127.0.0.1]:${receiver.port}/mapped`, PRIVATE_ALLOWED), {
      kind: 'sent',
      detail: 'HTTP 200',
    });
    assert.deepEqual(receiver.hits.slice(before), ['/by-name', '/mapped']);
    for (const url of ['https://169.254.169.254/', 'https://[fd00:ec2::254]/', 'http://[fe80::1]:80/']) {
      const outcome = await post(url, PRIVATE_ALLOWED);
      assert.equal(outcome.kind, 'permanent', url);
      assert.match(outcome.detail, /^refused: /, url);
    }
  });

  it('never follows a redirect, even to an address it could reach', async () => {
    const outcome = await post(`http://127.0.0.1:${receiver.port}/redirect`, PRIVATE_ALLOWED);
    assert.deepEqual(outcome, { kind: 'permanent', detail: 'HTTP 307' });
    assert.deepEqual(other.hits, [], 'the redirect target got nothing');
  });

  it('refuses plain http in production, whatever the address', async () => {
    const outcome = await post(`http://127.0.0.1:${receiver.port}/hook`, {
      httpsOnly: true,
      allowPrivate: true,
    });
    assert.deepEqual(outcome, {
      kind: 'permanent',
      detail: 'refused: webhooks must use https in production',
    });
  });
});

for (const dialect of DIALECTS) {
  describe(`a team webhook pointed at Relay's own network [${dialect}]`, () => {
    let relay: TestRelay;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;

    before(async () => {
      receiver = await startReceiver(() => ({ status: 200 }));
      const directory = structuredClone(await readDirectoryFile(DEMO_DIRECTORY_PATH)) as Directory;
      const team = directory.authorities.flatMap((a) => a.teams).find((t) => t.id === 'solihull-adults');
      const hook = team?.channels.find((c) => c.kind === 'webhook');
      assert.ok(hook?.kind === 'webhook');
      hook.url = `http://localhost:${receiver.port}/relay/webhook`;
      relay = await createTestRelay(dialect, { directory });
    });
    after(async () => {
      await relay.close();
      await receiver.close();
    });

    it('fails the delivery for good with a clear reason, and the watchdog escalates it', async () => {
      const base = exampleReferral();
      const response = await relay.app.inject({
        method: 'POST',
        url: '/api/v1/referrals',
        headers: { authorization: `Bearer ${relay.epcrKey}` },
        payload: exampleReferral({
          source: { system: 'test-epcr', reference: 'SSRF-1' },
          subject: {
            ...base.subject,
            address: { line1: '3 Station Road', town: 'Solihull', postcode: 'B91 3QB' },
          },
        }),
      });
      assert.equal(response.statusCode, 201);
      const doc = response.json() as { id: string; deliveries: { id: string; channel: string }[] };
      const webhook = doc.deliveries.find((d) => d.channel === 'webhook');
      assert.ok(webhook);

      const dispatcher = new Dispatcher(relay.ctx, {
        transports: { email: emailAccepted },
        logger: quiet,
        workerId: 'w1',
      });
      await dispatcher.drain();

      const row = await relay.ctx.db.kysely
        .selectFrom('deliveries')
        .select(['state', 'last_error', 'attempts'])
        .where('id', '=', webhook.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.state, 'failed');
      assert.equal(row.attempts, 1);
      assert.match(
        row.last_error ?? '',
        /^refused: localhost resolves to .*, a loopback address \(WEBHOOK_ALLOW_PRIVATE\)$/,
      );
      assert.deepEqual(receiver.hits, [], 'the referral never left Relay');

      await sweep(relay.ctx);
      const escalation = await relay.ctx.db.kysely
        .selectFrom('escalations')
        .select(['reason', 'team_id', 'state'])
        .where('referral_id', '=', doc.id)
        .where('reason', '=', 'failed')
        .executeTakeFirst();
      assert.deepEqual(escalation, { reason: 'failed', team_id: 'solihull-adults', state: 'open' });
    });

    it('shows in /readyz that webhooks reach public addresses only', async () => {
      const ready = await relay.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal((ready.json() as { webhooks: string }).webhooks, 'public-only');
    });
  });
}
