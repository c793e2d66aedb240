import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { EmailChannel } from '../../src/delivery/channels/email.channel.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { raiseDudley, recentReferral } from '../helpers/referrals.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { freePort, runRelay, startRelay, eventually } from '../helpers/process.ts';
import { childDatabaseEnv, createTestDatabase } from '../helpers/db.ts';
import { signedIn } from '../helpers/web.ts';

/** A self-signed certificate for localhost, as an internal CA's server certificate would look to Node. */
function selfSigned(dir: string): { key: string; cert: string; certPath: string } {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), certPath };
}

/** A mail server offering STARTTLS with that certificate; it keeps what it receives. */
async function startTlsServer(tls: { key: string; cert: string }) {
  const received: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    logger: false,
    key: tls.key,
    cert: tls.cert,
    onData(stream, _session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      stream.on('end', () => {
        received.push(raw);
        callback();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

type Server = Awaited<ReturnType<typeof startTlsServer>>;
let dir: string;
let tls: ReturnType<typeof selfSigned>;
let server: Server;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-tls-'));
  tls = selfSigned(dir);
  server = await startTlsServer(tls);
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describeEachDialect('a mail server whose certificate is not trusted', (dialect) => {
  let relay: TestRelay;
  before(async () => {
    relay = await createTestRelay(dialect);
  });
  after(() => relay.close());

  it('fails the send with reason tls in the log and on the delivery page, and sends nothing in clear', async () => {
    const { id, deliveryId } = await raiseDudley(relay, `TLS-${dialect}-${process.pid}`);
    const warnings: object[] = [];
    const logger = { info: () => {}, error: () => {}, warn: (obj: object) => warnings.push(obj) };
    const email = new EmailChannel({
      smtpUrl: `smtp://localhost:${server.port}`,
      poolSize: 1,
      timeoutMs: 10_000,
      tls: 'starttls',
    });
    try {
      await new Dispatcher(relay.ctx, { transports: { email }, logger }).drain();
    } finally {
      email.close();
    }
    assert.equal(server.received.length, 0, 'nothing reached the server');
    const row = await relay.ctx.db.kysely
      .selectFrom('deliveries')
      .select(['state', 'last_error'])
      .where('id', '=', deliveryId)
      .executeTakeFirstOrThrow();
    assert.equal(row.state, 'retrying');
    assert.match(row.last_error ?? '', /self[- ]signed certificate/);
    const logged = warnings.find((w) => 'reason' in w) as Record<string, unknown>;
    assert.equal(logged.reason, 'tls', JSON.stringify(warnings));
    assert.doesNotMatch(
      JSON.stringify(warnings),
      /@|certificate/,
      'the log carries the class, not the detail',
    );

    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    const page = await browser.get(`/safeguarding/referrals/${id}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /TLS: the mail server’s certificate was not trusted/);
    assert.match(page.body, /self[- ]signed certificate/);
  });
});

describe('trusting an internal CA with NODE_EXTRA_CA_CERTS', () => {
  it('a relay process started with the CA in NODE_EXTRA_CA_CERTS sends over STARTTLS', async () => {
    const database = await createTestDatabase('sqlite', { migrate: false });
    const env = {
      ...childDatabaseEnv(database),
      PORT: String(await freePort()),
      SMTP_URL: `smtp://localhost:${server.port}`,
      SMTP_TLS: 'starttls',
      NODE_EXTRA_CA_CERTS: tls.certPath,
      TEST_ALERT_INTERVAL: 'off',
      SAFEGUARDING_EMAIL: 'safeguarding@example.org',
    };
    assert.equal(runRelay(['directory', 'import', '--demo'], env).status, 0);
    const relay = startRelay(env);
    try {
      const created = runRelay(
        ['apikey', 'create', '--name', 'tls', '--scope', 'referrals:write', '--system', 'tls-epcr'],
        env,
      );
      assert.equal(created.status, 0, created.stderr);
      await relay.waitForOutput(/is running/);
      const response = await fetch(`http://127.0.0.1:${env.PORT}/api/v1/referrals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${created.stdout.trim()}`, 'content-type': 'application/json' },
        body: JSON.stringify(recentReferral({ system: 'tls-epcr', reference: `TLS-CA-${process.pid}` })),
      });
      assert.equal(response.status, 201, await response.text());
      const before = server.received.length;
      await eventually(
        async () => server.received.length > before,
        'the referral reached the TLS mail server',
      );
    } finally {
      relay.child.kill('SIGTERM');
      await relay.exited;
      await database.drop();
    }
  });
});
