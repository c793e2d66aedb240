import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { runRelay } from '../helpers/process.ts';

describe('relay user link / unlink', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  before(async () => {
    database = await createTestDatabase('sqlite', { migrate: false });
    env = {
      DATABASE_URL: database.url,
      OIDC_PROVIDERS: 'entra',
      OIDC_ENTRA_ISSUER: 'https://login.example/tenant/v2.0',
      OIDC_ENTRA_CLIENT_ID: 'relay',
      OIDC_ENTRA_CLIENT_SECRET: 'not-used-by-these-commands',
    };
  });
  after(async () => database.drop());

  it('links a subject to an account by hand, refuses an unknown provider, and unlinks', async () => {
    const made = runRelay(['user', 'add', '--email', 'sam@council.example', '--role', 'admin'], env);
    assert.equal(made.status, 0, made.stderr);
    const link = ['user', 'link', '--email', 'sam@council.example', '--subject', 'abc-123'];
    const unknown = runRelay([...link, '--provider', 'cis2'], env);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /No provider "cis2"/);
    const linked = runRelay([...link, '--provider', 'entra'], env);
    assert.equal(linked.status, 0, linked.stderr);
    const rows = async () => database.db.kysely.selectFrom('identity_links').selectAll().execute();
    assert.deepEqual(
      (await rows()).map((r) => [r.issuer, r.subject]),
      [['https://login.example/tenant/v2.0', 'abc-123']],
    );
    const unlinked = runRelay(['user', 'unlink', '--email', 'sam@council.example'], env);
    assert.equal(unlinked.status, 0, unlinked.stderr);
    assert.match(unlinked.stdout, /Removed 1 link; the account's sessions have ended/);
    assert.equal((await rows()).length, 0);
  });
});
