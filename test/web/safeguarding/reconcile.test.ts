import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { reportCsv } from '../../../src/governance/reconciliation.output.ts';
import { findReport, type ReconciliationReport } from '../../../src/governance/reconciliation.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { formSession, signedIn } from '../../helpers/web.ts';
import { raise } from '../../helpers/referrals.ts';

const PASTE = [
  'source_reference,created_at,crew',
  'PAGE-1,2026-11-25T10:59:00Z,BM-1',
  'PAGE-2,2026-11-25T11:00:00Z,"BM-2, relief"',
  'PAGE-2,2026-11-25T11:00:00Z,BM-2',
  ',2026-11-25T11:00:00Z,BM-3',
].join('\r\n');

/** Posts the pasted export and follows the redirect to the stored report. */
async function reconcileByPaste(browser: ReturnType<typeof formSession>, form: Record<string, string>) {
  await browser.get('/safeguarding/reconcile');
  const posted = await browser.post('/safeguarding/reconcile', form);
  assert.equal(posted.statusCode, 303, posted.body.slice(0, 500));
  const location = String(posted.headers.location);
  assert.match(location, /^\/safeguarding\/reconcile\/[0-9a-f-]{36}$/);
  return { location, id: location.split('/').pop() ?? '', page: await browser.get(location) };
}

describeEachDialect('safeguarding: reconcile page', (dialect) => {
  let relay: TestRelay;
  let referral: { id: string; reference: string };

  before(async () => {
    relay = await createTestRelay(dialect, { now: '2026-11-25T11:00:00Z' });
    referral = await raise(relay, { source: { system: 'test-epcr', reference: 'PAGE-1' } });
  });
  after(async () => relay.close());

  it('is a safeguarding page, in the navigation, and explains that the file is pasted', async () => {
    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    const page = await browser.get('/safeguarding/reconcile');
    assert.equal(page.statusCode, 200);
    assert.match(
      page.body,
      /class="nhsuk-header__navigation-link" href="\/safeguarding\/reconcile"[^>]*>(<strong[^>]*>)?Reconcile</,
    );
    assert.match(page.body, /copy all of it and paste it below/);
    assert.match(page.body, /<textarea[^>]+name="csv"/);
    assert.match(page.body, /<input[^>]+name="system"/);
    for (const role of ['crew', 'recipient', 'admin', 'auditor'] as const) {
      const other = (await signedIn(relay, { roles: [role], name: `A ${role}` })).browser;
      assert.equal((await other.get('/safeguarding/reconcile')).statusCode, 403, role);
      assert.equal((await other.post('/safeguarding/reconcile', { csv: PASTE })).statusCode, 403, role);
    }
    const signedOut = await formSession(relay.app).get('/safeguarding/reconcile');
    assert.equal(signedOut.statusCode, 303);
  });

  it('reconciles a pasted export and shows the report, a table per finding', async () => {
    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    const { page } = await reconcileByPaste(browser, { csv: PASTE });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h1[^>]*>Reconciliation report<\/h1>/);
    const captions = [...page.body.matchAll(/<caption[^>]*>\s*([^<]+?)\s*<\/caption>/g)].map((m) => m[1]);
    assert.deepEqual(captions, [
      'Findings',
      'Missing from Relay (1)',
      'Not yet acknowledged (1)',
      'Listed more than once in the file (1)',
      'Rows that could not be read (1)',
    ]);
    assert.match(page.body, /PAGE-2/);
    assert.match(
      page.body,
      new RegExp(`href="/safeguarding/referrals/${referral.id}">${referral.reference}<`),
    );
    assert.match(page.body, /No source_reference/);
    assert.match(page.body, /href="\/safeguarding\/escalations"/);
  });

  it('offers the same report as CSV and JSON downloads, each audited', async () => {
    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    // Confirmed: a typed source system that finds referrals missing is previewed first.
    const { location, id, page } = await reconcileByPaste(browser, {
      csv: PASTE,
      system: 'test-epcr',
      confirm: 'yes',
    });
    const stored = (await findReport(relay.ctx, id)) as ReconciliationReport;
    assert.match(page.body, new RegExp(`href="${location}/report.csv"`));
    const csv = await browser.get(`${location}/report.csv`);
    assert.equal(csv.statusCode, 200);
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    assert.match(
      String(csv.headers['content-disposition']),
      /^attachment; filename="reconciliation-2026-11-25-[0-9a-f]{8}\.csv"$/,
    );
    assert.equal(csv.body, reportCsv(stored));
    const json = await browser.get(`${location}/report.json`);
    assert.equal(json.statusCode, 200);
    assert.match(String(json.headers['content-type']), /^application\/json/);
    assert.deepEqual(json.json(), stored);
    const exports = await relay.ctx.db.kysely
      .selectFrom('audit_log')
      .select('detail')
      .where('action', '=', 'reconciliation.exported')
      .where('entity_id', '=', id)
      .execute();
    assert.deepEqual(
      exports.map((e) => JSON.parse(e.detail) as unknown),
      [{ format: 'csv' }, { format: 'json' }],
    );
    assert.equal((await browser.get(`${location}/report.xml`)).statusCode, 404);
    const crew = (await signedIn(relay, { roles: ['crew'], name: 'A crew member' })).browser;
    assert.equal((await crew.get(`${location}/report.csv`)).statusCode, 403);
    const listed = await browser.get('/safeguarding/reconcile');
    assert.match(listed.body, new RegExp(`href="${location}"`), 'recent runs link to their reports');
  });

  it('keeps what was pasted and says what is wrong when the file cannot be used', async () => {
    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    await browser.get('/safeguarding/reconcile');
    const empty = await browser.post('/safeguarding/reconcile', { csv: '  ' });
    assert.equal(empty.statusCode, 422);
    assert.match(empty.body, /<title>Error: /);
    assert.match(empty.body, /href="#csv">\s*Paste the CSV export/);
    const noHeader = await browser.post('/safeguarding/reconcile', { csv: 'PAGE-1,2026-11-25T10:59:00Z' });
    assert.equal(noHeader.statusCode, 422);
    assert.match(
      noHeader.body,
      /The first line must be a header naming the columns source_reference and created_at/,
    );
    assert.match(noHeader.body, /PAGE-1,2026-11-25T10:59:00Z<\/textarea>/);
    const unknown = await browser.post('/safeguarding/reconcile', { csv: PASTE, system: 'nobody' });
    assert.equal(unknown.statusCode, 422);
    assert.match(unknown.body, /href="#system">\s*Relay knows no source system called &quot;nobody&quot;/);
  });

  it('shows what a typed source system would open, and opens it only on Confirm', async () => {
    const db = relay.ctx.db.kysely;
    const missing = async () =>
      (await db.selectFrom('escalations').select('detail').where('reason', '=', 'missing-referral').execute())
        .map((e) => (JSON.parse(e.detail) as { sourceReference: string }).sourceReference)
        .sort();
    const runs = async () => (await db.selectFrom('reconciliation_runs').select('id').execute()).length;
    const before = { missing: await missing(), runs: await runs() };
    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    await browser.get('/safeguarding/reconcile');
    const csv = 'source_reference,created_at\r\nPAGE-1,2026-11-25T10:59:00Z\r\nPAGE-9,"2026-11-25 11:00"\r\n';
    const preview = await browser.post('/safeguarding/reconcile', { csv, system: 'test-epcr' });
    assert.equal(preview.statusCode, 200);
    assert.match(preview.body, /<h1[^>]*>Check before opening escalations<\/h1>/);
    assert.match(preview.body, /Nothing has been opened yet/);
    assert.match(
      preview.body,
      /1 referral in the file is missing from Relay under the source system you typed/,
    );
    assert.match(preview.body, /Not opened yet/);
    assert.doesNotMatch(preview.body, /report\.csv/, 'a preview is not stored, so it has no downloads');
    assert.deepEqual({ missing: await missing(), runs: await runs() }, before, 'nothing opened or stored');

    const hidden = (name: string) =>
      (new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(preview.body)?.[1] ?? '')
        .replaceAll('&quot;', '"')
        .replaceAll('&amp;', '&');
    assert.equal(hidden('csv'), csv, 'the paste is carried to the confirmation as it was');
    const confirmed = await browser.post('/safeguarding/reconcile', {
      csv: hidden('csv'),
      system: hidden('system'),
      confirm: hidden('confirm'),
    });
    assert.equal(confirmed.statusCode, 303, confirmed.body.slice(0, 300));
    const report = await browser.get(String(confirmed.headers.location));
    assert.match(report.body, /<h1[^>]*>Reconciliation report<\/h1>/);
    assert.match(report.body, /PAGE-9/);
    assert.deepEqual(await missing(), [...before.missing, 'PAGE-9'].sort());
    assert.equal(await runs(), before.runs + 1);
  });

  it('refuses a paste without its CSRF token', async () => {
    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    await browser.get('/safeguarding/reconcile');
    const before = await relay.ctx.db.kysely.selectFrom('reconciliation_runs').select('id').execute();
    const response = await browser.post('/safeguarding/reconcile', { csv: PASTE }, { csrf: false });
    assert.equal(response.statusCode, 403);
    const after = await relay.ctx.db.kysely.selectFrom('reconciliation_runs').select('id').execute();
    assert.equal(after.length, before.length);
  });

  it('takes an export larger than other forms allow', async () => {
    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    const rows = Array.from({ length: 10_000 }, () => 'PAGE-1,2026-11-25T10:59:00Z,"a crew note, quoted"');
    const csv = ['source_reference,created_at,note', ...rows].join('\r\n');
    assert.ok(Buffer.byteLength(csv) > 256 * 1024);
    const { page } = await reconcileByPaste(browser, { csv, system: 'test-epcr' });
    assert.match(page.body, /10000 rows: 1 reference, 1 found in Relay/);
  });

  it('answers 404 for a report that does not exist', async () => {
    const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    assert.equal((await browser.get('/safeguarding/reconcile/no-such-run')).statusCode, 404);
    assert.equal((await browser.get('/safeguarding/reconcile/no-such-run/report.csv')).statusCode, 404);
  });
});
