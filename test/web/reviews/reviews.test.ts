import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { MINUTE } from '../../../src/time.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { pdfText, shaper } from '../../governance/review.helpers.ts';
import { fieldError } from '../admin/admin.helpers.ts';
import { signedIn, type Browser } from '../../helpers/web.ts';

const DAY_ONE = '2026-11-10T10:00:00.000Z';

describeEachDialect('incident review pages', (dialect) => {
  let relay: TestRelay;
  let browser: Browser;
  let reviewUrl: string;
  const references: string[] = [];
  const db = () => relay.ctx.db.kysely;

  before(async () => {
    relay = await createTestRelay(dialect);
    const shape = shaper(relay);
    for (let i = 0; i < 3; i++) {
      const raised = await shape.raiseAt(new Date(Date.parse(DAY_ONE) + i * MINUTE).toISOString());
      await shape.clean(raised.id);
      if (i < 2) await shape.delivery(raised.id, { state: 'bounced' });
      if (i < 2) references.push(raised.reference);
    }
    relay.clock.set('2026-11-25T11:00:00Z');
    browser = (await signedIn(relay, { roles: ['safeguarding'], name: 'Sam Safeguarding' })).browser;
  });
  after(async () => relay.close());

  it('lists reviews with a New review form, and puts each problem beside its field', async () => {
    const page = await browser.get('/safeguarding/reviews');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /There are no reviews yet/);
    assert.match(page.body, /class="nhsuk-header__navigation-link" href="\/safeguarding\/reviews"/);
    const response = await browser.post('/safeguarding/reviews', { title: '', from: '2026-11-31', to: '' });
    assert.equal(response.statusCode, 422);
    assert.match(response.body, /There is a problem/);
    assert.equal(fieldError(response.body, 'title'), 'Enter a title for the review');
    // Shown again after its POST: the page names its GET address, so Back never re-posts.
    assert.match(response.body, /<meta name="relay-page-url" content="\/safeguarding\/reviews">/);
    assert.equal(fieldError(response.body, 'from'), 'The first day of the period must be a real date');
    assert.equal(fieldError(response.body, 'to'), 'Enter the last day of the period');
    assert.equal(fieldError(response.body, 'conditions'), 'Select at least one condition');
    assert.match(response.body, /href="#conditions"/);
    const backwards = await browser.post('/safeguarding/reviews', {
      title: 'x',
      from: '2026-11-10',
      to: '2026-11-09',
      conditions: 'bounced',
    });
    assert.equal(
      fieldError(backwards.body, 'to'),
      'The last day of the period must be the same as or after the first day',
    );
    assert.equal(await db().selectFrom('reviews').select('id').executeTakeFirst(), undefined);
  });

  it('creates a review of London days and shows its cases and progress', async () => {
    const response = await browser.post('/safeguarding/reviews', {
      title: 'Bounced emails, 10 November',
      from: '2026-11-10',
      to: '2026-11-10',
      conditions: 'bounced',
    });
    assert.equal(response.statusCode, 303, response.body);
    reviewUrl = String(response.headers.location).replace(/\?.*$/, '');
    const page = await browser.get(String(response.headers.location));
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /The review was created with 2 cases/);
    assert.match(page.body, /10 Nov 2026/);
    for (const reference of references) assert.match(page.body, new RegExp(reference));
    assert.match(page.body, /0 of 2 cases finished \(0% complete\)/);
    assert.match(page.body, /Email bounced/);
    const list = await browser.get('/safeguarding/reviews');
    assert.match(list.body, /Bounced emails, 10 November/);
  });

  it('assigns reviewers in bulk, naming a missing choice beside the field', async () => {
    const other = (await signedIn(relay, { roles: ['safeguarding'], name: 'Ola Other' })).browser;
    void other;
    const none = await browser.post(`${reviewUrl}/assign`, { scope: 'selected', reviewer: '' });
    assert.equal(none.statusCode, 422);
    assert.equal(fieldError(none.body, 'assign-reviewer'), 'Choose a reviewer');
    assert.equal(fieldError(none.body, 'cases'), 'Select the cases to assign');
    const page = await browser.get(reviewUrl);
    const ola = /<option value="([^"]+)">Ola Other<\/option>/.exec(page.body)?.[1];
    assert.ok(ola, 'Ola is offered as a reviewer');
    const done = await browser.post(`${reviewUrl}/assign`, { scope: 'unassigned', reviewer: ola });
    assert.equal(done.statusCode, 303);
    const after = await browser.get(String(done.headers.location));
    assert.match(after.body, /2 cases changed reviewer/);
    assert.equal((after.body.match(/<td class="nhsuk-table__cell">Ola Other<\/td>/g) ?? []).length, 2);
  });

  it('updates a case: status, note and history, with a link to the referral', async () => {
    const page = await browser.get(reviewUrl);
    const caseUrl = new RegExp(`href="(${reviewUrl}/cases/[^"]+)">${references[0]}`).exec(page.body)?.[1];
    assert.ok(caseUrl);
    const view = await browser.get(caseUrl);
    assert.equal(view.statusCode, 200);
    assert.match(view.body, /href="\/safeguarding\/referrals\/[^"]+">Open referral/);
    const bad = await browser.post(caseUrl, { status: 'finished', note: '' });
    assert.equal(bad.statusCode, 422);
    assert.equal(fieldError(bad.body, 'status'), 'Select the status of the case');
    const saved = await browser.post(caseUrl, {
      status: 'harm-found',
      note: 'Called the team.\nNo reply.',
    });
    assert.equal(saved.statusCode, 303);
    const after = await browser.get(String(saved.headers.location));
    assert.match(after.body, /The case was saved/);
    assert.match(after.body, /Called the team.<br \/>\nNo reply./);
    assert.match(after.body, /Status changed from Not started to Harm found. Note added/);
    const viewed = await db()
      .selectFrom('audit_log')
      .select('actor')
      .where('action', '=', 'review.case-viewed')
      .execute();
    assert.ok(viewed.length >= 2, 'each view of a case (its notes) is audited');
    const review = await browser.get(reviewUrl);
    assert.match(review.body, /1 of 2 cases finished \(50% complete\)/);
  });

  it('downloads the CSV and PDF, without personal data, each audited', async () => {
    const csv = await browser.get(`${reviewUrl}/export.csv`);
    assert.equal(csv.statusCode, 200);
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    assert.match(
      String(csv.headers['content-disposition']),
      /^attachment; filename="review-2026-11-25-[0-9a-f]{8}\.csv"$/,
    );
    assert.equal(csv.headers['cache-control'], 'no-store');
    for (const reference of references) assert.match(csv.body, new RegExp(reference));
    assert.match(csv.body, /Ola Other,harm-found,1,/);
    assert.doesNotMatch(csv.body, /Edna|Whitfield|Called the team/);
    const pdf = await browser.get(`${reviewUrl}/report.pdf`);
    assert.equal(pdf.statusCode, 200);
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    const body = pdf.rawPayload;
    assert.equal(body.subarray(0, 5).toString(), '%PDF-');
    assert.ok(body.length > 3000);
    const text = pdfText(body);
    assert.match(text, /Bounced emails, 10 November/);
    assert.doesNotMatch(text, /Edna|Whitfield|Called the team/);
    const exports = await db()
      .selectFrom('audit_log')
      .select('detail')
      .where('action', '=', 'review.exported')
      .orderBy('seq')
      .execute();
    assert.deepEqual(
      exports.map((e) => JSON.parse(e.detail)),
      [
        { format: 'csv', cases: 2 },
        { format: 'pdf', cases: 2 },
      ],
    );
  });

  it('is for the safeguarding team, and auditors read it and its reports without changing anything', async () => {
    for (const role of ['crew', 'recipient', 'admin'] as const) {
      const other = (await signedIn(relay, { roles: [role], name: `A ${role}` })).browser;
      for (const url of [
        '/safeguarding/reviews',
        reviewUrl,
        `${reviewUrl}/export.csv`,
        `${reviewUrl}/report.pdf`,
      ]) {
        assert.equal((await other.get(url)).statusCode, 403, `${role} ${url}`);
      }
    }
    const auditor = (await signedIn(relay, { roles: ['auditor'], name: 'Ida Auditor' })).browser;
    const list = await auditor.get('/safeguarding/reviews');
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /Bounced emails, 10 November/);
    assert.doesNotMatch(list.body, /action="\/safeguarding\/reviews"/, 'no "New review" form');
    const review = await auditor.get(reviewUrl);
    assert.equal(review.statusCode, 200);
    assert.match(review.body, /Download the report \(PDF\)/);
    assert.doesNotMatch(review.body, /\/assign"|\/cases\//, 'no assignment form, no links to case notes');
    assert.equal((await auditor.get(`${reviewUrl}/export.csv`)).statusCode, 200);
    assert.equal((await auditor.get(`${reviewUrl}/report.pdf`)).statusCode, 200);
    assert.equal((await auditor.get(`${reviewUrl}/cases/any-case`)).statusCode, 403);
    await auditor.get(reviewUrl);
    const assigned = await auditor.post(`${reviewUrl}/assign`, { reviewer: 'nobody', scope: 'unassigned' });
    assert.equal(assigned.statusCode, 403);
    assert.equal((await browser.get('/safeguarding/reviews/no-such-review')).statusCode, 404);
    assert.equal((await browser.get(`${reviewUrl}/cases/no-such-case`)).statusCode, 404);
  });
});
