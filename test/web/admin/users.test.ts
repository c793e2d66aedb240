import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../../helpers/db.ts';
import type { TestRelay } from '../../helpers/relay.ts';
import { formSession, signIn, type Browser, PASSWORD } from '../../helpers/web.ts';
import { addUser, countRows, fieldError, postPairs, startAdminRelay } from './admin.helpers.ts';

describeEachDialect('admin: users', (dialect) => {
  let relay: TestRelay, admin: Browser, adminId: string;
  before(async () => ({ relay, admin, adminId } = await startAdminRelay(dialect)));
  after(async () => relay.close());

  const auditActions = async (entityId: string) =>
    (
      await relay.ctx.db.kysely
        .selectFrom('audit_log')
        .select(['action', 'actor'])
        .where('entity_id', '=', entityId)
        .orderBy('seq')
        .execute()
    ).map((r) => `${r.action} by ${r.actor}`);

  it('adds a user, shows the generated password once, and the person can sign in with it', async () => {
    await admin.get('/admin/users/new');
    const created = await admin.post('/admin/users', {
      email: 'New.Recipient@Example.org',
      name: 'Nia Recipient',
      roles: 'recipient',
      team: 'birmingham-adults',
    });
    assert.equal(created.statusCode, 200);
    assert.equal(created.headers['cache-control'], 'no-store');
    const password = /<code id="password"[^>]*>([^<]+)<\/code>/.exec(created.body)?.[1];
    assert.ok(password && /^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/.test(password), 'a generated password is shown');

    const list = await admin.get('/admin/users');
    assert.match(list.body, /new\.recipient@example\.org/);
    assert.match(list.body, /Nia Recipient/);
    assert.match(list.body, /birmingham-adults/);
    assert.equal(list.body.includes(password), false, 'the password is not shown again');

    const row = await relay.ctx.db.kysely
      .selectFrom('users')
      .selectAll()
      .where('email', '=', 'new.recipient@example.org')
      .executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(row.roles), ['recipient']);
    assert.deepEqual(JSON.parse(row.teams), ['birmingham-adults']);
    assert.deepEqual(await auditActions(row.id), [`user.created by user:${adminId}`]);
    await signIn(relay.app, 'new.recipient@example.org', { password: password });
  });

  it('takes several roles from the checkboxes', async () => {
    const response = await postPairs(relay, admin, '/admin/users/new', '/admin/users', [
      ['email', 'two.roles@example.org'],
      ['roles', 'safeguarding'],
      ['roles', 'auditor'],
    ]);
    assert.equal(response.statusCode, 200);
    const row = await relay.ctx.db.kysely
      .selectFrom('users')
      .select('roles')
      .where('email', '=', 'two.roles@example.org')
      .executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(row.roles), ['safeguarding', 'auditor']);
  });

  it('puts errors beside the fields, answers 422 and adds nobody', async () => {
    const users = await countRows(relay, 'users');
    const duplicate = await admin.post('/admin/users', { email: 'admin@example.org', roles: 'crew' });
    assert.equal(duplicate.statusCode, 422);
    assert.match(duplicate.body, /nhsuk-error-summary/);
    assert.match(fieldError(duplicate.body, 'email') ?? '', /already exists/);
    assert.match(duplicate.body, /href="#email"/);

    const incomplete = await admin.post('/admin/users', { email: 'not-an-email', roles: 'recipient' });
    assert.equal(incomplete.statusCode, 422);
    assert.match(fieldError(incomplete.body, 'email') ?? '', /valid email/);
    assert.match(fieldError(incomplete.body, 'team') ?? '', /at least one team/);
    assert.match(incomplete.body, /value="not-an-email"/, 'what was typed is kept');

    const noRole = await admin.post('/admin/users', { email: 'someone@example.org' });
    assert.match(fieldError(noRole.body, 'roles') ?? '', /at least one role/);
    assert.equal(await countRows(relay, 'users'), users);
  });

  it('disables an account (ending its sessions), re-enables it, and audits both', async () => {
    const user = await addUser(relay, 'leaver@example.org', ['crew']);
    const session = await signIn(relay.app, 'leaver@example.org');
    assert.equal((await session.get('/admin/users')).statusCode, 403, 'signed in, but not an admin');
    await admin.get('/admin/users');
    const asked = await admin.get(`/admin/users/${user.id}/disable`);
    assert.match(asked.body, /is signed out at once/);
    const unexplained = await admin.post(`/admin/users/${user.id}/disable`, {});
    assert.equal(unexplained.statusCode, 422, 'no reason, nothing disabled');
    assert.match(fieldError(unexplained.body, 'reason') ?? '', /Enter the reason/);
    const disabled = await admin.post(`/admin/users/${user.id}/disable`, { reason: 'Left the service' });
    assert.equal(disabled.statusCode, 303);
    assert.match((await admin.get('/admin/users')).body, /Disabled/);

    const afterwards = await session.get('/admin/users');
    assert.equal(afterwards.statusCode, 303, 'the open session no longer works');
    assert.match(String(afterwards.headers.location), /^\/sign-in/);
    const browser = formSession(relay.app);
    await browser.get('/sign-in');
    const refused = await browser.post('/sign-in', {
      email: 'leaver@example.org',
      password: 'x'.repeat(4),
    });
    assert.equal(refused.statusCode, 422);
    const refusedRight = await browser.post('/sign-in', {
      email: 'leaver@example.org',
      password: 'correct horse battery staple',
    });
    assert.equal(refusedRight.statusCode, 422, 'a disabled account cannot sign in, even with its password');

    await admin.get('/admin/users');
    assert.equal((await admin.post(`/admin/users/${user.id}/enable`, {})).statusCode, 303);
    await signIn(relay.app, 'leaver@example.org');
    assert.deepEqual(await auditActions(user.id), [
      'user.created by test',
      'user.signed-in by user:' + user.id,
      `user.disabled by user:${adminId}`,
      `user.enabled by user:${adminId}`,
      'user.signed-in by user:' + user.id,
    ]);
  });

  it('unlocks an account some client must wait on', async () => {
    const user = await addUser(relay, 'locked@example.org', ['crew']);
    const guesser = formSession(relay.app, { remoteAddress: '203.0.113.5' });
    await guesser.get('/sign-in');
    for (let i = 0; i < 5; i += 1)
      await guesser.post('/sign-in', { email: 'locked@example.org', password: `guess ${i}` });
    const list = await admin.get('/admin/users');
    assert.match(list.body, /Locked/);
    assert.match(list.body, new RegExp(`/admin/users/${user.id}/unlock`));
    assert.equal((await admin.post(`/admin/users/${user.id}/unlock`, {})).statusCode, 303);
    assert.doesNotMatch((await admin.get('/admin/users')).body, new RegExp(`/admin/users/${user.id}/unlock`));
    const row = await guesser.post('/sign-in', { email: 'locked@example.org', password: PASSWORD });
    assert.equal(row.statusCode, 303, 'the wait is over for every client');
    assert.ok((await auditActions(user.id)).includes(`user.unlocked by user:${adminId}`));
  });

  it('changes roles and teams, with errors beside the fields, audited with before and after', async () => {
    const user = await addUser(relay, 'mover@example.org', ['crew']);
    const page = await admin.get(`/admin/users/${user.id}/edit`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /name="roles" type="checkbox" value="crew" checked/);
    const noTeam = await admin.post(`/admin/users/${user.id}/edit`, { roles: 'recipient' });
    assert.equal(noTeam.statusCode, 422);
    assert.match(fieldError(noTeam.body, 'team') ?? '', /at least one team/);
    const unchanged = await relay.ctx.db.kysely
      .selectFrom('users')
      .select(['roles', 'teams'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(unchanged, { roles: '["crew"]', teams: '[]' }, 'a refused change changes nothing');

    const saved = await admin.post(`/admin/users/${user.id}/edit`, {
      roles: 'recipient',
      team: 'birmingham-adults',
    });
    assert.equal(saved.statusCode, 303);
    const row = await relay.ctx.db.kysely
      .selectFrom('users')
      .select(['roles', 'teams'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(row.roles), ['recipient']);
    assert.deepEqual(JSON.parse(row.teams), ['birmingham-adults']);
    const audit = await relay.ctx.db.kysely
      .selectFrom('audit_log')
      .select('detail')
      .where('entity_id', '=', user.id)
      .where('action', '=', 'user.access-changed')
      .executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(audit.detail), {
      roles: { from: ['crew'], to: ['recipient'] },
      teams: { from: [], to: ['birmingham-adults'] },
    });

    // Unticking the kept team takes the person out of it.
    await admin.get(`/admin/users/${user.id}/edit`);
    assert.equal((await admin.post(`/admin/users/${user.id}/edit`, { roles: 'crew' })).statusCode, 303);
    const after = await relay.ctx.db.kysely
      .selectFrom('users')
      .select('teams')
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    assert.equal(after.teams, '[]');

    await admin.get(`/admin/users/${adminId}/edit`);
    const demote = await admin.post(`/admin/users/${adminId}/edit`, { roles: 'auditor' });
    assert.equal(demote.statusCode, 422);
    assert.match(fieldError(demote.body, 'roles') ?? '', /your own admin role/);
  });

  it('refuses to disable your own account, and a form without its CSRF token', async () => {
    await admin.get('/admin/users');
    const self = await admin.post(`/admin/users/${adminId}/disable`, { reason: 'Left' });
    assert.equal(self.statusCode, 409);
    const target = await addUser(relay, 'kept@example.org', ['crew']);
    const forged = await admin.post(`/admin/users/${target.id}/disable`, { reason: 'Left' }, { csrf: false });
    assert.equal(forged.statusCode, 403);
    const row = await relay.ctx.db.kysely
      .selectFrom('users')
      .select('disabled_at')
      .where('id', 'in', [adminId, target.id])
      .execute();
    assert.ok(row.every((r) => r.disabled_at === null));
  });
});
