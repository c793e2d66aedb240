import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { verifyAuditChain } from '../../src/records/audit.ts';
import { exportReview } from '../../src/governance/review.export.ts';
import { caseNotes, reviewCases, reviewProgress } from '../../src/governance/review.queries.ts';
import { assignReviewer, createReview, updateCase } from '../../src/governance/review.service.ts';
import { MINUTE } from '../../src/time.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { pdfText, person, shaper } from './review.helpers.ts';

const FROM = '2026-11-10T00:00:00.000Z';
const TO = '2026-11-11T00:00:00.000Z';

describeEachDialect('review cases and exports', (dialect) => {
  let relay: TestRelay;
  let reviewId: string;
  let caseIds: string[];
  let lead: Awaited<ReturnType<typeof person>>;
  let other: Awaited<ReturnType<typeof person>>;
  const db = () => relay.ctx.db.kysely;
  const auditOf = (caseId: string) =>
    db()
      .selectFrom('audit_log')
      .selectAll()
      .where('entity_id', '=', caseId)
      .where('action', '=', 'review.case-updated')
      .orderBy('seq')
      .execute();

  before(async () => {
    relay = await createTestRelay(dialect);
    const shape = shaper(relay);
    for (let i = 1; i <= 4; i++) {
      const raised = await shape.raiseAt(new Date(Date.parse(FROM) + (600 + i) * MINUTE).toISOString());
      await shape.clean(raised.id);
      await shape.delivery(raised.id, { state: 'failed', sent_at: null });
    }
    relay.clock.set('2026-11-25T11:00:00Z');
    lead = await person(relay, ['safeguarding'], 'Lee Lead');
    other = await person(relay, ['safeguarding'], 'Ola Other');
    const review = await createReview(
      relay.ctx,
      { title: 'Failed deliveries, 10 November', from: FROM, to: TO, conditions: ['failed'] },
      lead.actor,
    );
    reviewId = review.id;
    caseIds = (await reviewCases(db(), reviewId)).map((c) => c.id);
    assert.equal(caseIds.length, 4);
  });
  after(async () => relay.close());

  it('starts with every case not started and 0% complete', async () => {
    const progress = await reviewProgress(db(), reviewId);
    assert.equal(progress.total, 4);
    assert.equal(progress.byStatus['not-started'], 4);
    assert.equal(progress.percentComplete, 0);
  });

  it('audits a status change with from and to, and a note without its text', async () => {
    const [first] = caseIds;
    relay.clock.advance(MINUTE);
    const changed = await updateCase(
      relay.ctx,
      reviewId,
      first!,
      { status: 'in-review', note: 'Spoke to Mrs Example’s daughter on 01632 960999.' },
      lead.actor,
    );
    assert.equal(changed, true);
    const [entry] = await auditOf(first!);
    assert.equal(entry?.actor, lead.actor.actor);
    assert.equal(entry?.entity_type, 'review_case');
    const detail = JSON.parse(entry?.detail ?? '{}') as Record<string, unknown>;
    assert.equal(detail.statusFrom, 'not-started');
    assert.equal(detail.statusTo, 'in-review');
    assert.equal(detail.noteAdded, true);
    assert.equal(detail.review, reviewId);
    assert.doesNotMatch(entry?.detail ?? '', /Example|01632/, 'no note text in the audit log');
    const notes = await caseNotes(db(), relay.ctx.config.dataKeys, first!);
    assert.deepEqual(notes, [
      {
        at: relay.clock.now().toISOString(),
        authorName: 'Lee Lead',
        text: 'Spoke to Mrs Example’s daughter on 01632 960999.',
      },
    ]);
  });

  it('writes nothing when nothing changes, and appends notes rather than replacing them', async () => {
    const [first] = caseIds;
    assert.equal(await updateCase(relay.ctx, reviewId, first!, { status: 'in-review' }, lead.actor), false);
    assert.equal((await auditOf(first!)).length, 1);
    await updateCase(relay.ctx, reviewId, first!, { status: 'harm-found', note: 'Second note' }, other.actor);
    assert.deepEqual(
      (await caseNotes(db(), relay.ctx.config.dataKeys, first!)).map((n) => [n.authorName, n.text]),
      [
        ['Lee Lead', 'Spoke to Mrs Example’s daughter on 01632 960999.'],
        ['Ola Other', 'Second note'],
      ],
    );
    const entries = await auditOf(first!);
    assert.equal(entries.length, 2);
    assert.equal(entries[1]?.actor, other.actor.actor);
  });

  it('assigns reviewers in bulk, each case audited, and refuses someone outside safeguarding', async () => {
    const crew = await person(relay, ['crew'], 'Casey Crew');
    await assert.rejects(
      updateCase(relay.ctx, reviewId, caseIds[1]!, { reviewerId: crew.user.id }, lead.actor),
      /reviewer is not valid/,
    );
    assert.equal(await assignReviewer(relay.ctx, reviewId, [caseIds[1]!], other.user.id, lead.actor), 1);
    assert.equal(await assignReviewer(relay.ctx, reviewId, 'unassigned', lead.user.id, lead.actor), 3);
    const cases = await reviewCases(db(), reviewId);
    assert.deepEqual(
      cases.map((c) => c.reviewerName),
      ['Lee Lead', 'Ola Other', 'Lee Lead', 'Lee Lead'],
    );
    const [assigned] = await auditOf(caseIds[1]!);
    const detail = JSON.parse(assigned?.detail ?? '{}') as Record<string, unknown>;
    assert.equal(detail.reviewerFrom, null);
    assert.equal(detail.reviewerTo, other.user.id);
    assert.equal(await assignReviewer(relay.ctx, reviewId, 'unassigned', lead.user.id, lead.actor), 0);
  });

  it('counts progress by status and the share of cases with a finding', async () => {
    await updateCase(relay.ctx, reviewId, caseIds[1]!, { status: 'no-harm-found' }, other.actor);
    await updateCase(relay.ctx, reviewId, caseIds[2]!, { status: 'in-review' }, lead.actor);
    const progress = await reviewProgress(db(), reviewId);
    assert.deepEqual(progress.byStatus, {
      'not-started': 1,
      'in-review': 1,
      'no-harm-found': 1,
      'harm-found': 1,
      'action-taken': 0,
    });
    assert.equal(progress.finished, 2);
    assert.equal(progress.percentComplete, 50);
  });

  it('exports CSV with every case and no one’s personal data, audited', async () => {
    const file = await exportReview(relay.ctx, reviewId, 'csv', lead.actor);
    const csv = String(file.body);
    const lines = csv
      .replace(/^\ufeff/, '')
      .trimEnd()
      .split('\r\n');
    assert.equal(
      lines[0],
      'case,reference,in_relay,source_system,source_reference,received_at,urgency,conditions,reviewer,status,notes,updated_at',
    );
    assert.equal(lines.length, 5);
    for (const c of await reviewCases(db(), reviewId)) assert.match(csv, new RegExp(c.reference));
    assert.match(lines[1] ?? '', /,failed,Lee Lead,harm-found,2,/);
    assert.doesNotMatch(csv, /Edna|Whitfield|Elmdon|943 476 5919|Example’s daughter/);
    const entry = await db()
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'review.exported')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(entry.detail), { format: 'csv', cases: 4 });
    assert.equal(entry.entity_id, reviewId);
  });

  it('renders a PDF report with the title and cases but no personal data, audited', async () => {
    const file = await exportReview(relay.ctx, reviewId, 'pdf', lead.actor);
    const pdf = file.body as Buffer;
    assert.equal(file.contentType, 'application/pdf');
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    assert.ok(pdf.length > 3000, `a real report, not ${pdf.length} bytes`);
    const text = pdfText(pdf);
    assert.match(text, /Failed deliveries, 10 November/);
    assert.match(text, /Harm found/);
    assert.match(text, /10 November 2026/);
    for (const c of await reviewCases(db(), reviewId)) assert.match(text, new RegExp(c.reference));
    assert.doesNotMatch(text, /Edna|Whitfield|Example’s daughter|Second note/);
    const last = await db()
      .selectFrom('audit_log')
      .select('detail')
      .where('action', '=', 'review.exported')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(last.detail), { format: 'pdf', cases: 4 });
    assert.equal((await verifyAuditChain(db())).ok, true);
  });
});
