import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import {
  classifySmtpError,
  EmailChannel,
  type OutgoingEmail,
} from '../../src/delivery/channels/email.channel.ts';

interface Received {
  to: string[];
  user: string | undefined;
  secure: boolean;
}

interface Server {
  url(credentials?: string, query?: string): string;
  received: Received[];
  /** The most TCP connections that were open at once. */
  peakConnections: number;
  totalConnections: number;
  close(): Promise<void>;
}

/** A real smtp-server that accepts `relay` / `s3cret: p@ss/word` and records each message with its session. */
async function startServer(options: SMTPServerOptions, holdMs = 0): Promise<Server> {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const stats = { peakConnections: 0, totalConnections: 0 };
  const server = new SMTPServer({
    logger: false,
    ...options,
    onAuth(auth, _session, callback) {
      if (auth.username === 'relay' && auth.password === 's3cret: p@ss/word')
        return callback(null, { user: 'relay' });
      callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        received.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          secure: session.secure,
        });
        setTimeout(() => callback(), holdMs);
      });
    },
  });
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    stats.totalConnections += 1;
    stats.peakConnections = Math.max(stats.peakConnections, sockets.size);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: (credentials, query = '') =>
      `smtp://${credentials ? `${credentials}@` : ''}127.0.0.1:${port}${query ? `/?${query}` : ''}`,
    received,
    get peakConnections() {
      return stats.peakConnections;
    },
    get totalConnections() {
      return stats.totalConnections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const GOOD = `relay:${encodeURIComponent('s3cret: p@ss/word')}`;

function message(n = 1): OutgoingEmail {
  return {
    from: 'Safeguard Relay <relay@relay.test>',
    envelopeFrom: `bounce+d${n}@bounces.relay.test`,
    to: `team${n}@example.org`,
    subject: `[secure] Safeguarding referral SR-2026-${String(n).padStart(6, '0')} — URGENT — adult — Dudley`,
    text: 'Acknowledge receipt: http://relay.test/ack/x',
    html: '<p>Acknowledge receipt</p>',
    messageId: `<d${n}@bounces.relay.test>`,
    headers: { 'X-Relay-Delivery': `d${n}` },
  };
}

async function sendOnce(smtpUrl: string, timeoutMs = 3000) {
  const channel = new EmailChannel({ smtpUrl, poolSize: 1, timeoutMs });
  try {
    return await channel.send(message());
  } finally {
    channel.close();
  }
}

describe('classifySmtpError', () => {
  const cases: [string, unknown, 'temporary' | 'permanent'][] = [
    ['421 service not available', { responseCode: 421, response: '421 4.3.2 Try later' }, 'temporary'],
    ['450 mailbox busy', { responseCode: 450, response: '450 busy' }, 'temporary'],
    ['451 local error', { responseCode: 451 }, 'temporary'],
    ['452 insufficient storage', { responseCode: 452 }, 'temporary'],
    ['454 auth temporarily failing', { responseCode: 454, code: 'EAUTH' }, 'temporary'],
    ['499 edge of 4xx', { responseCode: 499 }, 'temporary'],
    ['500 syntax error', { responseCode: 500 }, 'permanent'],
    ['530 authentication required', { responseCode: 530, code: 'EENVELOPE' }, 'permanent'],
    ['535 bad credentials', { responseCode: 535, code: 'EAUTH' }, 'permanent'],
    ['550 no such mailbox', { responseCode: 550, code: 'EENVELOPE' }, 'permanent'],
    ['554 transaction failed', { responseCode: 554, code: 'EMESSAGE' }, 'permanent'],
    ['refused connection', { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, 'temporary'],
    ['dropped connection', { code: 'ECONNRESET' }, 'temporary'],
    ['failed connection', { code: 'ECONNECTION' }, 'temporary'],
    ['time-out', { code: 'ETIMEDOUT', message: 'Greeting never received' }, 'temporary'],
    ['socket error', { code: 'ESOCKET' }, 'temporary'],
    ['DNS failure', { code: 'EDNS' }, 'temporary'],
    ['aborted', { code: 'EABORT' }, 'temporary'],
    ['auth refused without a reply code', { code: 'EAUTH', message: 'Invalid login' }, 'permanent'],
    ['an unknown error', new Error('something odd'), 'permanent'],
    ['a thrown string', 'boom', 'permanent'],
    ['a thrown null', null, 'permanent'],
    ['a thrown undefined', undefined, 'permanent'],
  ];
  for (const [name, error, kind] of cases) {
    it(`${name} → ${kind}`, () => assert.equal(classifySmtpError(error).kind, kind));
  }

  it('keeps the server reply, or the code and message, as the detail', () => {
    assert.equal(
      classifySmtpError({ responseCode: 421, response: '421 4.3.2 Try later' }).detail,
      '421 4.3.2 Try later',
    );
    assert.equal(
      classifySmtpError({ code: 'ETIMEDOUT', message: 'Greeting never received' }).detail,
      'ETIMEDOUT: Greeting never received',
    );
    assert.equal(classifySmtpError({ responseCode: 550, response: 'x'.repeat(2000) }).detail.length, 500);
  });
});

describe('SMTP AUTH against a server that requires it', () => {
  let server: Server;
  before(async () => {
    server = await startServer({
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
    });
  });
  after(() => server.close());

  it('sends with the credentials in SMTP_URL (percent-encoded where needed)', async () => {
    const outcome = await sendOnce(server.url(GOOD));
    assert.equal(outcome.kind, 'sent');
    assert.match(outcome.detail, /^250/);
    assert.deepEqual(server.received.at(-1), { to: ['team1@example.org'], user: 'relay', secure: false });
  });

  it('fails permanently on a wrong password, and the message goes nowhere', async () => {
    const before = server.received.length;
    const outcome = await sendOnce(server.url('relay:wrong'));
    assert.deepEqual(outcome, { kind: 'permanent', detail: '535 5.7.8 Authentication credentials invalid' });
    assert.equal(server.received.length, before);
  });

  it('fails permanently when SMTP_URL carries no credentials', async () => {
    const before = server.received.length;
    const outcome = await sendOnce(server.url());
    assert.equal(outcome.kind, 'permanent');
    assert.match(outcome.detail, /^530/);
    assert.equal(server.received.length, before);
  });

  it('with requireTLS=true in SMTP_URL, never sends credentials to a server without STARTTLS', async () => {
    const before = server.received.length;
    const outcome = await sendOnce(server.url(GOOD, 'requireTLS=true'));
    assert.equal(outcome.kind, 'permanent');
    assert.equal(server.received.length, before);
  });
});

describe('STARTTLS with a self-signed certificate', () => {
  let dir: string;
  let server: Server;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'relay-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    ], { stdio: 'ignore' }); // prettier-ignore
    server = await startServer({
      key: readFileSync(join(dir, 'key.pem')),
      cert: readFileSync(join(dir, 'cert.pem')),
      authMethods: ['PLAIN'],
    });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an untrusted certificate rather than falling back to plain text', async () => {
    const outcome = await sendOnce(server.url(GOOD));
    assert.notEqual(outcome.kind, 'sent');
    assert.match(outcome.detail, /certificate/i);
    assert.equal(server.received.length, 0, 'neither credentials nor referral crossed in the clear');
  });

  it('upgrades, then authenticates, when the operator trusts the CA (NODE_EXTRA_CA_CERTS)', async () => {
    const channelPath = fileURLToPath(
      new URL('../../src/delivery/channels/email.channel.ts', import.meta.url),
    );
    const script = join(dir, 'send.mts');
    writeFileSync(
      script,
      `import { EmailChannel } from ${JSON.stringify(channelPath)};\n` +
        `const c = new EmailChannel({ smtpUrl: ${JSON.stringify(server.url(GOOD))}, poolSize: 1, timeoutMs: 5000 });\n` +
        `const m = ${JSON.stringify(message(2))};\n` +
        `console.log(JSON.stringify(await c.send(m)));\nc.close();\n`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') },
    });
    assert.equal((JSON.parse(stdout) as { kind: string }).kind, 'sent');
    assert.deepEqual(server.received.at(-1), { to: ['team2@example.org'], user: 'relay', secure: true });
  });

  it('can be told to skip verification through SMTP_URL (tls.rejectUnauthorized=false)', async () => {
    const outcome = await sendOnce(server.url(GOOD, 'tls.rejectUnauthorized=false'));
    assert.equal(outcome.kind, 'sent');
    assert.deepEqual(server.received.at(-1), { to: ['team1@example.org'], user: 'relay', secure: true });
  });
});

describe('connection pool', () => {
  it('carries 20 concurrent sends over no more than poolSize connections', async () => {
    const server = await startServer({ authOptional: true, disabledCommands: ['STARTTLS'] }, 40);
    const channel = new EmailChannel({ smtpUrl: server.url(), poolSize: 2, timeoutMs: 5000 });
    try {
      const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => channel.send(message(i + 1))));
      assert.deepEqual(
        outcomes.map((o) => o.kind),
        Array<string>(20).fill('sent'),
      );
      assert.deepEqual(
        server.received.map((r) => r.to[0]).sort(),
        Array.from({ length: 20 }, (_, i) => `team${i + 1}@example.org`).sort(),
      );
      assert.equal(server.peakConnections, 2, 'two connections work side by side, never more');
      assert.equal(server.totalConnections, 2, 'and they are reused rather than reopened');
    } finally {
      channel.close();
      await server.close();
    }
  });
});
