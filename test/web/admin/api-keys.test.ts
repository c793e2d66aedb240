import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { exampleReferral } from '../../../src/referrals/referral.example.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import type { TestRelay } from '../../helpers/relay.ts';
import { countRows, fieldError, startAdminRelay } from './admin.helpers.ts';
import type { Browser } from '../../helpers/web.ts';

describeEachDialect('admin: API keys', (dialect) => {
  let relay: TestRelay, admin: Browser, adminId: string;
  before(async () => ({ relay, admin, adminId } = await startAdminRelay(dialect)));
  after(async () => relay.close());

  const raise = (key: string, reference: string) =>
    relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: { authorization: `Bearer ${key}` },
      payload: exampleReferral({ source: { system: 'ward-epcr', reference } }),
    });

  it('creates a key, shows it once, and the key raises referrals until it is revoked', async () => {
    await admin.get('/admin/api-keys/new');
    const created = await admin.post('/admin/api-keys', {
      name: 'Ward ePCR',
      scope: 'referrals:write',
      team: '',
      system: 'ward-epcr',
    });
    assert.equal(created.statusCode, 200);
    assert.equal(created.headers['cache-control'], 'no-store');
    const key = /<code id="api-key">([^<]+)<\/code>/.exec(created.body)?.[1];
    assert.ok(key && key.startsWith('srk_'), 'the key is shown');

    const list = await admin.get('/admin/api-keys');
    assert.match(list.body, /Ward ePCR/);
    assert.match(list.body, /system ward-epcr/);
    assert.equal(list.body.includes(key), false, 'the key is never shown again');

    assert.equal((await raise(key, 'WARD-1')).statusCode, 201);

    const row = await relay.ctx.db.kysely
      .selectFrom('api_keys')
      .select(['id', 'source_system', 'scope'])
      .where('name', '=', 'Ward ePCR')
      .executeTakeFirstOrThrow();
    assert.deepEqual([row.scope, row.source_system], ['referrals:write', 'ward-epcr']);
    assert.match(list.body, new RegExp(`/admin/api-keys/${row.id}/revoke`));
    // One click only opens a page that says what stops and asks why; no reason, no revocation.
    const asked = await admin.get(`/admin/api-keys/${row.id}/revoke`);
    assert.equal(asked.statusCode, 200);
    assert.match(asked.body, /Revoke the API key Ward ePCR/);
    assert.match(asked.body, /can no longer raise referrals/);
    const unexplained = await admin.post(`/admin/api-keys/${row.id}/revoke`, { reason: '' });
    assert.equal(unexplained.statusCode, 422);
    assert.match(fieldError(unexplained.body, 'reason') ?? '', /Enter the reason/);
    assert.equal((await raise(key, 'WARD-1B')).statusCode, 201, 'still works');
    const revoked = await admin.post(`/admin/api-keys/${row.id}/revoke`, {
      reason: 'Ward system replaced',
    });
    assert.equal(revoked.statusCode, 303);
    assert.match((await admin.get('/admin/api-keys')).body, /Revoked/);
    assert.equal((await raise(key, 'WARD-2')).statusCode, 401);

    const audit = await relay.ctx.db.kysely
      .selectFrom('audit_log')
      .select(['action', 'actor', 'detail'])
      .where('entity_id', '=', row.id)
      .orderBy('seq')
      .execute();
    assert.deepEqual(
      audit.map((a) => [a.action, a.actor]),
      [
        ['apikey.created', `user:${adminId}`],
        ['apikey.revoked', `user:${adminId}`],
      ],
    );
    assert.deepEqual(JSON.parse(audit[1]!.detail), { reason: 'Ward system replaced' });
  });

  it('binds an acknowledgements key to a team', async () => {
    await admin.get('/admin/api-keys/new');
    const created = await admin.post('/admin/api-keys', {
      name: 'Coventry case management',
      scope: 'acknowledgements:write',
      team: 'coventry-children',
    });
    assert.equal(created.statusCode, 200);
    const row = await relay.ctx.db.kysely
      .selectFrom('api_keys')
      .select('team_id')
      .where('name', '=', 'Coventry case management')
      .executeTakeFirstOrThrow();
    assert.equal(row.team_id, 'coventry-children');
  });

  it('puts errors beside the fields, answers 422 and creates nothing', async () => {
    const before = await countRows(relay, 'api_keys');
    await admin.get('/admin/api-keys/new');
    const noTeam = await admin.post('/admin/api-keys', {
      name: 'Nameless team',
      scope: 'acknowledgements:write',
    });
    assert.equal(noTeam.statusCode, 422);
    assert.match(fieldError(noTeam.body, 'team') ?? '', /bound to a team/);
    const blank = await admin.post('/admin/api-keys', { name: '', scope: '' });
    assert.match(fieldError(blank.body, 'name') ?? '', /Enter a name/);
    assert.match(fieldError(blank.body, 'scope') ?? '', /Scope must be one of/);
    assert.equal(await countRows(relay, 'api_keys'), before);
  });

  it('answers 404 when revoking a key that does not exist or is already revoked', async () => {
    await admin.get('/admin/api-keys');
    const missing = await admin.post('/admin/api-keys/00000000-0000-4000-8000-000000000000/revoke', {
      reason: 'Gone',
    });
    assert.equal(missing.statusCode, 404);

    await admin.get('/admin/api-keys/new');
    await admin.post('/admin/api-keys', {
      name: 'Revoked twice',
      scope: 'referrals:write',
      system: 'twice',
    });
    const key = await relay.ctx.db.kysely
      .selectFrom('api_keys')
      .select('id')
      .where('name', '=', 'Revoked twice')
      .executeTakeFirstOrThrow();
    await admin.get('/admin/api-keys');
    assert.equal((await admin.post(`/admin/api-keys/${key.id}/revoke`, { reason: 'Gone' })).statusCode, 303);
    const revokedAt = () =>
      relay.ctx.db.kysely
        .selectFrom('api_keys')
        .select('revoked_at')
        .where('id', '=', key.id)
        .executeTakeFirstOrThrow();
    const first = await revokedAt();
    assert.ok(first.revoked_at, 'the first revoke took');
    relay.clock.advance(60_000);
    await admin.get('/admin/api-keys');
    const again = await admin.post(`/admin/api-keys/${key.id}/revoke`, { reason: 'Gone' });
    assert.equal(again.statusCode, 404);
    // The second attempt changed nothing: the first revocation's time and one audit entry stand.
    assert.deepEqual(await revokedAt(), first);
    const revocations = await relay.ctx.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('entity_id', '=', key.id)
      .where('action', '=', 'apikey.revoked')
      .execute();
    assert.equal(revocations.length, 1);
  });
});
