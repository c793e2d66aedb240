import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { latestVersion, loadDirectory } from '../../../src/directory/directory.repository.ts';
import type { EmailChannel } from '../../../src/directory/directory.types.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import type { TestRelay } from '../../helpers/relay.ts';
import { birminghamForm, countRows, fieldError, startAdminRelay } from './admin.helpers.ts';
import type { Browser } from '../../helpers/web.ts';
import { raise } from '../../helpers/referrals.ts';

const TEAM = 'birmingham-adults';

const primaryOf = (channels: readonly unknown[]) =>
  (channels as EmailChannel[]).find((c) => c.kind === 'email' && c.role === 'primary');

describeEachDialect('admin: editing the directory', (dialect) => {
  let relay: TestRelay, admin: Browser, adminId: string;
  before(async () => ({ relay, admin, adminId } = await startAdminRelay(dialect)));
  after(async () => relay.close());

  const teamOf = async (versionId: number) =>
    (await loadDirectory(relay.ctx.db.kysely, versionId)).authorities
      .flatMap((a) => a.teams)
      .find((t) => t.id === TEAM)!;

  /** Opens the Birmingham team's edit page, as a person would, and saves its form with `changes`. */
  const postEdit = async (changes: Record<string, string>) => {
    await admin.get(`/admin/directory/teams/${TEAM}/edit`);
    return admin.post(`/admin/directory/teams/${TEAM}/edit`, birminghamForm(changes));
  };

  it('lists the teams collapsed by authority, and filters them by authority, name and channel', async () => {
    const all = (await admin.get('/admin/directory')).body;
    assert.match(all, /<details class="nhsuk-details" id="authority-birmingham">/, 'collapsed');
    assert.doesNotMatch(all, /<details[^>]* open>/);
    const byName = (await admin.get('/admin/directory?team=children')).body;
    const names = [...byName.matchAll(/<h3 class="nhsuk-heading-s" id="team-([^"]+)">/g)].map((m) => m[1]);
    assert.ok(names.length > 0 && names.every((id) => /children/.test(id!)), names.join(', '));
    assert.match(byName, /<details class="nhsuk-details" id="authority-birmingham" open>/);
    const one = (await admin.get('/admin/directory?authority=coventry&team=adult')).body;
    assert.deepEqual(
      [...one.matchAll(/<h3 class="nhsuk-heading-s" id="team-([^"]+)">/g)].map((m) => m[1]),
      ['coventry-adults'],
    );
    const hooks = (await admin.get('/admin/directory?channel=webhook')).body;
    assert.equal(hooks.match(/<h3 class="nhsuk-heading-s"/g)?.length, 1, 'the one team with a webhook');
    assert.match(
      (await admin.get('/admin/directory?team=nothing-like-this')).body,
      /0 teams in 0 authorities match/,
    );
  });

  it('shows the form filled with the team as it is', async () => {
    const page = await admin.get(`/admin/directory/teams/${TEAM}/edit`);
    assert.equal(page.statusCode, 200);
    for (const [name, value] of Object.entries(birminghamForm())) {
      if (name.endsWith('-role') || name === 'emailDetail') continue;
      assert.match(page.body, new RegExp(`name="${name}"[^>]*value="${value}"`), name);
    }
    assert.equal((await admin.get('/admin/directory/teams/no-such-team/edit')).statusCode, 404);
  });

  it('saves a new version with the new address, audited, leaving the old version and its referrals as they were', async () => {
    const earlier = await raise(relay);
    assert.equal(earlier.deliveries[0]?.address, 'adults.birmingham@example.org');
    const previous = (await latestVersion(relay.ctx.db.kysely))!.id;

    const saved = await postEdit({
      'addresses-0-address': 'front.door@example.org',
      'addresses-0-owner': 'Sam Owner',
      'addresses-0-verifyBy': '2027-06-30',
      'phones-2-label': 'Out of hours',
      'phones-2-number': '01632 960199',
    });
    assert.equal(saved.statusCode, 303);
    const current = (await latestVersion(relay.ctx.db.kysely))!;
    assert.notEqual(current.id, previous);
    assert.equal(saved.headers.location, `/admin/directory?saved=${current.id}#team-${TEAM}`);
    assert.equal(current.source, `edit team ${TEAM}`);
    assert.equal(current.createdBy, `user:${adminId}`);

    const team = await teamOf(current.id);
    assert.deepEqual(primaryOf(team.channels), {
      kind: 'email',
      role: 'primary',
      address: 'front.door@example.org',
      owner: 'Sam Owner',
      verifyBy: '2027-06-30',
    });
    assert.equal(team.phones.length, 3);
    assert.equal(primaryOf((await teamOf(previous)).channels)?.address, 'adults.birmingham@example.org');

    const audit = await relay.ctx.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'directory.imported')
      .where('entity_id', '=', String(current.id))
      .executeTakeFirstOrThrow();
    assert.equal(audit.actor, `user:${adminId}`);
    assert.match(audit.detail, /edit team birmingham-adults/);

    const later = await raise(relay);
    assert.equal(later.deliveries[0]?.address, 'front.door@example.org');
    const versions = await relay.ctx.db.kysely
      .selectFrom('referrals')
      .select(['id', 'directory_version'])
      .where('id', 'in', [earlier.id, later.id])
      .execute();
    const versionOf = new Map(versions.map((v) => [v.id, v.directory_version]));
    assert.equal(versionOf.get(earlier.id), previous);
    assert.equal(versionOf.get(later.id), current.id);

    const page = await admin.get(saved.headers.location as string);
    assert.match(page.body, new RegExp(`Saved as directory version ${current.id}`));
    assert.match(page.body, /front\.door@example\.org/);
    assert.match(page.body, /Sam Owner/);
  });

  it('refuses an invalid edit with the errors beside the fields, and changes nothing', async () => {
    const versions = await countRows(relay, 'directory_versions');
    const response = await postEdit({
      'addresses-0-address': 'not an email',
      'addresses-1-verifyBy': '2027-02-30',
      'addresses-2-owner': 'Owner without an address',
      'phones-1-number': 'call us',
      'hours-mon-open': '8.30',
      'hours-tue-open': '18:00',
    });
    assert.equal(response.statusCode, 422);
    assert.match(response.body, /nhsuk-error-summary/);
    assert.match(
      fieldError(response.body, 'addresses-0-address') ?? '',
      /email address in the correct format/,
    );
    assert.match(fieldError(response.body, 'addresses-1-verifyBy') ?? '', /YYYY-MM-DD/);
    assert.match(fieldError(response.body, 'addresses-2-address') ?? '', /email address/);
    assert.match(fieldError(response.body, 'phones-1-number') ?? '', /phone number/);
    assert.match(fieldError(response.body, 'hours-mon-open') ?? '', /HH:MM/);
    assert.match(fieldError(response.body, 'hours-tue-open') ?? '', /before the closing time/);
    assert.match(response.body, /value="not an email"/, 'what was typed is kept');
    assert.equal(await countRows(relay, 'directory_versions'), versions);
  });

  it('insists on exactly one primary address', async () => {
    const response = await postEdit({ 'addresses-1-role': 'primary' });
    assert.equal(response.statusCode, 422);
    assert.match(fieldError(response.body, 'addresses-1-role') ?? '', /exactly one primary/);
  });

  it('changes opening hours, and flags addresses due for re-verification', async () => {
    const saved = await postEdit({
      'addresses-0-address': 'front.door@example.org',
      'addresses-0-owner': 'Sam Owner',
      'addresses-0-verifyBy': '2026-11-01',
      'addresses-1-verifyBy': '2026-12-10',
      'hours-sat-open': '',
      'hours-sat-close': '',
      openOnBankHolidays: 'yes',
      'phones-1-label': '',
      'phones-1-number': '',
    });
    assert.equal(saved.statusCode, 303);
    const team = await teamOf((await latestVersion(relay.ctx.db.kysely))!.id);
    assert.equal(team.hours.weekly?.sat, undefined);
    assert.deepEqual(team.hours.weekly?.mon, [['08:30', '17:00']]);
    assert.equal(team.hours.openOnBankHolidays, true);
    assert.equal(team.phones.length, 1);

    const page = (await admin.get('/admin/directory')).body;
    assert.match(page, /Mon–Fri 08:30–17:00/);
    assert.match(page, /Sat–Sun closed/);
    assert.match(page, /Open on bank holidays/);
    // Each cell's heading (shown when a phone stacks the row) is left out: it says "Re-verify by".
    const cells = page.replace(/<span class="nhsuk-table__heading"[^>]*>[^<]*<\/span>/g, '');
    const row = (address: string) =>
      new RegExp(`${address.replace(/\./g, '\\.')}</td>.*?</tr>`).exec(cells)?.[0];
    assert.match(row('front.door@example.org') ?? '', /Re-verification overdue/);
    assert.match(row('adults.birmingham.duty@example.org') ?? '', /Re-verify soon/);
    assert.doesNotMatch(row('children.birmingham@example.org') ?? '', /Re-verif/);
  });

  it('makes no version when the form is saved unchanged, and refuses a form from an older version', async () => {
    const form = (await admin.get(`/admin/directory/teams/coventry-adults/edit`)).body;
    const basedOn = /name="basedOn" value="(\d+)"/.exec(form)?.[1];
    const fields = Object.fromEntries(
      [...form.matchAll(/<input\s([^>]*)>/g)]
        .map((m) => m[1]!)
        .filter((attrs) => !/type="(checkbox|radio)"/.test(attrs))
        .flatMap((attrs) => {
          const name = /name="([\w-]+)"/.exec(attrs)?.[1];
          return name ? [[name, /value="([^"]*)"/.exec(attrs)?.[1] ?? '']] : [];
        }),
    );
    const selects = Object.fromEntries(
      [...form.matchAll(/<select[^>]*name="([\w-]+)"[\s\S]*?<option value="(\w+)" selected/g)].map((m) => [
        m[1]!,
        m[2]!,
      ]),
    );
    const versions = await countRows(relay, 'directory_versions');
    const unchanged = await admin.post('/admin/directory/teams/coventry-adults/edit', {
      ...fields,
      ...selects,
      emailDetail: 'minimal',
    });
    assert.equal(unchanged.statusCode, 303);
    assert.match(String(unchanged.headers.location), /saved=none/);
    assert.equal(await countRows(relay, 'directory_versions'), versions);

    const stale = await postEdit({ basedOn: String(Number(basedOn) - 1) });
    assert.equal(stale.statusCode, 409);
    assert.match(stale.body, /changed since this page was opened/);
  });
});
