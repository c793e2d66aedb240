import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { createContext } from '../../src/context.ts';
import { createLogger } from '../../src/http/logger.ts';
import { createTestRelay, testConfig, type TestRelay } from '../helpers/relay.ts';

/** The `req` of each request log line an app writes for one request from `from`. */
async function loggedClient(
  relay: TestRelay,
  env: Record<string, string>,
  from: string,
): Promise<{ remoteAddress?: string; protocol?: string }> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const ctx = createContext(testConfig(env), relay.database.db, relay.clock);
  const app = buildApp(ctx, { logger: createLogger('info', sink) });
  try {
    const response = await app.inject({
      url: '/healthz',
      remoteAddress: from,
      headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' },
    });
    assert.equal(response.statusCode, 200);
  } finally {
    await app.close();
  }
  const logged = lines.map(
    (line) => JSON.parse(line) as { req?: { remoteAddress?: string; protocol?: string } },
  );
  const request = logged.find((line) => line.req)?.req;
  assert.ok(request, lines.join('\n'));
  return { remoteAddress: request.remoteAddress, protocol: request.protocol };
}

describe('TRUST_PROXY: the client behind a reverse proxy', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await createTestRelay('sqlite');
  });
  after(async () => relay.close());

  it('names the forwarded client and https when the request comes from a trusted proxy', async () => {
    assert.deepEqual(await loggedClient(relay, { TRUST_PROXY: '127.0.0.1' }, '127.0.0.1'), {
      remoteAddress: '203.0.113.7',
      protocol: 'https',
    });
    assert.deepEqual(await loggedClient(relay, { TRUST_PROXY: '10.0.0.0/8,127.0.0.1' }, '10.1.2.3'), {
      remoteAddress: '203.0.113.7',
      protocol: 'https',
    });
  });

  it('ignores the headers from anyone else, and from everyone when unset (they could be forged)', async () => {
    assert.deepEqual(await loggedClient(relay, { TRUST_PROXY: '10.0.0.0/8' }, '198.51.100.9'), {
      remoteAddress: '198.51.100.9',
      protocol: 'http',
    });
    assert.deepEqual(await loggedClient(relay, {}, '127.0.0.1'), {
      remoteAddress: '127.0.0.1',
      protocol: 'http',
    });
  });
});
