import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { acknowledgeForTeam } from '../../src/response/acknowledgement.service.ts';
import { reportCsv, reportText } from '../../src/governance/reconciliation.output.ts';
import {
  reconcile,
  ReconciliationInputError,
  type ReconciliationReport,
} from '../../src/governance/reconciliation.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { outsideCoverage } from '../web/safeguarding/helpers.ts';
import { raise } from '../helpers/referrals.ts';

const MINUTE = 60_000;
const by = { method: 'api' as const, name: 'Duty worker', actor: 'test' };

/** The file the source system would export: every referral it raised, one listed twice, one lost. */
const FILE = [
  'source_reference,created_at,crew',
  'R-ACK,2026-11-25T10:58:00Z,BM-1',
  'R-LATE,2026-11-25T10:59:00Z,BM-2',
  'R-OPEN,2026-11-25 10:59:30,BM-3', // London time, which is UTC in November
  'R-TRIAGE,2026-11-25T10:59:40Z,BM-4',
  'R-MISSING,2026-11-25T11:00:30Z,BM-5',
  'R-ACK,2026-11-25T10:58:00Z,BM-1',
  'R-BAD,yesterday,BM-6',
].join('\r\n');

describeEachDialect('reconciliation against Relay', (dialect) => {
  let relay: TestRelay;
  let first: ReconciliationReport;
  const ids = new Map<string, { id: string; reference: string }>();

  before(async () => {
    relay = await createTestRelay(dialect, { now: '2026-11-25T11:00:00Z' });
    const source = (reference: string) => ({ source: { system: 'test-epcr', reference } });
    for (const ref of ['R-ACK', 'R-LATE', 'R-OPEN', 'R-EXTRA']) ids.set(ref, await raise(relay, source(ref)));
    ids.set('R-TRIAGE', await raise(relay, { ...outsideCoverage(), ...source('R-TRIAGE') }));
    relay.clock.advance(5 * MINUTE);
    await acknowledgeForTeam(relay.ctx, ids.get('R-ACK')!.id, 'birmingham-adults', by);
    const late = await relay.ctx.db.kysely
      .selectFrom('routes')
      .select('ack_by')
      .where('referral_id', '=', ids.get('R-LATE')!.id)
      .executeTakeFirstOrThrow();
    relay.clock.set(new Date(Date.parse(late.ack_by) + 95 * MINUTE));
    await acknowledgeForTeam(relay.ctx, ids.get('R-LATE')!.id, 'birmingham-adults', by);
    first = await reconcile(relay.ctx, FILE, { actor: 'test' });
  });
  after(async () => relay.close());

  it('finds the referral Relay never received, by line', () => {
    assert.deepEqual(
      first.missing.map((m) => [m.line, m.system, m.sourceReference, m.createdAt, m.escalationOpened]),
      [[6, 'test-epcr', 'R-MISSING', '2026-11-25T11:00:30.000Z', true]],
    );
  });

  it('lists each team yet to acknowledge, with its deadline, and a referral still in triage', () => {
    const open = first.notAcknowledged.map((f) => [f.sourceReference, f.reference, f.team, f.overdue]);
    assert.deepEqual(open, [
      ['R-OPEN', ids.get('R-OPEN')!.reference, 'birmingham-adults', true],
      ['R-TRIAGE', ids.get('R-TRIAGE')!.reference, null, false],
    ]);
    assert.equal(first.notAcknowledged[0]?.teamName, 'Birmingham Adult Social Care Front Door');
    assert.ok(first.notAcknowledged[0]?.ackBy);
  });

  it('says which team acknowledged after its deadline, and how late', () => {
    assert.deepEqual(
      first.acknowledgedLate.map((f) => [f.sourceReference, f.team, f.lateMinutes]),
      [['R-LATE', 'birmingham-adults', 95]],
    );
  });

  it('finds the reference listed twice, and the referral the file leaves out', () => {
    assert.deepEqual(first.duplicates, [{ system: 'test-epcr', sourceReference: 'R-ACK', lines: [2, 7] }]);
    assert.deepEqual(
      first.notInFile.map((f) => [f.sourceReference, f.reference]),
      [['R-EXTRA', ids.get('R-EXTRA')!.reference]],
    );
    assert.deepEqual(
      first.malformed.map((m) => [m.line, m.sourceReference]),
      [[8, 'R-BAD']],
    );
  });

  it('settles the source system and period from the file and Relay, and counts everything', () => {
    assert.deepEqual(first.systems, ['test-epcr']);
    // To the end of the last second the file names: it was written to the second.
    assert.deepEqual(first.period, { from: '2026-11-25T10:58:00.000Z', to: '2026-11-25T11:00:30.999Z' });
    assert.deepEqual([first.rows, first.references, first.found], [6, 5, 4]);
    assert.deepEqual(first.counts, {
      missing: 1,
      notAcknowledged: 2,
      acknowledgedLate: 1,
      duplicates: 1,
      notInFile: 1,
      malformed: 1,
    });
  });

  it('opens exactly one escalation for the missing referral, however often it is reconciled', async () => {
    const again = await reconcile(relay.ctx, FILE, { actor: 'test', system: 'test-epcr', mode: 'apply' });
    assert.equal(again.missing[0]?.escalationOpened, false);
    const escalations = await relay.ctx.db.kysely
      .selectFrom('escalations')
      .selectAll()
      .where('reason', '=', 'missing-referral')
      .execute();
    assert.equal(escalations.length, 1);
    const [escalation] = escalations;
    assert.equal(escalation?.referral_id, null);
    assert.equal(escalation?.state, 'open');
    assert.deepEqual(JSON.parse(escalation?.detail ?? '{}'), {
      sourceSystem: 'test-epcr',
      sourceReference: 'R-MISSING',
      createdAt: '2026-11-25T11:00:30.000Z',
      reconciliation: first.id,
    });
  });

  it('audits each run with counts only, and stores the report it showed', async () => {
    const entries = await relay.ctx.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'reconciliation.run')
      .orderBy('seq')
      .execute();
    assert.ok(entries.length >= 2);
    assert.equal(entries[0]?.entity_id, first.id);
    const detail = entries[0]?.detail ?? '';
    assert.deepEqual(JSON.parse(detail), { counts: first.counts, found: 4, rows: 6 });
    assert.doesNotMatch(detail, /R-MISSING|R-ACK|SR-/);
    const stored = await relay.ctx.db.kysely
      .selectFrom('reconciliation_runs')
      .selectAll()
      .where('id', '=', first.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(stored.report), first);
  });

  it('writes one CSV line per finding and a text summary', () => {
    const [header, ...rows] = parse(reportCsv(first)) as string[][];
    assert.deepEqual(header, [
      'category',
      'source_system',
      'source_reference',
      'relay_reference',
      'team',
      'detail',
    ]);
    assert.deepEqual(
      rows.map((r) => r.slice(0, 3).join(' ')),
      [
        'missing test-epcr R-MISSING',
        'not-acknowledged test-epcr R-OPEN',
        'not-acknowledged test-epcr R-TRIAGE',
        'acknowledged-late test-epcr R-LATE',
        'duplicate test-epcr R-ACK',
        'not-in-file test-epcr R-EXTRA',
        'malformed  R-BAD',
      ],
    );
    const late = rows.find((r) => r[0] === 'acknowledged-late');
    assert.deepEqual(late?.slice(3, 5), [
      ids.get('R-LATE')!.reference,
      'Birmingham Adult Social Care Front Door',
    ]);
    assert.match(late?.[5] ?? '', /^1 h 35 min late: deadline Wed, 25 Nov 2026, 15:00/);
    assert.match(rows[0]?.[5] ?? '', /^line 6; created Wed, 25 Nov 2026, 11:00; escalation opened$/);
    const text = reportText(first);
    assert.match(text, /Missing from Relay: +1/);
    assert.match(text, /test-epcr {2}R-MISSING {2}line 6/);
  });

  it('asks for the source system when the period has referrals from more than one', async () => {
    await relay.ctx.db.kysely
      .updateTable('referrals')
      .set({ source_system: 'other-epcr', received_at: '2026-11-25T10:59:59.000Z' })
      .where('source_reference', '=', 'R-EXTRA')
      .execute();
    await assert.rejects(
      reconcile(relay.ctx, FILE, { actor: 'test' }),
      (e: unknown) =>
        e instanceof ReconciliationInputError &&
        e.field === 'system' &&
        /other-epcr, test-epcr/.test(e.message),
    );
    const given = await reconcile(relay.ctx, FILE, { actor: 'test', system: 'test-epcr' });
    assert.equal(given.counts.notInFile, 0, 'the other system is not compared');
  });

  it('only previews what a typed source system would open, until told to apply it', async () => {
    const db = relay.ctx.db.kysely;
    const counts = async () => ({
      escalations: (await db.selectFrom('escalations').select('id').execute()).length,
      runs: (await db.selectFrom('reconciliation_runs').select('id').execute()).length,
      audit: (await db.selectFrom('audit_log').select('seq').execute()).length,
    });
    const before = await counts();
    // A real system, but the wrong one: every row of the file looks missing.
    const wrong = await reconcile(relay.ctx, FILE, { actor: 'test', system: 'other-epcr' });
    assert.equal(wrong.preview, true);
    assert.equal(wrong.id, '');
    assert.equal(wrong.counts.missing, 5);
    assert.ok(wrong.missing.every((m) => !m.escalationOpened));
    const column = 'source_system,source_reference,created_at\ntest-epcr,R-NEW,2026-11-25T10:59:30Z\n';
    const dry = await reconcile(relay.ctx, column, { actor: 'test', mode: 'preview' });
    assert.deepEqual([dry.preview, dry.counts.missing], [true, 1]);
    assert.deepEqual(await counts(), before, 'a preview opens, stores and audits nothing');

    const applied = await reconcile(relay.ctx, FILE, { actor: 'test', system: 'other-epcr', mode: 'apply' });
    assert.equal(applied.preview, undefined);
    assert.equal(applied.missing.filter((m) => m.escalationOpened).length, 5);
    assert.equal((await counts()).escalations, before.escalations + 5);
  });

  it('refuses a source system Relay has never heard of, changing nothing', async () => {
    const before = await relay.ctx.db.kysely.selectFrom('escalations').select('id').execute();
    await assert.rejects(
      reconcile(relay.ctx, FILE, { actor: 'test', system: 'test-epcr-typo' }),
      /Relay knows no source system called "test-epcr-typo"/,
    );
    const withColumn = 'source_system,source_reference,created_at\nnowhere,X-1,2026-11-25T10:00Z\n';
    await assert.rejects(reconcile(relay.ctx, withColumn, { actor: 'test' }), /"nowhere"/);
    assert.equal(
      (await relay.ctx.db.kysely.selectFrom('escalations').select('id').execute()).length,
      before.length,
    );
  });

  it('tells the source system from a referral received within the second the file names', async () => {
    relay.clock.set('2026-11-25T12:00:05.250Z');
    await raise(relay, { source: { system: 'test-epcr', reference: 'R-SECOND' } });
    const report = await reconcile(
      relay.ctx,
      'source_reference,created_at\nR-SECOND,2026-11-25T12:00:05Z\n',
      {
        actor: 'test',
      },
    );
    assert.deepEqual(report.systems, ['test-epcr']);
    assert.equal(report.found, 1);
    assert.deepEqual(report.period, { from: '2026-11-25T12:00:05.000Z', to: '2026-11-25T12:00:05.999Z' });
    assert.equal(report.counts.notInFile, 0);
  });

  it('takes the source system from the file when it has the column', async () => {
    const file = 'source_system,source_reference,created_at\ntest-epcr,R-OPEN,2026-11-25T10:59:30Z\n';
    const report = await reconcile(relay.ctx, file, { actor: 'test' });
    assert.deepEqual(report.systems, ['test-epcr']);
    assert.equal(report.found, 1);
    assert.equal(report.counts.missing, 0);
  });
});
