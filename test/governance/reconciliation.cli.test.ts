import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { acknowledgeForTeam } from '../../src/response/acknowledgement.service.ts';
import type { ReconciliationReport } from '../../src/governance/reconciliation.ts';
import { runRelay } from '../helpers/process.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { raise } from '../helpers/referrals.ts';

/** A failure: non-zero, nothing on stdout, one `relay: ` line on stderr. */
function assertOneLineFailure(result: ReturnType<typeof runRelay>, reason: RegExp): void {
  assert.notEqual(result.status, 0, result.stdout);
  assert.equal(result.stdout, '');
  const lines = result.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0] ?? '', /^relay: /);
  assert.match(lines[0] ?? '', reason);
}

describe('relay reconcile FILE', () => {
  let relay: TestRelay;
  let dir: string;
  let env: Record<string, string>;
  const file = (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  before(async () => {
    // The test relay raises referrals on a SQLite file; the command runs as a separate process on it.
    relay = await createTestRelay('sqlite', { now: '2026-11-25T11:00:00Z' });
    dir = mkdtempSync(join(tmpdir(), 'relay-reconcile-'));
    env = { DATABASE_URL: relay.database.url };
    const acked = await raise(relay, { source: { system: 'test-epcr', reference: 'CLI-1' } });
    await raise(relay, { source: { system: 'test-epcr', reference: 'CLI-2' } });
    await acknowledgeForTeam(relay.ctx, acked.id, 'birmingham-adults', {
      method: 'api',
      name: 'Duty worker',
      actor: 'test',
    });
  });
  after(async () => {
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const EXPORT =
    '\uFEFFsource_reference,created_at\r\nCLI-1,2026-11-25T10:59:00Z\r\nCLI-2,2026-11-25T10:59:30Z\r\nCLI-3,2026-11-25T11:00:00Z\r\nCLI-4,tomorrow\r\n';

  it('prints a summary and the findings, exits 0 with findings, and escalates the missing one once', async () => {
    const path = file('export.csv', EXPORT);
    const result = runRelay(['reconcile', path], env);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /^Reconciliation [0-9a-f-]{36}\n/);
    assert.match(
      result.stdout,
      /Source system: test-epcr; from Wed, 25 Nov 2026, 10:59 to Wed, 25 Nov 2026, 11:00/,
    );
    assert.match(result.stdout, /Missing from Relay: +1\n/);
    assert.match(result.stdout, /Not yet acknowledged: +1\n/);
    assert.match(result.stdout, /Rows that could not be read: +1\n/);
    assert.match(result.stdout, /test-epcr {2}CLI-3 {2}line 4; .*escalation opened/);
    assert.match(result.stdout, /line 5: the created_at value is not a date/);
    assert.equal(runRelay(['reconcile', path, '--system', 'test-epcr'], env).status, 0);
    const escalations = await relay.ctx.db.kysely
      .selectFrom('escalations')
      .select('detail')
      .where('reason', '=', 'missing-referral')
      .execute();
    assert.deepEqual(
      escalations.map((e) => (JSON.parse(e.detail) as { sourceReference: string }).sourceReference),
      ['CLI-3'],
    );
  });

  it('prints the report as JSON and as CSV', () => {
    const path = file('export.csv', EXPORT);
    const json = runRelay(['reconcile', path, '--format', 'json'], env);
    assert.equal(json.status, 0, json.stderr);
    const report = JSON.parse(json.stdout) as ReconciliationReport;
    assert.deepEqual(report.counts, {
      missing: 1,
      notAcknowledged: 1,
      acknowledgedLate: 0,
      duplicates: 0,
      notInFile: 0,
      malformed: 1,
    });
    assert.equal(report.missing[0]?.escalationOpened, false, 'an earlier run opened it');
    const csv = runRelay(['reconcile', path, '--format', 'csv'], env);
    assert.equal(csv.status, 0, csv.stderr);
    const lines = csv.stdout.trimEnd().split('\r\n');
    assert.equal(lines[0], 'category,source_system,source_reference,relay_reference,team,detail');
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(',')[0]),
      ['missing', 'not-acknowledged', 'malformed'],
    );
  });

  it('fails in one line, changing nothing, when the file cannot be read or used', async () => {
    const runs = async () =>
      (await relay.ctx.db.kysely.selectFrom('reconciliation_runs').select('id').execute()).length;
    const before = await runs();
    assertOneLineFailure(
      runRelay(['reconcile', join(dir, 'absent.csv')], env),
      /cannot read .*absent\.csv: no such file/,
    );
    assertOneLineFailure(runRelay(['reconcile', dir], env), /it is a directory/);
    assertOneLineFailure(
      runRelay(['reconcile', file('empty.csv', '')], env),
      /empty\.csv: the file is empty/,
    );
    assertOneLineFailure(
      runRelay(['reconcile', file('noheader.csv', 'CLI-1,2026-11-25T10:59:00Z\n')], env),
      /header naming the columns source_reference and created_at/,
    );
    assertOneLineFailure(
      runRelay(['reconcile', file('typo.csv', EXPORT), '--system', 'test-epcr-typo'], env),
      /no source system called "test-epcr-typo"/,
    );
    assert.equal(await runs(), before);
  });

  it('refuses a wrong invocation with its reason first, then the usage (as every command does)', () => {
    const wrongFormat = runRelay(['reconcile', file('x.csv', EXPORT), '--format', 'xml'], env);
    assert.notEqual(wrongFormat.status, 0);
    assert.match(wrongFormat.stderr.split('\n')[0] ?? '', /^relay: .*'xml' is invalid/);
    const noFile = runRelay(['reconcile'], env);
    assert.notEqual(noFile.status, 0);
    assert.match(noFile.stderr.split('\n')[0] ?? '', /^relay: missing required argument 'file'/);
  });

  it('asks for --system when the period has no referrals to tell it', () => {
    const path = file('old.csv', 'source_reference,created_at\nOLD-1,2020-01-01T10:00:00Z\n');
    assertOneLineFailure(runRelay(['reconcile', path], env), /say which source system .*\(give --system\)$/);
  });

  it('explains itself with --help', () => {
    const result = runRelay(['reconcile', '--help'], env);
    assert.equal(result.status, 0);
    assert.match(result.stdout, /Usage: relay reconcile \[options\] <file>/);
    assert.match(result.stdout, /--system <system>/);
    assert.match(result.stdout, /--apply/);
    assert.match(result.stdout, /--dry-run/);
    assert.match(result.stdout, /--format <format>.*"text", "json", "csv"/s);
  });

  it('previews what a typed --system would open, and opens it only with --apply', async () => {
    const db = relay.ctx.db.kysely;
    // A second system Relay knows, which a person might type by mistake.
    const other = await raise(relay, { source: { system: 'test-epcr', reference: 'OTHER-1' } });
    await db
      .updateTable('referrals')
      .set({ source_system: 'other-epcr' })
      .where('id', '=', other.id)
      .execute();
    const missing = async () =>
      (
        await db.selectFrom('escalations').select('detail').where('reason', '=', 'missing-referral').execute()
      ).map((e) => (JSON.parse(e.detail) as { sourceReference: string }).sourceReference);
    const runs = async () => (await db.selectFrom('reconciliation_runs').select('id').execute()).length;
    const before = { missing: await missing(), runs: await runs() };
    const path = file(
      'typed.csv',
      'source_reference,created_at\nCLI-1,2026-11-25T10:59:00Z\nCLI-5,2026-11-25T11:00:10Z\n',
    );

    const wrong = runRelay(['reconcile', path, '--system', 'other-epcr'], env);
    assert.equal(wrong.status, 0, wrong.stderr);
    assert.match(
      wrong.stdout,
      /^Preview: nothing was opened or stored; 2 missing-referral escalations would be opened\.\n/,
    );
    assert.match(wrong.stdout, /other-epcr {2}CLI-1 {2}line 2; .*escalation not opened \(preview\)/);
    assert.match(
      wrong.stderr,
      /^relay: preview only: 2 missing-referral escalations not opened, .*--apply\n$/,
    );
    assert.deepEqual({ missing: await missing(), runs: await runs() }, before, 'nothing opened or stored');

    const dry = runRelay(['reconcile', path, '--system', 'test-epcr', '--dry-run', '--format', 'json'], env);
    assert.equal(dry.status, 0, dry.stderr);
    assert.equal((JSON.parse(dry.stdout) as ReconciliationReport).preview, true);
    assert.match(
      dry.stderr,
      /^relay: dry run: nothing was opened or stored \(1 missing-referral escalation would be opened\)\n$/,
    );
    assert.deepEqual({ missing: await missing(), runs: await runs() }, before);

    const applied = runRelay(['reconcile', path, '--system', 'test-epcr', '--apply'], env);
    assert.equal(applied.status, 0, applied.stderr);
    assert.equal(applied.stderr, '');
    assert.match(applied.stdout, /test-epcr {2}CLI-5 {2}line 3; .*escalation opened/);
    assert.deepEqual(await missing(), [...before.missing, 'CLI-5']);
    assert.equal(await runs(), before.runs + 1);
  });
});
