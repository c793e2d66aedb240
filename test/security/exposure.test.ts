import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { freePort, runRelay, startRelay } from '../helpers/process.ts';

/** Issue 14, finding 1: what a stranger on the network can reach by default. */
const dir = mkdtempSync(join(tmpdir(), 'relay-exposure-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('what Relay exposes by default', () => {
  it('listens on loopback unless HOST says otherwise', () => {
    assert.equal(loadConfig({}).host, '127.0.0.1');
    assert.equal(loadConfig({ HOST: '0.0.0.0' }).host, '0.0.0.0');
  });

  it('never runs the mail catcher in production, even when asked', () => {
    assert.throws(
      () => loadConfig({ RELAY_ENV: 'production', MAILCATCHER: 'on' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.includes('MAILCATCHER=on is never allowed when RELAY_ENV=production'),
    );
  });

  it('refuses to start without SMTP_URL unless the catcher is asked for, and starts no catcher', async () => {
    const catcherPort = await freePort();
    const env = {
      DATABASE_URL: `sqlite:${join(dir, 'refused.db')}`,
      PORT: String(await freePort()),
      MAILCATCHER_PORT: String(catcherPort),
    };
    const refused = runRelay(['start'], env);
    assert.equal(refused.status, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /SMTP_URL is not set: .*--demo.*MAILCATCHER=on/);
    assert.equal(await listening(catcherPort), false, 'no catcher was left listening');
  });

  it('runs the catcher with MAILCATCHER=on', async () => {
    const env = {
      DATABASE_URL: `sqlite:${join(dir, 'asked.db')}`,
      PORT: String(await freePort()),
      MAILCATCHER_PORT: '0',
      MAILCATCHER: 'on',
    };
    const relay = startRelay(env);
    try {
      await relay.waitForOutput(/is running/);
      assert.match(relay.output(), /built-in mail catcher/);
    } finally {
      relay.child.kill('SIGTERM');
      await relay.exited;
    }
  });
});
