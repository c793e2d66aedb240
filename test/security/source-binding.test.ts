import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createApiKey } from '../../src/access/apikey.service.ts';
import { up as bindExistingKeys } from '../../src/db/migrations/20261206131000_api_key_systems.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, rowCounts, type TestRelay } from '../helpers/relay.ts';

/** Issue 14, finding 6: a referrals:write key raises referrals for its own source system only. */
describeEachDialect('API keys bound to a source system', (dialect) => {
  let relay: TestRelay;
  let otherKey = '';
  const anyTeam = async () => true;
  const newKey = (input: { name: string; scope: string; sourceSystem?: string; teamId?: string }) =>
    createApiKey(relay.ctx.db.kysely, relay.clock, input, 'test', anyTeam);

  before(async () => {
    relay = await createTestRelay(dialect);
    otherKey = (await newKey({ name: 'other', scope: 'referrals:write', sourceSystem: 'other-epcr' })).key;
  });
  after(async () => relay.close());

  const raise = (key: string, system: string, reference: string, concern = 'Found on the floor.') =>
    relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: { authorization: `Bearer ${key}` },
      payload: exampleReferral({ source: { system, reference }, concern }),
    });

  it('refuses a body naming another system (even relay-web) with 403, writing nothing', async () => {
    const before = await rowCounts(relay);
    for (const system of ['test-epcr', 'relay-web']) {
      const response = await raise(otherKey, system, 'BIND-1');
      assert.equal(response.statusCode, 403, system);
      const problem = response.json() as { detail: string; errors: { path: string }[] };
      assert.deepEqual(
        problem.errors.map((e) => e.path),
        ['source.system'],
      );
      assert.match(problem.detail, /other-epcr only/);
    }
    assert.deepEqual(await rowCounts(relay), before);
  });

  it('cannot take another system’s reference first, and a 409 names nothing of another system', async () => {
    assert.equal((await raise(otherKey, 'test-epcr', 'BIND-2')).statusCode, 403);
    const real = await raise(relay.epcrKey, 'test-epcr', 'BIND-2');
    assert.equal(real.statusCode, 201, 'the real system’s referral is accepted');
    const reference = (real.json() as { reference: string }).reference;

    const squatter = await raise(otherKey, 'test-epcr', 'BIND-2', 'Something else.');
    assert.equal(squatter.statusCode, 403);
    assert.equal(squatter.body.includes(reference), false, 'the other system learns no reference');
    const repeat = await raise(relay.epcrKey, 'test-epcr', 'BIND-2', 'Something else.');
    assert.equal(repeat.statusCode, 409, 'its own repeat with another body is still a conflict');
  });

  it('needs a system for a referrals:write key, never relay-web, and none for other scopes', async () => {
    const refusal = async (input: Parameters<typeof newKey>[0]) => {
      try {
        await newKey(input);
      } catch (error) {
        return (error as { errors: { path: string; message: string }[] }).errors;
      }
      assert.fail('accepted');
    };
    assert.deepEqual(
      (await refusal({ name: 'x', scope: 'referrals:write' })).map((e) => e.path),
      ['system'],
    );
    assert.match(
      (await refusal({ name: 'x', scope: 'referrals:write', sourceSystem: 'relay-web' }))[0]?.message ?? '',
      /web form/,
    );
    assert.deepEqual(
      (
        await refusal({
          name: 'x',
          scope: 'acknowledgements:write',
          teamId: 'birmingham-adults',
          sourceSystem: 's',
        })
      ).map((e) => e.path),
      ['system'],
    );
  });

  it('binds an existing key to the one system it raised for, and leaves an unused one unbound (403)', async () => {
    const used = await newKey({ name: 'legacy', scope: 'referrals:write', sourceSystem: 'legacy-epcr' });
    const unused = await newKey({ name: 'unused', scope: 'referrals:write', sourceSystem: 'unused-epcr' });
    assert.equal((await raise(used.key, 'legacy-epcr', 'LEGACY-1')).statusCode, 201);
    // As both keys were before the upgrade: bound to nothing.
    await relay.ctx.db.kysely
      .updateTable('api_keys')
      .set({ source_system: null })
      .where('id', 'in', [used.apiKey.id, unused.apiKey.id])
      .execute();
    await bindExistingKeys(relay.ctx.db.kysely);
    const rows = await relay.ctx.db.kysely
      .selectFrom('api_keys')
      .select(['id', 'source_system'])
      .where('id', 'in', [used.apiKey.id, unused.apiKey.id])
      .execute();
    assert.deepEqual(
      new Map(rows.map((r) => [r.id, r.source_system])),
      new Map([
        [used.apiKey.id, 'legacy-epcr'],
        [unused.apiKey.id, null],
      ]),
    );
    assert.equal((await raise(used.key, 'legacy-epcr', 'LEGACY-2')).statusCode, 201);
    const unbound = await raise(unused.key, 'unused-epcr', 'UNUSED-1');
    assert.equal(unbound.statusCode, 403);
    assert.match((unbound.json() as { detail: string }).detail, /relay apikey create --system/);
  });
});
