import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { verifyPassword } from '../../src/access/password.ts';
import {
  childDatabaseEnv,
  createTestDatabase,
  describeEachDialect,
  type TestDatabase,
} from '../helpers/db.ts';
import { runRelay } from '../helpers/process.ts';

describeEachDialect('relay user list|disable|enable|unlock|reset-password|reset-mfa', (dialect) => {
  let database: TestDatabase;
  let env: Record<string, string>;
  const relay = (...args: string[]) => {
    const result = runRelay(args, env);
    assert.equal(result.status, 0, `relay ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const stateOf = (email: string) =>
    relay('user', 'list')
      .split('\n')
      .find((line) => line.startsWith(`${email}\t`))
      ?.split('\t')[3];
  const audited = async (action: string) =>
    database.db.kysely
      .selectFrom('audit_log')
      .select(['actor', 'detail'])
      .where('action', '=', action)
      .execute();

  before(async () => {
    database = await createTestDatabase(dialect);
    env = childDatabaseEnv(database);
    relay(
      'user',
      'add',
      '--email',
      'Pat@Example.org',
      '--role',
      'safeguarding',
      '--name',
      'Pat Leader',
      '--password',
      'a long enough password 1',
    );
  });
  after(() => database.drop());

  it('lists, disables, enables and unlocks, each audited with the reason', async () => {
    assert.equal(stateOf('pat@example.org'), 'active');
    assert.match(relay('user', 'disable', 'pat@example.org', '--reason', 'left the trust'), /Disabled/);
    assert.equal(stateOf('pat@example.org'), 'disabled');
    relay('user', 'enable', 'PAT@example.org', '--reason', 'returned');
    assert.equal(stateOf('pat@example.org'), 'active');
    relay('user', 'unlock', 'pat@example.org', '--reason', 'forgot their password');
    for (const [action, reason] of [
      ['user.disabled', 'left the trust'],
      ['user.enabled', 'returned'],
      ['user.unlocked', 'forgot their password'],
    ] as const) {
      const [entry] = await audited(action);
      assert.equal(entry?.actor, 'cli', action);
      assert.match(String(entry?.detail), new RegExp(reason));
    }
  });

  it('resets a password: printed once, must be changed at next sign-in, audited', async () => {
    const password = relay('user', 'reset-password', 'pat@example.org', '--reason', 'locked out').trim();
    assert.ok(password.length >= 12, 'a generated password alone on standard output');
    const row = await database.db.kysely
      .selectFrom('users')
      .select(['password_hash', 'must_change_password'])
      .where('email', '=', 'pat@example.org')
      .executeTakeFirstOrThrow();
    assert.ok(await verifyPassword(password, row.password_hash));
    assert.equal(Number(row.must_change_password), 1);
    assert.equal((await audited('user.password-reset')).length, 1);
  });

  it('resets a second factor: the app and recovery codes gone, signed out everywhere, audited', async () => {
    const db = database.db.kysely;
    const { id } = await db
      .selectFrom('users')
      .select('id')
      .where('email', '=', 'pat@example.org')
      .executeTakeFirstOrThrow();
    const at = new Date().toISOString();
    await db
      .insertInto('second_factors')
      .values({ id, secret: 'sealed', created_at: at, enrolled_at: at, last_step: 1 })
      .execute();
    await db
      .insertInto('recovery_codes')
      .values({ id: 'code-1', user_id: id, code_hash: 'scrypt$x', used_at: null })
      .execute();
    await db
      .insertInto('sessions')
      .values({
        id_hash: 'pat-session',
        user_id: id,
        created_at: at,
        last_seen_at: at,
        expires_at: at,
        provider: null,
        id_token: null,
      })
      .execute();
    assert.match(
      relay('user', 'reset-mfa', 'Pat@example.org', '--reason', 'lost phone'),
      /Second factor reset/,
    );
    const left = async (table: 'second_factors' | 'recovery_codes' | 'sessions') =>
      (await db.selectFrom(table).selectAll().execute()).length;
    assert.deepEqual(
      [await left('second_factors'), await left('recovery_codes'), await left('sessions')],
      [0, 0, 0],
    );
    const [entry] = await audited('user.second-factor-reset');
    assert.equal(entry?.actor, 'cli');
    assert.deepEqual(JSON.parse(String(entry?.detail)), { reason: 'lost phone', hadFactor: true });
  });

  it('refuses an unknown account and a missing reason, changing nothing', () => {
    const unknown = runRelay(['user', 'disable', 'nobody@example.org', '--reason', 'x'], env);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /no account signs in as nobody@example.org/);
    const noReason = runRelay(['user', 'disable', 'pat@example.org'], env);
    assert.notEqual(noReason.status, 0);
    assert.match(noReason.stderr, /--reason/);
    assert.equal(stateOf('pat@example.org'), 'active');
  });
});
