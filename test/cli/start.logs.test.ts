import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import {
  childDatabaseEnv,
  createTestDatabase,
  describeEachDialect,
  type TestDatabase,
} from '../helpers/db.ts';
import { productionEnv, startRelay } from '../helpers/process.ts';

interface LogLine {
  level: number;
  time: number;
  msg: string;
  [field: string]: unknown;
}

/** Every line of a production node's standard output, each parsed as JSON (one that is not fails). */
function logLines(stdout: string): LogLine[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
}

describeEachDialect('relay start in production logs JSON lines only', (dialect) => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase(dialect, { migrate: false });
  });
  after(async () => database.drop());

  it('every line on standard output, from start-up to Stopped., is a JSON log line', async () => {
    const env = await productionEnv();
    const relay = startRelay({ ...childDatabaseEnv(database), ...env });
    try {
      await relay.waitForOutput(/is running/);
      const base = `http://127.0.0.1:${env.PORT}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      // An acknowledge link that is not one: refused, and logged without its token or query.
      assert.equal((await fetch(`${base}/ack/a-bearer-token?surname=Smith`)).status, 400);
    } finally {
      relay.child.kill('SIGTERM');
    }
    assert.equal(await relay.exited, 0, relay.output());

    const lines = logLines(relay.stdout());
    for (const line of lines) {
      assert.equal(typeof line.level, 'number', JSON.stringify(line));
      assert.equal(typeof line.time, 'number', JSON.stringify(line));
    }
    const messages = lines.map((line) => line.msg);
    const running = lines.find((line) => /is running/.test(line.msg));
    assert.deepEqual(
      { role: running?.role, url: running?.url, msg: running?.msg },
      {
        role: 'all',
        url: 'https://relay.example',
        msg: 'Safeguard Relay (all) is running at https://relay.example',
      },
    );
    assert.ok(
      messages.some((msg) => /^WARNING: no directory is loaded/.test(msg)),
      'warnings are log lines too',
    );
    assert.ok(messages.some((msg) => msg.startsWith('SIGTERM received: answering 503')));
    assert.equal(messages.at(-1), 'Stopped.');
    const urls = lines.flatMap((line) => (line.req as { url?: string } | undefined)?.url ?? []);
    assert.deepEqual(urls, ['/healthz', '/ack/[token]?[redacted]'], 'request logs, token and query hidden');
    assert.equal(relay.stderr(), '', 'nothing for a person to read on standard error');
  });
});
