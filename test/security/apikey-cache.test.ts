import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { ApiKeyCache } from '../../src/access/apikey.cache.ts';
import { createApiKey, revokeApiKey } from '../../src/access/apikey.service.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { dudleyReferral } from '../helpers/referrals.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

describeEachDialect('API keys remembered between requests', (dialect) => {
  let relay: TestRelay;
  let ticks = 0;
  before(async () => {
    relay = await createTestRelay(dialect);
    // The node's cache with a hand-moved monotonic clock, so its time-out is reached without waiting.
    relay.ctx.apiKeys = new ApiKeyCache(relay.ctx.db.kysely, 5000, () => ticks);
  });
  after(() => relay.close());

  let sequence = 0;
  const raise = (key: string) =>
    relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: { authorization: `Bearer ${key}` },
      payload: dudleyReferral(`CACHE-${(sequence += 1)}`),
    });
  const newKey = () =>
    createApiKey(
      relay.ctx.db.kysely,
      relay.clock,
      { name: `ePCR ${sequence}`, scope: 'referrals:write', sourceSystem: 'test-epcr' },
      'test',
      async () => true,
    );

  it('stops a key revoked elsewhere (the CLI, another node) once the cache time has passed', async () => {
    const { apiKey, key } = await newKey();
    assert.equal((await raise(key)).statusCode, 201);
    // As `relay apikey revoke` does from its own process: this node's cache is not told.
    await revokeApiKey(relay.ctx.db.kysely, relay.clock, apiKey.id, 'cli');
    ticks += 4999;
    assert.equal((await raise(key)).statusCode, 201, 'trusted for at most API_KEY_CACHE');
    ticks += 2;
    const refused = await raise(key);
    assert.equal(refused.statusCode, 401);
    assert.match(refused.json().detail, /revoked/);
    ticks += 10_000;
    assert.equal((await raise(key)).statusCode, 401, 'a refused key is never remembered as good');
  });

  it('stops a key revoked on this node at once (the admin page forgets what it held)', async () => {
    const { apiKey, key } = await newKey();
    assert.equal((await raise(key)).statusCode, 201);
    await revokeApiKey(relay.ctx.db.kysely, relay.clock, apiKey.id, 'test');
    relay.ctx.apiKeys.forget();
    assert.equal((await raise(key)).statusCode, 401);
    assert.equal((await raise(relay.epcrKey)).statusCode, 201, 'other keys are read again and still work');
  });
});
