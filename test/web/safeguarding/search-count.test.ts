import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { couldBePartOfReference, parseSearch } from '../../../src/web/safeguarding/search.pages.ts';
import { countReferrals } from '../../../src/web/safeguarding/search.queries.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { signedIn, type Browser } from '../../helpers/web.ts';
import { raise } from '../../helpers/referrals.ts';

/**
 * A search that matches more referrals than a page shows: the newest 100, with how many matched,
 * and the audit says both. A common surname in a large region matches thousands; a person reads
 * the newest and narrows the search, so the page counts only so far.
 */
describeEachDialect('safeguarding search: many matches', (dialect) => {
  let relay: TestRelay;
  let browser: Browser;
  const raised: string[] = [];
  const references = (html: string) => [...html.matchAll(/>(SR-\d{4}-\d{6})<\/a>/g)].map((m) => m[1]);

  before(async () => {
    relay = await createTestRelay(dialect);
    // 103 referrals about Edna Whitfield (the example referral), one after another.
    for (let i = 0; i < 103; i++) raised.push((await raise(relay)).reference);
    browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
  });
  after(async () => relay.close());

  it('lists the newest 100 and says how many match', async () => {
    const response = await browser.get('/safeguarding/search?q=Whitfield');
    assert.equal(response.statusCode, 200);
    assert.deepEqual(references(response.body), [...raised].reverse().slice(0, 100));
    assert.match(response.body, /103 referrals match; the newest 100 are shown\. Narrow the search/);

    const entry = await relay.ctx.db.kysely
      .selectFrom('audit_log')
      .select('detail')
      .where('action', '=', 'referrals.searched')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    const detail = JSON.parse(entry.detail) as { results: number; more: boolean; matched: number };
    assert.deepEqual([detail.results, detail.more, detail.matched], [100, true, 103]);
  });

  it('says a short list as it is, by a postcode, an NHS number or a date of birth', async () => {
    const narrowed = await browser.get(`/safeguarding/search?q=${encodeURIComponent(raised[0] as string)}`);
    assert.deepEqual(references(narrowed.body), [raised[0]]);
    assert.match(narrowed.body, /<p>1 referral\.<\/p>/);
    for (const q of ['B15 2TT', 'B15', '943 476 5919', '9434765919', '1939-04-12']) {
      const response = await browser.get(`/safeguarding/search?q=${encodeURIComponent(q)}`);
      assert.equal(references(response.body).length, 100, q);
      assert.match(response.body, /103 referrals match/, q);
    }
  });

  it('counts no further than it is asked to', async () => {
    const { filter } = parseSearch({ q: 'Whitfield' }, new Set(), relay.ctx.config.dataKeys);
    assert.equal(await countReferrals(relay.ctx.db.kysely, filter, 1000), 103);
    assert.equal(
      await countReferrals(relay.ctx.db.kysely, filter, 50),
      51,
      'one past the limit: "more than 50"',
    );
  });
});

it('reads only text that could be in a reference (SR-YYYY-NNNNNN) as part of one', () => {
  for (const q of ['2026-0000', 'SR-2026', '000123', '2026', 'R-2026-00001', '1000000'])
    assert.equal(couldBePartOfReference(q), true, q);
  for (const q of ['SMITH', 'B15', 'B152TT', '9434765919', '1939-04-12', '12/04/1939', 'INC-20261125-0457'])
    assert.equal(couldBePartOfReference(q), false, q);
});
