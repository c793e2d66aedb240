import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { checkRelay } from '../../src/assurance/check.ts';
import { checkReadiness } from '../../src/assurance/health.ts';
import { recordHeartbeat } from '../../src/assurance/heartbeat.ts';
import { recordSweepCompleted } from '../../src/assurance/sweep-status.ts';
import type { RelayContext } from '../../src/context.ts';
import { DAY } from '../../src/time.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { createTestCa, type TestCa } from '../helpers/tls-certs.ts';

describeEachDialect('MESH client certificate in relay check and /readyz', (dialect) => {
  let ca: TestCa;
  let relay: TestRelay;
  /** Valid for a year, ten days, and the key of neither. */
  let yearLong: { cert: string; key: string };
  let tenDays: { cert: string; key: string };
  let strangerKey: string;

  before(async () => {
    ca = createTestCa('check');
    yearLong = ca.issue('year-long');
    tenDays = ca.issue('ten-days', { days: 10 });
    strangerKey = ca.issue('stranger').key;
    relay = await createTestRelay(dialect, {
      env: {
        MESH_URL: 'https://127.0.0.1:1',
        MESH_MAILBOX: 'X26ABC1',
        MESH_PASSWORD: 'password',
        MESH_SHARED_KEY: 'TestKey',
        MESH_CLIENT_CERT: yearLong.cert,
        MESH_CLIENT_KEY: yearLong.key,
      },
    });
    // A working cluster, so that only the certificate can make the check fail.
    relay.clock.set(new Date().toISOString());
    await recordSweepCompleted(relay.ctx.db.kysely, relay.clock, 'node-1', 0);
    await recordHeartbeat(relay.ctx, 'dispatcher', 'node-1');
    await recordHeartbeat(relay.ctx, 'watchdog', 'node-1');
  });
  after(async () => {
    await relay?.close();
    ca?.remove();
  });

  /** Relay's context with other certificate files: the same database and clock. */
  function withFiles(files: { cert: string; key: string }): RelayContext {
    const mesh = { ...relay.ctx.config.mesh!, clientCert: files.cert, clientKey: files.key };
    return { ...relay.ctx, config: { ...relay.ctx.config, mesh } };
  }

  const readiness = (ctx: RelayContext) => checkReadiness(ctx);

  it('passes a certificate that matches its key and is valid for a year, and /readyz shows its expiry', async () => {
    const result = await checkRelay(relay.ctx);
    assert.equal(result.ok, true, result.line);
    assert.deepEqual(result.warnings, []);
    assert.doesNotMatch(result.line, /MESH/);
    const answer = await relay.app.inject({ method: 'GET', url: '/readyz' });
    const body = answer.json<{
      components: { meshCertificate?: { state: string; expiresAt: string; daysLeft: number } };
    }>();
    assert.equal(body.components.meshCertificate?.state, 'ok');
    assert.ok(
      body.components.meshCertificate.daysLeft >= 363 && body.components.meshCertificate.daysLeft <= 365,
    );
    assert.ok(
      Math.abs(Date.parse(body.components.meshCertificate.expiresAt) - (Date.now() + 365 * DAY)) < 2 * DAY,
    );
  });

  it('warns, still passing, of a certificate that expires within 30 days', async () => {
    const result = await checkRelay(withFiles(tenDays));
    assert.equal(result.ok, true, result.line);
    assert.equal(result.warnings.length, 1);
    assert.match(
      result.line,
      /; warning: MESH client certificate expires on \S+ \(in (9|10) days\): renew it$/,
    );
    assert.equal((await readiness(withFiles(tenDays))).components.meshCertificate?.state, 'expiring');
  });

  it('fails on an expired certificate', async () => {
    const later = { ...withFiles(tenDays) };
    const now = relay.clock.now();
    relay.clock.advance(11 * DAY);
    try {
      const result = await checkRelay(later);
      assert.equal(result.ok, false);
      assert.match(result.line, /MESH client certificate expired on \S+/);
      assert.equal((await readiness(later)).components.meshCertificate?.state, 'expired');
    } finally {
      relay.clock.set(now.toISOString());
    }
  });

  it('fails on a key that is not the certificate’s, and on a file that is not PEM', async () => {
    const mismatched = await checkRelay(withFiles({ cert: yearLong.cert, key: strangerKey }));
    assert.equal(mismatched.ok, false);
    assert.equal(
      mismatched.line,
      `MESH_CLIENT_KEY ${strangerKey} is not the key of MESH_CLIENT_CERT ${yearLong.cert}`,
    );
    const garbage = join(ca.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    const unreadable = await checkRelay(withFiles({ cert: garbage, key: yearLong.key }));
    assert.equal(unreadable.ok, false);
    assert.match(unreadable.line, new RegExp(`^MESH_CLIENT_CERT ${garbage} does not load \\(`));
    // The key's contents never appear in what check or /readyz say.
    assert.doesNotMatch(unreadable.line + mismatched.line, /PRIVATE KEY|BEGIN/);
    const state = (await readiness(withFiles({ cert: garbage, key: yearLong.key }))).components
      .meshCertificate;
    assert.deepEqual(state, { state: 'invalid' });
  });
});
