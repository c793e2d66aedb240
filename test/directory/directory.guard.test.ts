import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, it } from 'node:test';
import { createApiKey, revokeApiKey } from '../../src/access/apikey.service.ts';
import { latestVersion } from '../../src/directory/directory.repository.ts';
import {
  DEMO_DIRECTORY_PATH,
  importDirectory,
  TeamsInUseError,
} from '../../src/directory/directory.service.ts';
import { createUser } from '../../src/access/user.service.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { raiseDudley } from '../helpers/referrals.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

type File = { authorities: { id: string; teams: { id: string; name: string }[] }[] };

/** The demo with dudley-adults renamed: whatever still points at that team decides the outcome. */
function renamingDudley(): File {
  const file = JSON.parse(readFileSync(DEMO_DIRECTORY_PATH, 'utf8')) as File;
  const team = file.authorities.flatMap((a) => a.teams).find((t) => t.id === 'dudley-adults')!;
  team.name = 'Dudley Adults (renamed)';
  return file;
}

describeEachDialect('directory import guard: what counts as in use', (dialect) => {
  let relay: TestRelay;
  const db = () => relay.ctx.db.kysely;
  const tryImport = (dryRun = true) =>
    importDirectory(db(), relay.clock, renamingDudley(), { actor: 'test', source: 'test', dryRun });
  const refusal = async () => {
    try {
      await tryImport();
      return undefined;
    } catch (error) {
      if (error instanceof TeamsInUseError) return error.teams;
      throw error;
    }
  };

  before(async () => {
    relay = await createTestRelay(dialect);
  });
  after(async () => relay.close());

  it('counts open referrals, active users and live keys, and a dry run writes nothing', async () => {
    const referral = await raiseDudley(relay, 'GUARD-1');
    const { user } = await createUser(
      db(),
      relay.clock,
      {
        email: 'dudley@example.org',
        name: 'dudley',
        roles: ['recipient'],
        teams: ['dudley-adults'],
        password: 'correct horse battery staple',
      },
      'test',
      () => true,
    );
    const key = await createApiKey(
      db(),
      relay.clock,
      { name: 'dudley', scope: 'acknowledgements:write', teamId: 'dudley-adults' },
      'test',
      async () => true,
    );
    assert.deepEqual(await refusal(), [
      {
        teamId: 'dudley-adults',
        name: 'Dudley Adult Social Care Front Door',
        change: 'renamed',
        openReferrals: 1,
        users: 1,
        apiKeys: 1,
      },
    ]);

    // Closed, disabled and revoked no longer point at the team.
    await db()
      .updateTable('referrals')
      .set({ closed_at: relay.clock.now().toISOString() })
      .where('id', '=', referral.id)
      .execute();
    await db()
      .updateTable('users')
      .set({ disabled_at: relay.clock.now().toISOString() })
      .where('id', '=', user.id)
      .execute();
    await revokeApiKey(db(), relay.clock, key.apiKey.id, 'test');
    assert.equal(await refusal(), undefined);

    const versions = (await latestVersion(db()))?.id;
    const dry = await tryImport(true);
    assert.equal(dry.changed, true);
    assert.equal((await latestVersion(db()))?.id, versions, 'a dry run writes no version');
    const done = await tryImport(false);
    assert.equal(done.versionId, (versions ?? 0) + 1);
  });
});
