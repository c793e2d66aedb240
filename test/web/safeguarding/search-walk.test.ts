import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { exampleReferral } from '../../../src/referrals/referral.example.ts';
import { parseSearch } from '../../../src/web/safeguarding/search.pages.ts';
import { searchReferrals } from '../../../src/web/safeguarding/search.queries.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { dudleyReferral, raise } from '../../helpers/referrals.ts';

/**
 * A value typed into the search that thousands of referrals hold is found by walking referrals newest
 * first and testing each, a rare one by looking up its matches; past how many matches depends on the
 * engine and the number of referrals. Both ways must list the same referrals in the same order, so
 * each search here is made both ways on a few referrals, and checked against what was raised.
 */
describeEachDialect('safeguarding search: a common value walked, a rare one looked up', (dialect) => {
  let relay: TestRelay;
  const raised: { reference: string; who: string }[] = [];
  const base = exampleReferral();
  const okafor = { ...base.subject, givenName: 'Edna', familyName: 'Okafor' };

  before(async () => {
    relay = await createTestRelay(dialect);
    for (let i = 0; i < 9; i++) {
      // Edna Whitfield in B15, Edna Okafor in B15, and Edna Whitfield in Dudley, in turn.
      const kind = ['whitfield-b15', 'okafor-b15', 'whitfield-dudley'][i % 3] as string;
      const body =
        kind === 'okafor-b15'
          ? { subject: okafor }
          : kind === 'whitfield-dudley'
            ? dudleyReferral(`WALK-${process.pid}-${i}`)
            : {};
      raised.push({ reference: (await raise(relay, body)).reference, who: kind });
    }
  });
  after(async () => relay.close());

  /** The references found for `query` by each way, newest first, after checking they agree. */
  async function bothWays(query: Record<string, string>, limit = 101): Promise<string[]> {
    const authorities = new Set(['birmingham', 'dudley', 'coventry']);
    const { filter, errors } = parseSearch(query, authorities, relay.ctx.config.dataKeys);
    assert.deepEqual(errors, {});
    filter.limit = limit;
    const db = relay.ctx.db.kysely;
    const walked = await searchReferrals(db, filter, { walkFrom: 0 });
    const lookedUp = await searchReferrals(db, filter, { walkFrom: Number.MAX_SAFE_INTEGER });
    assert.deepEqual(walked, lookedUp, `walked and looked up agree for ${JSON.stringify(query)}`);
    return walked.map((r) => r.reference);
  }

  const newestFirst = (...kinds: string[]) =>
    raised
      .filter((r) => kinds.includes(r.who))
      .map((r) => r.reference)
      .reverse();

  it('finds a surname, a full name (every term held) and a postcode district, newest first', async () => {
    assert.deepEqual(await bothWays({ q: 'Whitfield' }), newestFirst('whitfield-b15', 'whitfield-dudley'));
    assert.deepEqual(await bothWays({ q: 'Edna Okafor' }), newestFirst('okafor-b15'));
    // Every name typed must be held: Edna alone is not enough.
    assert.deepEqual(
      await bothWays({ q: 'Edna Whitfield' }),
      newestFirst('whitfield-b15', 'whitfield-dudley'),
    );
    assert.deepEqual(await bothWays({ q: 'Grace Okafor' }), [], 'no one is Grace');
    assert.deepEqual(await bothWays({ q: 'DY1' }), newestFirst('whitfield-dudley'));
    // Every incident here was in B15, wherever the person lives.
    const all = newestFirst('whitfield-b15', 'okafor-b15', 'whitfield-dudley');
    assert.deepEqual(await bothWays({ q: 'B15' }), all);
  });

  it('stops at the limit with the newest, and applies the other filters to what it walks', async () => {
    const all = newestFirst('whitfield-b15', 'okafor-b15', 'whitfield-dudley');
    assert.deepEqual(await bothWays({ q: 'B15' }, 3), all.slice(0, 3));
    assert.deepEqual(
      await bothWays({ q: 'Whitfield', authority: 'dudley' }),
      newestFirst('whitfield-dudley'),
    );
    assert.deepEqual(await bothWays({ q: 'Whitfield', status: 'closed' }), []);
    assert.deepEqual(await bothWays({ q: 'Whitfield', to: '2000-01-01' }), []);
  });

  it('finds part of a reference by either way', async () => {
    const third = raised[2]?.reference as string;
    // The last digits of one reference: part of it and of no other here.
    const part = third.slice(-4);
    assert.deepEqual(await bothWays({ q: part }), [third]);
  });
});
