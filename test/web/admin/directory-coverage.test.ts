import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { latestVersion, loadDirectory } from '../../../src/directory/directory.repository.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import type { TestRelay } from '../../helpers/relay.ts';
import { countRows, fieldError, postPairs, startAdminRelay } from './admin.helpers.ts';
import type { Browser } from '../../helpers/web.ts';
import { raise } from '../../helpers/referrals.ts';

describeEachDialect('admin: postcode coverage', (dialect) => {
  let relay: TestRelay, admin: Browser;
  before(async () => ({ relay, admin } = await startAdminRelay(dialect)));
  after(async () => relay.close());

  const entry = async (prefix: string) => {
    const version = (await latestVersion(relay.ctx.db.kysely))!;
    const directory = await loadDirectory(relay.ctx.db.kysely, version.id);
    return { version, entry: directory.coverage.find((c) => c.prefix === prefix) };
  };
  const routedTo = async () => {
    const doc = await raise(relay);
    return [...new Set(doc.deliveries.map((d) => d.team))];
  };

  it('lists every prefix with its authority, and a split as a split', async () => {
    const page = await admin.get('/admin/directory/coverage');
    assert.equal(page.statusCode, 200);
    assert.match(
      page.body,
      /<td class="nhsuk-table__cell">B15<\/td><td class="nhsuk-table__cell">Birmingham City Council<\/td>/,
    );
    assert.match(
      page.body,
      /<td class="nhsuk-table__cell">DY3<\/td><td class="nhsuk-table__cell">Split: Dudley[^<]*, Staffordshire[^<]*<\/td>/,
    );
  });

  it('adds a prefix as a new version that routes referrals, changes it to a split, then removes it', async () => {
    assert.deepEqual(await routedTo(), ['birmingham-adults']);
    await admin.get('/admin/directory/coverage');
    const added = await admin.post('/admin/directory/coverage', {
      prefix: 'b15  2',
      authority: 'solihull',
    });
    assert.equal(added.statusCode, 303);
    const first = await entry('B15 2');
    assert.deepEqual(first.entry, { prefix: 'B15 2', authorityId: 'solihull' });
    assert.equal(first.version.source, 'edit coverage B15 2');
    assert.match(String(added.headers.location), new RegExp(`saved=${first.version.id}$`));
    assert.deepEqual(await routedTo(), ['solihull-adults'], 'the longer prefix wins');

    const split = await postPairs(relay, admin, '/admin/directory/coverage', '/admin/directory/coverage', [
      ['prefix', 'B15 2'],
      ['authority', ''],
      ['split', 'birmingham'],
      ['split', 'solihull'],
    ]);
    assert.equal(split.statusCode, 303);
    assert.deepEqual((await entry('B15 2')).entry, { prefix: 'B15 2', split: ['birmingham', 'solihull'] });
    const ambiguous = await raise(relay);
    assert.equal(ambiguous.deliveries.length, 0, 'an ambiguous prefix goes to triage');

    await admin.get('/admin/directory/coverage');
    const removed = await admin.post('/admin/directory/coverage/remove', { removePrefix: 'B15 2' });
    assert.equal(removed.statusCode, 303);
    const gone = await entry('B15 2');
    assert.equal(gone.entry, undefined);
    assert.equal(gone.version.source, 'remove coverage B15 2');
    assert.deepEqual(await routedTo(), ['birmingham-adults']);
    const audits = await relay.ctx.db.kysely
      .selectFrom('audit_log')
      .select('detail')
      .where('action', '=', 'directory.imported')
      .execute();
    assert.equal(audits.filter((a) => a.detail.includes('coverage B15 2')).length, 3);
  });

  it('refuses what is not a prefix or not a clear answer, beside the field, and changes nothing', async () => {
    const versions = await countRows(relay, 'directory_versions');
    await admin.get('/admin/directory/coverage');
    const badPrefix = await admin.post('/admin/directory/coverage', {
      prefix: 'QQ99 9ZZ9',
      authority: 'dudley',
    });
    assert.equal(badPrefix.statusCode, 422);
    assert.match(
      fieldError(badPrefix.body, 'prefix') ?? '',
      /postcode area, district, sector or full postcode/,
    );
    const noAuthority = await admin.post('/admin/directory/coverage', { prefix: 'B15 3' });
    assert.match(fieldError(noAuthority.body, 'authority') ?? '', /Choose the authority/);
    const oneSplit = await admin.post('/admin/directory/coverage', { prefix: 'B15 3', split: 'dudley' });
    assert.match(fieldError(oneSplit.body, 'split') ?? '', /at least two/);
    const unknown = await admin.post('/admin/directory/coverage', {
      prefix: 'B15 3',
      authority: 'atlantis',
    });
    assert.equal(unknown.statusCode, 422);
    const missing = await admin.post('/admin/directory/coverage/remove', { removePrefix: 'ZZ1' });
    assert.equal(missing.statusCode, 422);
    assert.match(fieldError(missing.body, 'removePrefix') ?? '', /no coverage entry/);
    assert.equal(await countRows(relay, 'directory_versions'), versions);
  });
});
