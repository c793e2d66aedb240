import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkRelay } from '../../src/assurance/check.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { meshAuthorization } from '../../src/delivery/channels/mesh.client.ts';
import { diffDirectories } from '../../src/directory/directory.diff.ts';
import { latestVersion, loadDirectory } from '../../src/directory/directory.repository.ts';
import { parseDirectoryFile } from '../../src/directory/directory.schema.ts';
import { DEMO_DIRECTORY_PATH, readDirectoryFile } from '../../src/directory/directory.service.ts';
import { findTeam, type Directory, type MeshChannel } from '../../src/directory/directory.types.ts';
import { targetsOf } from '../../src/directory/targets.ts';
import { describeEachDialect } from '../helpers/db.ts';
import type { TestRelay } from '../helpers/relay.ts';
import type { Browser } from '../helpers/web.ts';
import { birminghamForm, startAdminRelay } from '../web/admin/admin.helpers.ts';

const MESH_ENTRY: MeshChannel = {
  kind: 'mesh',
  mailbox: 'X26ABC2',
  workflowId: 'SAFEGUARDING_REFERRAL',
  owner: 'Systems team',
  verifyBy: '2027-06-30',
};

/** The demo directory as a file, with a MESH entry for Birmingham adults (changed by `entry`). */
async function demoWithMesh(entry: Partial<MeshChannel> & Record<string, unknown> = {}) {
  const file = structuredClone(await readDirectoryFile(DEMO_DIRECTORY_PATH)) as Directory;
  const authority = file.authorities.findIndex((a) => a.teams.some((t) => t.id === 'birmingham-adults'));
  const teams = file.authorities[authority]!.teams;
  const index = teams.findIndex((t) => t.id === 'birmingham-adults');
  teams[index]!.channels.push({ ...MESH_ENTRY, ...entry } as MeshChannel);
  const channel = teams[index]!.channels.length - 1;
  return { file, at: `authorities.${authority}.teams.${index}.channels.${channel}` };
}

const MESH_ENV = {
  MESH_URL: 'http://127.0.0.1:1',
  MESH_MAILBOX: 'X26ABC1',
  MESH_PASSWORD: 'password',
  MESH_SHARED_KEY: 'TestKey',
};

function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig({ RELAY_ENV: 'test', ...env });
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
}

describe('MESH settings', () => {
  it('reads a complete set, and leaves MESH off when MESH_URL is unset', () => {
    assert.equal(loadConfig({ RELAY_ENV: 'test' }).mesh, undefined);
    const mesh = loadConfig({ RELAY_ENV: 'test', ...MESH_ENV }).mesh;
    assert.equal(mesh?.mailbox, 'X26ABC1');
    assert.equal(mesh?.url, 'http://127.0.0.1:1');
  });

  it('names every missing part, a certificate for https, and settings without MESH_URL', () => {
    assert.deepEqual(configProblems({ MESH_URL: 'http://mesh.test' }), [
      'MESH_MAILBOX is required when MESH_URL is set',
      'MESH_PASSWORD is required when MESH_URL is set',
      'MESH_SHARED_KEY is required when MESH_URL is set',
    ]);
    assert.deepEqual(configProblems({ ...MESH_ENV, MESH_URL: 'https://mesh.test' }), [
      'MESH_CLIENT_CERT is required for an https:// MESH_URL',
      'MESH_CLIENT_KEY is required for an https:// MESH_URL',
    ]);
    assert.deepEqual(
      configProblems({
        ...MESH_ENV,
        MESH_URL: 'https://mesh.test',
        MESH_CLIENT_CERT: '/no/cert.pem',
        MESH_CLIENT_KEY: '/no/key.pem',
      }),
      ['MESH_CLIENT_CERT: no file at /no/cert.pem', 'MESH_CLIENT_KEY: no file at /no/key.pem'],
    );
    assert.deepEqual(configProblems({ MESH_PASSWORD: 'x' }), ['MESH_PASSWORD set without MESH_URL']);
  });

  it('signs the Authorization header as NHS England documents it', () => {
    // HMAC-SHA256, keyed with the shared key, of mailbox:nonce:nonce_count:password:timestamp; the
    // expected digest was computed apart, with Python's hmac as mesh-sandbox computes it.
    const header = meshAuthorization(
      { mailbox: 'X26ABC1', password: 'password', sharedKey: 'TestKey' },
      new Date('2026-12-07T03:45:12Z'),
      'a3c8b2a4-4f4e-4e0b-9b8e-1c2d3e4f5a6b',
    );
    assert.equal(
      header,
      'NHSMESH X26ABC1:a3c8b2a4-4f4e-4e0b-9b8e-1c2d3e4f5a6b:0:202612070345:' +
        '36cf5aee1b117ce152b7a0b067eb68829065363a083c7c04613cff3427d66120',
    );
  });
});

describe('MESH directory entries', () => {
  it('parse, and go by MESH with the referral and test alerts but not with reminders', async () => {
    const { file } = await demoWithMesh();
    const parsed = parseDirectoryFile(file);
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));
    const team = findTeam(parsed.directory, 'birmingham-adults')!;
    const mesh = (purpose: Parameters<typeof targetsOf>[1]) =>
      targetsOf(team, purpose).filter((t) => t.channel === 'mesh');
    assert.deepEqual(mesh('referral'), [{ channel: 'mesh', address: 'X26ABC2' }]);
    assert.deepEqual(mesh('test-alert'), [{ channel: 'mesh', address: 'X26ABC2' }]);
    assert.deepEqual(mesh('reminder'), []);
  });

  it('refuse a bad mailbox or workflow, and a mailbox twice, each at its field', async () => {
    const bad = await demoWithMesh({ mailbox: 'x26 abc2', workflowId: 'https://nope' });
    const result = parseDirectoryFile(bad.file);
    assert.ok(!result.ok);
    assert.deepEqual(
      result.errors.map((e) => e.path),
      [`${bad.at}.mailbox`, `${bad.at}.workflowId`],
    );
    const twice = await demoWithMesh();
    const team = twice.file.authorities.flatMap((a) => a.teams).find((t) => t.id === 'birmingham-adults')!;
    team.channels.push({ ...MESH_ENTRY });
    const repeated = parseDirectoryFile(twice.file);
    assert.ok(!repeated.ok);
    assert.match(repeated.errors[0]?.path ?? '', /\.mailbox$/);
    assert.match(repeated.errors[0]?.message ?? '', /^repeats /);
  });

  it('name a changed workflow in the import’s diff', async () => {
    const before = parseDirectoryFile((await demoWithMesh()).file);
    const after = parseDirectoryFile((await demoWithMesh({ workflowId: 'OTHER_WORKFLOW' })).file);
    assert.ok(before.ok && after.ok);
    const diff = diffDirectories(before.directory, after.directory);
    assert.deepEqual(diff.addresses, [
      {
        teamId: 'birmingham-adults',
        kind: 'mesh',
        address: 'X26ABC2',
        change: 'changed',
        changes: [{ field: 'workflow', before: 'SAFEGUARDING_REFERRAL', after: 'OTHER_WORKFLOW' }],
      },
    ]);
  });
});

describeEachDialect('a directory with MESH entries', (dialect) => {
  let relay: TestRelay;
  let admin: Browser;
  before(async () => {
    const { file } = await demoWithMesh();
    ({ relay, admin } = await startAdminRelay(dialect, file));
  });
  after(async () => relay.close());

  it('shows the mailbox on the admin directory page, filters by it, and keeps it through a form edit', async () => {
    const page = (await admin.get('/admin/directory?channel=mesh')).body;
    assert.deepEqual(
      [...page.matchAll(/<h3 class="nhsuk-heading-s" id="team-([^"]+)">/g)].map((m) => m[1]),
      ['birmingham-adults'],
    );
    assert.match(page, /Mailbox X26ABC2, workflow SAFEGUARDING_REFERRAL \(owner Systems team/);
    const edit = await admin.get('/admin/directory/teams/birmingham-adults/edit');
    assert.match(edit.body, /Mailbox X26ABC2, workflow SAFEGUARDING_REFERRAL/);
    const saved = await admin.post(
      '/admin/directory/teams/birmingham-adults/edit',
      birminghamForm({ 'addresses-0-owner': 'Sam Owner' }),
    );
    assert.equal(saved.statusCode, 303, saved.body);
    const version = (await latestVersion(relay.ctx.db.kysely))!;
    const team = findTeam(await loadDirectory(relay.ctx.db.kysely, version.id), 'birmingham-adults');
    assert.equal(version.source, 'edit team birmingham-adults');
    assert.deepEqual(
      team?.channels.find((c) => c.kind === 'mesh'),
      MESH_ENTRY,
      'an edit of the email addresses keeps the MESH entry',
    );
  });

  it('keeps the mailbox and workflow in the stored version', async () => {
    const version = (await latestVersion(relay.ctx.db.kysely))!;
    const team = findTeam(await loadDirectory(relay.ctx.db.kysely, version.id), 'birmingham-adults');
    assert.deepEqual(
      team?.channels.find((c) => c.kind === 'mesh'),
      MESH_ENTRY,
    );
  });

  it('is reported by relay check when MESH is not configured', async () => {
    const result = await checkRelay(relay.ctx);
    assert.equal(result.ok, false);
    assert.match(result.line, /MESH is not configured .* for birmingham-adults$/);
  });
});
