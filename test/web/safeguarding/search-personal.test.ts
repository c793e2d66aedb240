import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { exampleReferral } from '../../../src/referrals/referral.example.ts';
import { reindexSearchTerms } from '../../../src/governance/search-reindex.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { signedIn, type Browser } from '../../helpers/web.ts';
import { raise } from '../../helpers/referrals.ts';
import { signedIn as crewSignedIn } from '../crew/crew.helpers.ts';

/**
 * The safeguarding search by personal data, through the keyed blind index: Edna Whitfield (the
 * example referral) and Zoë O'Brien-Smith, found by each kind of value however it is typed, never
 * by a near miss, every search audited without the text typed, and no plain value in the index.
 */
describeEachDialect('safeguarding search by personal data', (dialect) => {
  let relay: TestRelay;
  let browser: Browser;
  let edna: { id: string; reference: string };
  let zoe: { id: string; reference: string };
  const db = () => relay.ctx.db.kysely;
  const references = (html: string) => [...html.matchAll(/>(SR-\d{4}-\d{6})<\/a>/g)].map((m) => m[1]);
  const search = async (q: string, more = '') => {
    const response = await browser.get(`/safeguarding/search?q=${encodeURIComponent(q)}${more}`);
    assert.equal(response.statusCode, 200, `${q}: ${response.statusCode}`);
    return references(response.body);
  };

  before(async () => {
    relay = await createTestRelay(dialect);
    edna = await raise(relay);
    const base = exampleReferral();
    zoe = await raise(relay, {
      incident: { ...base.incident, number: ' amb/2026/778 ', location: { postcode: 'SW1A 2AA' } },
      subject: {
        ...base.subject,
        givenName: 'Zoë',
        familyName: "O'Brien-Smith",
        dateOfBirth: '1950-03-07',
        nhsNumber: '401-023-2137',
        address: { line1: '1 Horse Guards Road', town: 'London', postcode: 'sw1a 1aa' },
      },
    });
    browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
  });
  after(async () => relay.close());

  it('finds each kind of value, however it is typed', async () => {
    const cases: [string, { id: string; reference: string }][] = [
      ['Whitfield', edna],
      ['edna', edna],
      ['Edna Whitfield', edna],
      ['  WHITFIELD   edna ', edna],
      ['1939-04-12', edna],
      ['12/04/1939', edna],
      ['12 April 1939', edna],
      ['943 476 5919', edna],
      ['943-476-5919', edna],
      ['9434765919', edna],
      ['b15 2tt', edna],
      ['B152TT', edna],
      ['inc-20261125-0457', edna],
      ['Zoe OBrien Smith', zoe],
      ["zoë o'brien-smith", zoe],
      ['obrien', zoe],
      ['7.3.1950', zoe],
      ['4010232137', zoe],
      ['SW1A1AA', zoe],
      ['sw1a 1aa', zoe],
      ['AMB/2026/778', zoe],
    ];
    for (const [q, who] of cases) assert.deepEqual(await search(q), [who.reference], q);
    // An outward code finds both the home and incident postcodes that share it, newest first.
    assert.deepEqual(await search('sw1a'), [zoe.reference], 'SW1A 1AA at home and SW1A 2AA for the incident');
    assert.deepEqual(await search('B15'), [edna.reference]);
  });

  it('says what each referral was found by', async () => {
    const foundBy = async (q: string) => {
      const response = await browser.get(`/safeguarding/search?q=${encodeURIComponent(q)}`);
      return [...response.body.matchAll(/<td class="nhsuk-table__cell">([^<]*)<\/td>\s*<\/tr>/g)].map(
        (m) => m[1],
      );
    };
    assert.deepEqual(await foundBy('943 476 5919'), ['NHS number']);
    assert.deepEqual(await foundBy('Edna Whitfield'), ['Name']);
    assert.deepEqual(await foundBy('B15 2TT'), ['Postcode']);
    assert.deepEqual(await foundBy('AMB/2026/778'), ['Incident number']);
    assert.deepEqual(await foundBy('12.4.1939'), ['Date of birth']);
  });

  it('finds nothing for a near miss: only whole values match', async () => {
    for (const q of [
      'Whitfiel',
      'Whitfields',
      'Edna Smith',
      '13/04/1939',
      '12/04/1940',
      '943 476 5918',
      '943476591',
      'B15 2TU',
      'B1',
      'INC-20261125-045',
      'AMB/2026/77',
    ]) {
      assert.deepEqual(await search(q), [], q);
    }
  });

  it('keeps the reference search and the other filters', async () => {
    assert.deepEqual(await search(zoe.reference.toLowerCase()), [zoe.reference]);
    assert.deepEqual(await search('2026-0000'), [zoe.reference, edna.reference]);
    assert.deepEqual(await search('Whitfield', '&status=routed'), [edna.reference]);
    assert.deepEqual(await search('Whitfield', '&status=acknowledged'), []);
    assert.deepEqual(await search('Whitfield', '&to=2026-11-24'), []);
  });

  it('audits every search: who, which kinds, how many, and never the text typed', async () => {
    await search('943 476 5919', '&authority=birmingham');
    const entry = await db()
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'referrals.searched')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    assert.match(entry.actor, /^user:/);
    const detail = JSON.parse(entry.detail) as {
      kinds: string[];
      results: number;
      filters: Record<string, string>;
      digests: string[];
    };
    assert.deepEqual(detail.kinds, ['nhs', 'incident']);
    assert.equal(detail.results, 1);
    assert.deepEqual(detail.filters, { authority: 'birmingham' });
    assert.equal(detail.digests.length, 2);
    for (const plain of ['943', '9434765919', '5919'])
      assert.equal(entry.detail.includes(plain), false, plain);

    await search('Edna Whitfield');
    const names = await db()
      .selectFrom('audit_log')
      .select('detail')
      .where('action', '=', 'referrals.searched')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    assert.deepEqual((JSON.parse(names.detail) as { kinds: string[] }).kinds, [
      'name',
      'full-name',
      'incident',
    ]);
    assert.doesNotMatch(names.detail, /edna|whitfield/i);
  });

  it('keeps no plain personal data in the index', async () => {
    const rows = await db().selectFrom('referral_search_terms').selectAll().execute();
    // Edna: full name, 2 names, date of birth, NHS number, postcode and outward code, incident number
    // (the incident's postcode is her home's). Zoë: full name, 3 names, date of birth, NHS number,
    // 2 postcodes and their one outward code, incident number.
    assert.equal(rows.length, 8 + 10);
    // A digest and a row id are random by construction, so a short value ('b15') turns up in them by
    // chance now and then: they are held to their exact shapes instead, and every other column to
    // containing none of the plain values.
    for (const row of rows) {
      assert.match(row.digest, /^[A-Za-z0-9_-]{43}$/, 'an HMAC-SHA256 in base64url, nothing else');
      assert.match(row.referral_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    const text = JSON.stringify(
      rows.map(({ digest: _digest, referral_id: _id, ...rest }) => rest),
    ).toLowerCase();
    for (const plain of [
      'whitfield',
      'edna',
      'brien',
      '9434765919',
      '4010232137',
      'b15',
      'sw1a',
      '1939',
      'inc-2026',
    ]) {
      assert.equal(text.includes(plain), false, plain);
    }
    assert.deepEqual([...new Set(rows.map((r) => r.kind))].sort(), [
      'dob',
      'full-name',
      'incident',
      'name',
      'nhs',
      'postcode',
    ]);
  });

  it('indexes no draft: an unsent crew form cannot be found', async () => {
    const before = await db().selectFrom('referral_search_terms').select('digest').execute();
    const { browser: crew } = await crewSignedIn(relay, 'draft.writer@example.org');
    await crew.get('/crew/referrals/new');
    const reference = '0b6c7d8e-1f2a-4b3c-8d4e-5f6a7b8c9d0e';
    const saved = await crew.post(`/crew/referrals/drafts/${reference}`, [
      ['sourceReference', reference],
      ['givenName', 'Ottoline'],
      ['familyName', 'Draftwell'],
    ]);
    assert.equal(saved.statusCode, 200);
    assert.deepEqual(await search('Ottoline Draftwell'), []);
    const after = await db().selectFrom('referral_search_terms').select('digest').execute();
    assert.equal(after.length, before.length);
  });

  it('backfills referrals with no index rows (relay personal-data reindex), once', async () => {
    await db().deleteFrom('referral_search_terms').where('referral_id', '=', edna.id).execute();
    assert.deepEqual(await search('Whitfield'), []);
    assert.equal(await reindexSearchTerms(relay.ctx, { batchSize: 1, actor: 'test' }), 1);
    assert.deepEqual(await search('Whitfield'), [edna.reference]);
    assert.equal(await reindexSearchTerms(relay.ctx, { batchSize: 1, actor: 'test' }), 0, 'nothing left');
  });
});
