import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { editDirectory } from '../../../src/directory/directory.edit.ts';
import { latestVersion, loadDirectory } from '../../../src/directory/directory.repository.ts';
import type { DirectoryFileInput } from '../../../src/directory/directory.schema.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import type { TestRelay } from '../../helpers/relay.ts';
import { countRows, fieldError, demoDirectoryFile, pageText, startAdminRelay } from './admin.helpers.ts';
import type { Browser } from '../../helpers/web.ts';

/** The demo with one of each kind of change an admin must see before confirming. */
function modifiedDemo(): DirectoryFileInput {
  const file = demoDirectoryFile();
  const birmingham = file.authorities.find((a) => a.id === 'birmingham')!;
  const adults = birmingham.teams.find((t) => t.id === 'birmingham-adults')!;
  const primary = adults.channels[0]!;
  if (primary.kind === 'email') primary.address = 'new.front.door@example.org';
  file.authorities.find((a) => a.id === 'coventry')!.name = 'Coventry City Council (renamed)';
  const walsall = file.authorities.find((a) => a.id === 'walsall')!;
  walsall.teams = walsall.teams.filter((t) => t.id !== 'walsall-out-of-hours');
  file.coverage = file.coverage.filter((c) => c.prefix !== 'B1');
  file.coverage.find((c) => c.prefix === 'B91')!.authority = 'birmingham';
  file.coverage.push({ prefix: 'B15 2', authority: 'solihull' });
  return file;
}

describeEachDialect('admin: importing a directory file', (dialect) => {
  let relay: TestRelay, admin: Browser, adminId: string;
  before(async () => ({ relay, admin, adminId } = await startAdminRelay(dialect)));
  after(async () => relay.close());

  it('previews the differences, and confirming makes a new version', async () => {
    const versions = await countRows(relay, 'directory_versions');
    await admin.get('/admin/directory/import');
    const json = JSON.stringify(modifiedDemo(), null, 2);
    const preview = await admin.post('/admin/directory/import', { json });
    assert.equal(preview.statusCode, 200);
    const shown = pageText(preview.body);
    assert.match(shown, /Renamed coventry Coventry City Council → Coventry City Council \(renamed\)/);
    assert.match(shown, /Removed walsall-out-of-hours/);
    assert.match(shown, /Added birmingham-adults new\.front\.door@example\.org/);
    assert.match(shown, /Removed birmingham-adults adults\.birmingham@example\.org/);
    assert.match(shown, /Added B15 2 → solihull/);
    assert.match(shown, /Removed B1 was birmingham/);
    assert.match(shown, /Changed B91 solihull → birmingham/);
    assert.match(preview.body, /Confirm import/);
    assert.equal(await countRows(relay, 'directory_versions'), versions, 'a preview changes nothing');

    const basedOn = /name="basedOn" value="(\d+)"/.exec(preview.body)?.[1] ?? '';
    const confirmed = await admin.post('/admin/directory/import/confirm', { json, basedOn });
    assert.equal(confirmed.statusCode, 303);
    const version = (await latestVersion(relay.ctx.db.kysely))!;
    assert.equal(version.id > Number(basedOn), true);
    assert.equal(confirmed.headers.location, `/admin/directory?saved=${version.id}`);
    assert.equal(version.source, 'web import');
    assert.equal(version.createdBy, `user:${adminId}`);
    const directory = await loadDirectory(relay.ctx.db.kysely, version.id);
    assert.equal(
      directory.authorities.find((a) => a.id === 'coventry')?.name,
      'Coventry City Council (renamed)',
    );
    assert.equal(directory.coverage.find((c) => c.prefix === 'B15 2')?.authorityId, 'solihull');

    const again = await admin.post('/admin/directory/import', { json });
    assert.match(pageText(again.body), /importing it would change nothing/);
    assert.doesNotMatch(again.body, /Confirm import/);
  });

  it('shows invalid JSON beside the field, and a file’s problems by path, changing nothing', async () => {
    const versions = await countRows(relay, 'directory_versions');
    await admin.get('/admin/directory/import');
    const broken = await admin.post('/admin/directory/import', { json: '{ "name": "half a file", ' });
    assert.equal(broken.statusCode, 422);
    assert.match(fieldError(broken.body, 'json') ?? '', /not valid JSON/);
    assert.match(broken.body, /half a file/, 'the pasted text is kept to correct');

    const file = demoDirectoryFile();
    const channel = file.authorities[0]!.teams[0]!.channels[0]!;
    if (channel.kind === 'email') channel.address = 'not-an-address';
    (file.coverage[0] as Record<string, unknown>).authorty = 'birmingham';
    const invalid = await admin.post('/admin/directory/import', { json: JSON.stringify(file) });
    assert.equal(invalid.statusCode, 422);
    assert.match(fieldError(invalid.body, 'json') ?? '', /problems, listed below/);
    const shown = pageText(invalid.body);
    assert.match(shown, /authorities\.0\.teams\.0\.channels\.0\.address must be an email address/);
    assert.match(shown, /coverage\.0\.authorty is not a known field/);

    const empty = await admin.post('/admin/directory/import', { json: '' });
    assert.match(fieldError(empty.body, 'json') ?? '', /Paste the contents/);
    const invalidConfirm = await admin.post('/admin/directory/import/confirm', {
      json: '[]',
      basedOn: '1',
    });
    assert.equal(invalidConfirm.statusCode, 422);
    assert.equal(await countRows(relay, 'directory_versions'), versions);
  });

  it('shows the differences again when the directory changed after the preview', async () => {
    await admin.get('/admin/directory/import');
    const json = JSON.stringify(demoDirectoryFile());
    const preview = await admin.post('/admin/directory/import', { json });
    const basedOn = /name="basedOn" value="(\d+)"/.exec(preview.body)?.[1] ?? '';
    await editDirectory(
      relay.ctx.db.kysely,
      relay.clock,
      (d) => ({ ...d, name: 'Changed meanwhile' }),
      'test',
    );
    const versions = await countRows(relay, 'directory_versions');
    const stale = await admin.post('/admin/directory/import/confirm', { json, basedOn });
    assert.equal(stale.statusCode, 409);
    assert.match(pageText(stale.body), /The directory changed while you were checking/);
    assert.match(pageText(stale.body), /Name: Changed meanwhile → West Midlands demo directory/);
    assert.equal(await countRows(relay, 'directory_versions'), versions);
  });
});
