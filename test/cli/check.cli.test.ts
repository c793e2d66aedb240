import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { recordHeartbeat } from '../../src/assurance/heartbeat.ts';
import { recordSweepCompleted } from '../../src/assurance/sweep-status.ts';
import { sweep } from '../../src/assurance/watchdog.ts';
import { childDatabaseEnv, describeEachDialect } from '../helpers/db.ts';
import { dudleyReferral } from '../helpers/referrals.ts';
import { inheritedClockEnv } from '../helpers/clock.ts';
import { runRelay } from '../helpers/process.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

const MINUTE = 60_000;
const MODULE_TRACE = pathToFileURL(
  fileURLToPath(new URL('../helpers/module-trace.mjs', import.meta.url)),
).href;
/** The child's WATCHDOG_INTERVAL_MS (the default): stale means older than three of these. */
const INTERVAL = 15_000;

describeEachDialect('relay check', (dialect) => {
  let relay: TestRelay;
  let env: Record<string, string>;
  const check = (...args: string[]) => runRelay(['check', ...args], env);
  /** The one line a failing check prints, without its `relay: ` prefix. */
  const reasonOf = (result: ReturnType<typeof check>) => {
    assert.equal(result.status, 1, result.stdout);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] ?? '', /^relay: /);
    return (lines[0] ?? '').slice('relay: '.length);
  };
  /** What a healthy cluster writes as it runs: a completed sweep and a dispatcher heartbeat, now. */
  const working = async () => {
    relay.clock.set(new Date().toISOString());
    await recordSweepCompleted(relay.ctx.db.kysely, relay.clock, 'node-1', 0);
    await recordHeartbeat(relay.ctx, 'dispatcher', 'node-1');
  };

  before(async () => {
    // A referral raised two hours ago with a 30-minute deadline, and no watchdog ever ran.
    relay = await createTestRelay(dialect, {
      now: new Date(Date.now() - 120 * MINUTE).toISOString(),
      env: { ACK_BY_URGENT: '30m' },
    });
    const raised = await relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: { authorization: `Bearer ${relay.epcrKey}` },
      payload: dudleyReferral('CHECK-1'),
    });
    assert.equal(raised.statusCode, 201, raised.body);
    env = childDatabaseEnv(relay.database);
  });
  after(async () => relay.close());

  it('exits 1 with one line naming every problem when nothing has swept, sent or escalated', () => {
    const result = check();
    assert.equal(result.stdout, '');
    const reason = reasonOf(result);
    assert.match(
      reason,
      /^no completed sweep has been recorded; no dispatcher heartbeat has been recorded; \d+ deadlines have passed more than three watchdog intervals ago without an escalation \(not-sent: \d+, not-acknowledged: \d+\)$/,
    );
    assert.ok(!reason.includes('CHECK-1'), 'counts, never a referral');
    assert.equal(reasonOf(check('--quiet')), reason, '--quiet still says what is wrong');
  });

  it('exits 0 once a sweep has escalated the deadlines and the dispatcher beats; --quiet says nothing', async () => {
    relay.clock.set(new Date().toISOString());
    const report = await sweep(relay.ctx);
    assert.ok(report.escalations >= 2, 'the sweep escalated what was overdue');
    await working();
    const result = check();
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      /^OK: the last completed sweep was \d+ s ago, the last dispatcher heartbeat was \d+ s ago, no deadline passed without an escalation\n$/,
    );
    const quiet = check('--quiet');
    assert.equal(quiet.status, 0, quiet.stderr);
    assert.equal(quiet.stdout + quiet.stderr, '');
  });

  it('exits 1 when the last completed sweep is older than three intervals', async () => {
    await working();
    await relay.ctx.db.kysely
      .updateTable('sweep_status')
      .set((eb) => ({ completed_ms: eb('completed_ms', '-', 3 * INTERVAL + 10_000) }))
      .execute();
    assert.match(
      reasonOf(check('--quiet')),
      /^the last completed sweep was \d+ s ago \(more than three watchdog intervals\)$/,
    );
  });

  it('exits 1 when the dispatcher has not beaten within three intervals, or beat in the future', async () => {
    await working();
    const at = (ms: number) => new Date(Date.now() + ms).toISOString();
    const beat = (beat_at: string) =>
      relay.ctx.db.kysely
        .updateTable('heartbeats')
        .set({ beat_at })
        .where('component', '=', 'dispatcher')
        .execute();
    await beat(at(-3 * INTERVAL - 10_000));
    assert.match(
      reasonOf(check()),
      /^the last dispatcher heartbeat was \d+ s ago \(more than three watchdog intervals\)$/,
    );
    await beat(at(3 * 3600_000));
    assert.match(
      reasonOf(check()),
      /^the last dispatcher heartbeat is \d+ s in the future: a clock was moved back$/,
    );
    await working();
    assert.equal(check().status, 0);
  });

  it('loads none of the directory, intake or API-key code a serving node needs', () => {
    const trace = join(mkdtempSync(join(tmpdir(), 'relay-trace-')), 'modules.txt');
    const options = [inheritedClockEnv().NODE_OPTIONS, `--import=${MODULE_TRACE}`].filter(Boolean).join(' ');
    runRelay(['check'], { ...env, NODE_OPTIONS: options, RELAY_MODULE_TRACE: trace });
    const loaded = readFileSync(trace, 'utf8').split('\n');
    assert.ok(
      loaded.some((m) => /^assurance\/check\.(js|ts)$/.test(m)),
      `the trace saw the check itself: ${loaded.join(', ')}`,
    );
    for (const module of ['directory/directory.service', 'referrals/intake.writer', 'access/apikey.cache'])
      assert.ok(!loaded.some((m) => m.startsWith(`${module}.`)), `${module} was loaded`);
  });
});

describe('relay check without a database', () => {
  it('exits 1 with one line when the database cannot be reached', () => {
    const result = runRelay(['check'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/relay' });
    assert.equal(result.status, 1);
    assert.equal(result.stderr.trim(), 'relay: cannot reach the database');
  });
});
