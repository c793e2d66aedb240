import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createApiKey } from '../../../src/access/apikey.service.ts';
import { latestVersion, loadDirectory } from '../../../src/directory/directory.repository.ts';
import type { DirectoryFileInput } from '../../../src/directory/directory.schema.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import type { TestRelay } from '../../helpers/relay.ts';
import {
  addUser,
  countRows,
  fieldError,
  demoDirectoryFile,
  pageText,
  startAdminRelay,
} from './admin.helpers.ts';
import type { Browser } from '../../helpers/web.ts';
import { raise } from '../../helpers/referrals.ts';

/** Renames birmingham-adults (a referral, a recipient and the team key point at it) and removes walsall-out-of-hours (a key). */
function strandingFile(): DirectoryFileInput {
  const file = demoDirectoryFile();
  const birmingham = file.authorities.find((a) => a.id === 'birmingham')!;
  birmingham.teams.find((t) => t.id === 'birmingham-adults')!.name = 'Birmingham Adults (renamed)';
  const walsall = file.authorities.find((a) => a.id === 'walsall')!;
  walsall.teams = walsall.teams.filter((t) => t.id !== 'walsall-out-of-hours');
  return file;
}

async function forcedAudits(relay: TestRelay) {
  const rows = await relay.ctx.db.kysely
    .selectFrom('audit_log')
    .select(['actor', 'detail', 'entity_id'])
    .where('action', '=', 'directory.import-forced')
    .execute();
  return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
}

describeEachDialect('admin: a directory import that strands work', (dialect) => {
  let relay: TestRelay, admin: Browser, adminId: string;

  before(async () => {
    ({ relay, admin, adminId } = await startAdminRelay(dialect));
    await addUser(relay, 'adults@example.org', ['recipient'], ['birmingham-adults']);
    await createApiKey(
      relay.ctx.db.kysely,
      relay.clock,
      { name: 'walsall ooh', scope: 'acknowledgements:write', teamId: 'walsall-out-of-hours' },
      'test',
      async () => true,
    );
    const referral = await raise(relay);
    assert.ok(referral.deliveries.some((d) => d.team === 'birmingham-adults'));
  });
  after(async () => relay.close());

  it('the preview names each team still in use and what points at it', async () => {
    await admin.get('/admin/directory/import');
    const preview = await admin.post('/admin/directory/import', { json: JSON.stringify(strandingFile()) });
    assert.equal(preview.statusCode, 200);
    const shown = pageText(preview.body);
    assert.match(shown, /Teams still in use/);
    assert.match(shown, /birmingham-adults Birmingham Adult Social Care Front Door Renamed 1 1 1/);
    assert.match(shown, /walsall-out-of-hours [^0-9]+ Removed 0 0 1/);
    assert.match(preview.body, /name="force"/);
    assert.match(preview.body, /name="reason"/);
  });

  it('confirming without the checkbox is refused (409) beside the fields, naming each team, changing nothing', async () => {
    const versions = await countRows(relay, 'directory_versions');
    const audits = await countRows(relay, 'audit_log');
    await admin.get('/admin/directory/import');
    const json = JSON.stringify(strandingFile());
    const preview = await admin.post('/admin/directory/import', { json });
    const basedOn = /name="basedOn" value="(\d+)"/.exec(preview.body)?.[1] ?? '';

    const refused = await admin.post('/admin/directory/import/confirm', { json, basedOn });
    assert.equal(refused.statusCode, 409);
    const forceError = fieldError(refused.body, 'force') ?? '';
    assert.match(forceError, /birmingham-adults/);
    assert.match(forceError, /walsall-out-of-hours/);
    assert.match(fieldError(refused.body, 'reason') ?? '', /Give the reason/);
    assert.match(refused.body, /There is a problem/);
    assert.match(refused.body, /href="#force"/);

    const noReason = await admin.post('/admin/directory/import/confirm', { json, basedOn, force: 'yes' });
    assert.equal(noReason.statusCode, 422);
    assert.match(fieldError(noReason.body, 'reason') ?? '', /Give the reason/);
    assert.equal(fieldError(noReason.body, 'force'), undefined);

    assert.equal(await countRows(relay, 'directory_versions'), versions);
    assert.equal(await countRows(relay, 'audit_log'), audits);
    assert.deepEqual(await forcedAudits(relay), []);
  });

  it('confirming with the checkbox and a reason imports, and the forcing is audited with the reason', async () => {
    await admin.get('/admin/directory/import');
    const json = JSON.stringify(strandingFile());
    const preview = await admin.post('/admin/directory/import', { json });
    const basedOn = /name="basedOn" value="(\d+)"/.exec(preview.body)?.[1] ?? '';
    const reason = 'Walsall out-of-hours merged into the regional team; keys re-issued';
    const confirmed = await admin.post('/admin/directory/import/confirm', {
      json,
      basedOn,
      force: 'yes',
      reason,
    });
    assert.equal(confirmed.statusCode, 303, confirmed.body);
    const version = (await latestVersion(relay.ctx.db.kysely))!;
    assert.equal(confirmed.headers.location, `/admin/directory?saved=${version.id}`);
    const directory = await loadDirectory(relay.ctx.db.kysely, version.id);
    const walsall = directory.authorities.find((a) => a.id === 'walsall')!;
    assert.equal(
      walsall.teams.some((t) => t.id === 'walsall-out-of-hours'),
      false,
    );

    const [audit, ...more] = await forcedAudits(relay);
    assert.equal(more.length, 0);
    assert.equal(audit?.actor, `user:${adminId}`);
    assert.equal(audit?.entity_id, String(version.id));
    assert.equal(audit?.detail.reason, reason);
    const teams = audit?.detail.teams as { teamId: string; change: string; openReferrals: number }[];
    assert.deepEqual(
      teams.map((t) => [t.teamId, t.change, t.openReferrals]),
      [
        ['birmingham-adults', 'renamed', 1],
        ['walsall-out-of-hours', 'removed', 0],
      ],
    );
  });

  it('warns about a day team with no opening hours, and an import of a team nobody uses goes through', async () => {
    // On top of the forced import above, so only these changes are in the diff.
    const file = strandingFile();
    const dudley = file.authorities.find((a) => a.id === 'dudley')!;
    dudley.teams.find((t) => t.kind === 'children')!.hours = { weekly: {} };
    // Solihull's out-of-hours team has no key, user or referral: removing it needs no confirmation.
    const solihull = file.authorities.find((a) => a.id === 'solihull')!;
    solihull.teams = solihull.teams.filter((t) => t.kind !== 'out-of-hours');
    await admin.get('/admin/directory/import');
    const json = JSON.stringify(file);
    const preview = await admin.post('/admin/directory/import', { json });
    const shown = pageText(preview.body);
    assert.match(shown, /Check before you import/);
    assert.match(shown, /dudley-children is a day team with no opening hours/);
    assert.doesNotMatch(shown, /Teams still in use/);
    const basedOn = /name="basedOn" value="(\d+)"/.exec(preview.body)?.[1] ?? '';
    const confirmed = await admin.post('/admin/directory/import/confirm', { json, basedOn });
    assert.equal(confirmed.statusCode, 303, confirmed.body);
  });
});
