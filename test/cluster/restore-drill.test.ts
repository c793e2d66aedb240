import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { recentReferral } from '../helpers/referrals.ts';
import { freePort, runRelay, startRelay } from '../helpers/process.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';

const SKIP = process.env.TEST_DATABASE_URL ? false : 'needs PostgreSQL: set TEST_DATABASE_URL (CI does)';

/**
 * docs/operations.md's restore drill, step by step, with the commands it gives: a backup of a
 * database whose outbox still holds unsent referrals, restored into a scratch database owned by a
 * role of its own, checked with relay migrate, keys status and audit verify as that role, and shown
 * by a drill node that sends nothing although SMTP_URL names a working mail server.
 */
describe('the restore drill in docs/operations.md [postgres]', { skip: SKIP }, () => {
  const admin = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  const suffix = randomBytes(4).toString('hex');
  const source = `relay_src_${suffix}`;
  const drill = `relay_drill_${suffix}`;
  const pgEnv = {
    ...process.env,
    PGHOST: admin.hostname,
    PGPORT: admin.port || '5432',
    PGUSER: decodeURIComponent(admin.username),
  };
  const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { env: pgEnv, stdio: 'pipe' });
  const urlOf = (db: string, user = pgEnv.PGUSER) =>
    `postgres://${user}@${pgEnv.PGHOST}:${pgEnv.PGPORT}/${db}`;
  let dir: string;
  let smtp: TestSmtpServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'relay-drill-'));
    smtp = await startTestSmtpServer();
    sh('createdb', [source]);
  });
  after(async () => {
    await smtp.close();
    for (const db of [drill, source]) sh('dropdb', ['--if-exists', '--force', db]);
    sh('dropuser', ['--if-exists', drill]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores as the drill role, verifies, and a drill node shows the copy and sends nothing', async (t) => {
    // Production: a referral whose email could not be sent yet (its mail server refuses).
    const live = { DATABASE_URL: urlOf(source), SMTP_URL: 'smtp://127.0.0.1:1', TEST_ALERT_INTERVAL: 'off' };
    assert.equal(runRelay(['directory', 'import', '--demo'], live).status, 0);
    const key = runRelay(
      ['apikey', 'create', '--name', 'drill', '--scope', 'referrals:write', '--system', 'drill-epcr'],
      live,
    ).stdout.trim();
    const port = await freePort();
    const node = startRelay({ ...live, PORT: String(port), SAFEGUARDING_EMAIL: 'sg@example.org' });
    await node.waitForOutput(/is running/);
    const raised = await fetch(`http://127.0.0.1:${port}/api/v1/referrals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(recentReferral({ system: 'drill-epcr', reference: 'DRILL-1' })),
    });
    assert.equal(raised.status, 201, await raised.text());
    node.child.kill('SIGTERM');
    assert.equal(await node.exited, 0, node.output());

    const started = Date.now();
    const dump = join(dir, 'relay-latest.dump');
    // Step 1: the backup. Step 2: a role and a scratch database it owns.
    sh('pg_dump', ['--format=custom', `--file=${dump}`, urlOf(source)]);
    sh('createuser', ['--login', drill]);
    sh('createdb', [`--owner=${drill}`, drill]);
    // Step 3: restored as that role, so it owns every table it must lock and write.
    sh('pg_restore', ['--no-owner', '--no-privileges', `--role=${drill}`, `--dbname=${drill}`, dump]);

    // Steps 4 to 6, as the drill role.
    const copy = { DATABASE_URL: urlOf(drill, drill), SMTP_URL: smtp.url, TEST_ALERT_INTERVAL: 'off' };
    const migrated = runRelay(['migrate'], copy);
    assert.equal(migrated.status, 0, migrated.stderr);
    assert.match(migrated.stdout, /up to date/);
    const keys = runRelay(['keys', 'status'], copy);
    assert.equal(keys.status, 0, keys.stderr);
    const verified = runRelay(['audit', 'verify'], copy);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout, /Audit chain intact/);

    // Step 7: the drill node, with a mail server that would accept everything.
    const drillPort = await freePort();
    const shown = startRelay({
      ...copy,
      PORT: String(drillPort),
      RELAY_MODE: 'drill',
      DISPATCH_POLL: '200ms',
    });
    try {
      await shown.waitForOutput(/is running/);
      assert.match(shown.output(), /DRILL: a restored copy/);
      const at = `http://127.0.0.1:${drillPort}`;
      const signIn = await (await fetch(`${at}/sign-in`)).text();
      assert.match(signIn, /DRILL: a restored copy, for reading only/);
      const refused = await fetch(`${at}/api/v1/referrals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(exampleReferral({ source: { system: 'drill-epcr', reference: 'DRILL-2' } })),
      });
      assert.equal(refused.status, 503, 'a drill copy takes no new work');
      const status = await fetch(`${at}/api/v1/referrals?reference=DRILL-1`, {
        headers: { authorization: `Bearer ${key}` },
      });
      assert.notEqual(status.status, 503, 'reads are answered');
      // Several of the would-be dispatcher's polls pass: nothing leaves.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(smtp.received.length, 0, 'the drill node sent nothing');
    } finally {
      shown.child.kill('SIGTERM');
      assert.equal(await shown.exited, 0, shown.output());
    }
    const client = new pg.Client({ connectionString: urlOf(drill) });
    await client.connect();
    const { rows } = await client.query<{ state: string }>(`select state from deliveries`);
    await client.end();
    assert.ok(
      rows.length > 0 && rows.every((r) => r.state !== 'sent'),
      'the copy’s outbox is as the backup left it',
    );
    t.diagnostic(`restore and checks took ${Date.now() - started} ms`);
  });
});
