import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { appendAudit, type AuditEntry } from '../../../src/records/audit.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { fieldError } from '../admin/admin.helpers.ts';
import { signedIn, type Browser } from '../../helpers/web.ts';

/** The entry numbers a page of the log shows, in the order shown. */
function seqsOn(html: string): number[] {
  return [...html.matchAll(/<td class="nhsuk-table__cell nhsuk-table__cell--numeric">(\d+)<\/td>/g)].map(
    (m) => Number(m[1]),
  );
}

const href = (html: string, text: string) =>
  new RegExp(`href="([^"]+)"[^>]*>\\s*<span class="nhsuk-pagination__title">\\s*${text}`)
    .exec(html)?.[1]
    ?.replace(/&amp;/g, '&');

describeEachDialect('audit log page', (dialect) => {
  let relay: TestRelay;
  let auditor: Browser;
  const db = () => relay.ctx.db.kysely;
  const append = (at: string, entry: AuditEntry) =>
    db()
      .transaction()
      .execute((trx) => appendAudit(trx, new Date(at), entry));
  const total = async () =>
    Number(
      (
        await db()
          .selectFrom('audit_log')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  before(async () => {
    relay = await createTestRelay(dialect);
    for (let i = 1; i <= 60; i++) {
      await append(`2026-11-20T10:${String(i % 60).padStart(2, '0')}:00Z`, {
        actor: 'system',
        action: 'test.filler',
        entityType: 'test',
        entityId: `t${i}`,
        detail: { i },
      });
    }
    await append('2026-11-21T09:00:00Z', {
      actor: 'user:someone',
      action: 'review.created',
      entityType: 'review',
      entityId: 'r1',
      detail: { cases: 3, conditions: ['failed', 'bounced'] },
    });
    await append('2026-11-22T09:00:00Z', {
      actor: 'user:someone',
      action: 'reviewer.test',
      entityType: 'review',
      entityId: 'r2',
    });
    auditor = (await signedIn(relay, { roles: ['auditor'], name: 'Ada Auditor' })).browser;
  });
  after(async () => relay.close());

  it('is for the auditor only', async () => {
    for (const role of ['safeguarding', 'crew', 'recipient', 'admin'] as const) {
      const other = (await signedIn(relay, { roles: [role], name: `A ${role}` })).browser;
      assert.equal((await other.get('/audit')).statusCode, 403, role);
    }
    const page = await auditor.get('/audit');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /class="nhsuk-header__navigation-link" href="\/audit"/);
  });

  it('lists the newest 50 first, and pages to older and back to newer entries', async () => {
    const n = await total();
    const first = await auditor.get('/audit');
    assert.deepEqual(
      seqsOn(first.body),
      Array.from({ length: 50 }, (_, i) => n - i),
    );
    const older = href(first.body, 'Older entries');
    assert.ok(older, 'a link to older entries');
    assert.equal(href(first.body, 'Newer entries'), undefined);
    const second = await auditor.get(older);
    assert.deepEqual(
      seqsOn(second.body),
      Array.from({ length: Math.min(50, n - 50) }, (_, i) => n - 50 - i),
    );
    const newer = href(second.body, 'Newer entries');
    assert.ok(newer);
    assert.deepEqual(seqsOn((await auditor.get(newer)).body), seqsOn(first.body));
  });

  it('filters by action and what comes under it, never a longer word', async () => {
    const page = await auditor.get('/audit?action=review');
    const seqs = seqsOn(page.body);
    assert.equal(seqs.length, 1);
    assert.match(page.body, /review.created/);
    assert.doesNotMatch(page.body, /reviewer\.test/);
    assert.match(page.body, /<strong>cases:<\/strong> 3/);
    assert.match(page.body, /<strong>conditions:<\/strong> \[&quot;failed&quot;,&quot;bounced&quot;\]/);
    assert.equal(seqsOn((await auditor.get('/audit?action=test.filler')).body).length, 50);
  });

  it('filters by actor, entity and London days', async () => {
    assert.equal(seqsOn((await auditor.get('/audit?actor=user%3Asomeone')).body).length, 2);
    assert.equal(seqsOn((await auditor.get('/audit?entityType=review&entityId=r2')).body).length, 1);
    assert.equal(seqsOn((await auditor.get('/audit?entityType=test&entityId=t7')).body).length, 1);
    const day = await auditor.get('/audit?from=2026-11-21&to=2026-11-22');
    assert.equal(seqsOn(day.body).length, 2);
    assert.match(day.body, /value="2026-11-21"/, 'the form keeps what was asked');
    const older = await auditor.get('/audit?action=test&to=2026-11-20');
    assert.equal(seqsOn(older.body).length, 50);
    assert.ok(href(older.body, 'Older entries')?.includes('action=test'), 'paging keeps the filter');
  });

  it('names a date it cannot read, beside the field', async () => {
    const response = await auditor.get('/audit?from=2026-02-30&to=2026-01-01');
    assert.equal(response.statusCode, 400);
    assert.equal(fieldError(response.body, 'from'), 'The from date must be a real date');
    assert.deepEqual(seqsOn(response.body), []);
  });

  it('exports the entries a filter matches as CSV, oldest first, and audits the export', async () => {
    const page = await auditor.get('/audit?action=test');
    assert.match(
      page.body,
      /href="\/audit.csv\?action=test" download>Download the entries this filter matches as CSV/,
    );
    const csv = await auditor.get('/audit.csv?action=test');
    assert.equal(csv.statusCode, 200);
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    assert.match(String(csv.headers['content-disposition']), /attachment; filename="relay-audit-log.csv"/);
    const lines = csv.body
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    assert.equal(lines[0], 'seq,at,actor,actor_name,action,entity_type,entity_id,detail');
    assert.equal(lines.length, 61, 'the header and the 60 filler entries');
    assert.match(lines[1]!, /^\d+,2026-11-20T10:01:00.000Z,system,,test.filler,test,t1,"\{""i"":1\}"$/);
    const exported = await db()
      .selectFrom('audit_log')
      .select(['actor', 'detail'])
      .where('action', '=', 'audit.exported')
      .execute();
    assert.equal(exported.length, 1);
    assert.deepEqual(JSON.parse(exported[0]!.detail), { action: 'test' });

    const bad = await auditor.get('/audit.csv?from=2026-02-31');
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /The from date must be a real date/);
    const crew = (await signedIn(relay, { roles: ['crew'], name: 'Casey Crew' })).browser;
    assert.equal((await crew.get('/audit.csv')).statusCode, 403);
  });

  it('verifies the chain on request: intact, with the entry count and head hash', async () => {
    const plain = await auditor.get('/audit');
    assert.match(plain.body, /Verify now/);
    assert.doesNotMatch(plain.body, /is intact/);
    const page = await auditor.get('/audit?verify=1');
    const head = await db().selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
    assert.match(page.body, new RegExp(`The audit chain is intact: ${head.seq} entries.`));
    assert.match(page.body, new RegExp(head.hash));
  });

  it('shows "broken at entry N" after someone edits the log behind the triggers', async () => {
    if (dialect === 'sqlite') {
      await sql`DROP TRIGGER audit_log_no_update`.execute(db());
    } else {
      await sql`DROP TRIGGER audit_log_append_only ON audit_log`.execute(db());
    }
    await sql`UPDATE audit_log SET detail = ${'{"i":99}'} WHERE seq = ${7}`.execute(db());
    const page = await auditor.get('/audit?verify=1');
    assert.match(page.body, /The audit chain is broken/);
    assert.match(page.body, /broken at entry 7: entry 7 was changed after it was written/);
    assert.match(page.body, /The 6 entries before it link correctly/);
  });
});
