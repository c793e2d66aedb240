import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { exampleReferral } from '../../../src/referrals/referral.example.ts';
import { parseSearch } from '../../../src/web/safeguarding/search.pages.ts';
import { searchReferrals } from '../../../src/web/safeguarding/search.queries.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { dudleyReferral, raise } from '../../helpers/referrals.ts';

/**
 * A search reads, for each way what was typed matched (each group of terms, part of a reference),
 * only the newest referrals that pass the filters, up to the page's limit, and lists the newest of
 * those. Checked here against what was raised: every term of a group held, the filters applied to
 * what is read, the limit cut at the newest (the test clock stands still, so every referral here was
 * received at one instant and the reference decides).
 */
describeEachDialect('safeguarding search: the newest that match, each way', (dialect) => {
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

  /** The references found for `query`, newest first. */
  async function found(query: Record<string, string>, limit = 101): Promise<string[]> {
    const authorities = new Set(['birmingham', 'dudley', 'coventry']);
    const { filter, errors } = parseSearch(query, authorities, relay.ctx.config.dataKeys);
    assert.deepEqual(errors, {});
    filter.limit = limit;
    return (await searchReferrals(relay.ctx.db.kysely, filter)).map((r) => r.reference);
  }

  const newestFirst = (...kinds: string[]) =>
    raised
      .filter((r) => kinds.includes(r.who))
      .map((r) => r.reference)
      .reverse();

  it('finds a surname, a full name (every term held) and a postcode district, newest first', async () => {
    assert.deepEqual(await found({ q: 'Whitfield' }), newestFirst('whitfield-b15', 'whitfield-dudley'));
    assert.deepEqual(await found({ q: 'Edna Okafor' }), newestFirst('okafor-b15'));
    // Every name typed must be held: Edna alone is not enough.
    assert.deepEqual(await found({ q: 'Edna Whitfield' }), newestFirst('whitfield-b15', 'whitfield-dudley'));
    assert.deepEqual(await found({ q: 'Grace Okafor' }), [], 'no one is Grace');
    assert.deepEqual(await found({ q: 'DY1' }), newestFirst('whitfield-dudley'));
    // Every incident here was in B15, wherever the person lives.
    const all = newestFirst('whitfield-b15', 'okafor-b15', 'whitfield-dudley');
    assert.deepEqual(await found({ q: 'B15' }), all);
  });

  it('stops at the limit with the newest, and applies the other filters to what it walks', async () => {
    const all = newestFirst('whitfield-b15', 'okafor-b15', 'whitfield-dudley');
    assert.deepEqual(await found({ q: 'B15' }, 3), all.slice(0, 3));
    assert.deepEqual(await found({ q: 'Whitfield', authority: 'dudley' }), newestFirst('whitfield-dudley'));
    assert.deepEqual(
      await found({ q: 'Whitfield', authority: 'birmingham' }, 2),
      newestFirst('whitfield-b15').slice(0, 2),
    );
    assert.deepEqual(
      await found({ q: 'Whitfield', from: '2026-11-25', to: '2026-11-25' }),
      newestFirst('whitfield-b15', 'whitfield-dudley'),
    );
    assert.deepEqual(await found({ q: 'Whitfield', status: 'closed' }), []);
    assert.deepEqual(await found({ q: 'Whitfield', to: '2000-01-01' }), []);
  });

  it('finds part of a reference', async () => {
    const third = raised[2]?.reference as string;
    // The last digits of one reference: part of it and of no other here.
    const part = third.slice(-4);
    assert.deepEqual(await found({ q: part }), [third]);
  });
});
