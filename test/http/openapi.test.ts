import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { apiClient } from '../assurance/api.helpers.ts';
import { responseChecker } from '../helpers/openapi.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

describe('GET /api/v1/openapi.json', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await createTestRelay('sqlite');
  });
  after(async () => relay.close());

  it('serves an OpenAPI 3 document generated from the intake and status schemas', async () => {
    const response = await relay.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    assert.equal(response.statusCode, 200);
    const doc = response.json();
    assert.equal(doc.openapi, '3.0.3');
    const input = doc.components.schemas.ReferralInput;
    assert.equal(input.type, 'object');
    for (const field of [
      'source',
      'incident',
      'referrer',
      'subject',
      'referralType',
      'categories',
      'urgency',
      'concern',
      'consent',
    ]) {
      assert.ok(input.required.includes(field), `${field} is required in the schema`);
    }
    assert.deepEqual(input.properties.urgency.enum.sort(), ['immediate', 'routine', 'urgent']);
    assert.equal(input.additionalProperties, false, 'unknown fields are rejected, and the schema says so');
    const statusDoc = doc.components.schemas.StatusDocument;
    for (const field of [
      'id',
      'reference',
      'status',
      'routes',
      'deliveries',
      'deadlines',
      'acknowledgements',
      'escalations',
      'timeline',
    ]) {
      assert.ok(statusDoc.required.includes(field), field);
    }
    assert.ok(doc.paths['/api/v1/referrals'].post.responses['422']);
    assert.ok(doc.paths['/api/v1/referrals/{id}'].get);
  });

  it('documents every API route Relay serves, each method of it', async () => {
    const doc = (await relay.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const served = routesOf(relay.app.printRoutes({ commonPrefix: false })).filter(
      (r) =>
        (r.path.startsWith('/api/') && r.path !== '/api/v1/openapi.json') ||
        /^\/(healthz|readyz)$/.test(r.path),
    );
    assert.ok(served.length >= 10, JSON.stringify(served));
    for (const { path, method } of served) {
      const documented = path.replace(/:(\w+)/g, '{$1}');
      assert.ok(doc.paths[documented]?.[method.toLowerCase()], `${method} ${documented} is in the document`);
    }
  });

  it('answers as the document says: status, content type and body of real requests', async () => {
    const doc = (await relay.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const check = responseChecker(doc);
    const api = apiClient(relay);
    const call = async (
      method: 'GET' | 'POST',
      path: string,
      url: string,
      key?: string,
      payload?: object,
    ) => {
      const response = await relay.app.inject({
        method,
        url,
        headers: key ? { authorization: `Bearer ${key}` } : {},
        ...(payload ? { payload } : {}),
      });
      check(method, path, response);
      return response;
    };
    const body = exampleReferral({ source: { system: 'test-epcr', reference: 'OPENAPI-1' } });
    const created = await call('POST', '/api/v1/referrals', '/api/v1/referrals', relay.epcrKey, body);
    assert.equal(created.statusCode, 201);
    const { id } = created.json() as { id: string };
    assert.equal(
      (await call('POST', '/api/v1/referrals', '/api/v1/referrals', relay.epcrKey, body)).statusCode,
      200,
    );
    const invalid = await call('POST', '/api/v1/referrals', '/api/v1/referrals', relay.epcrKey, {
      urgency: 'soon',
    });
    assert.equal(invalid.statusCode, 422);
    assert.equal(
      (await call('POST', '/api/v1/referrals', '/api/v1/referrals', undefined, body)).statusCode,
      401,
    );

    const one = '/api/v1/referrals/{id}';
    assert.equal((await call('GET', one, `/api/v1/referrals/${id}`, relay.epcrKey)).statusCode, 200);
    assert.equal(
      (await call('GET', one, '/api/v1/referrals/no-such-referral', relay.epcrKey)).statusCode,
      404,
    );
    assert.equal(
      (await call('GET', '/api/v1/referrals', '/api/v1/referrals', relay.epcrKey)).statusCode,
      200,
    );

    const acks = '/api/v1/referrals/{id}/acknowledgements';
    const ack = await call('POST', acks, `/api/v1/referrals/${id}/acknowledgements`, relay.teamKey, {
      by: 'Sam Patel',
    });
    assert.equal(ack.statusCode, 201);
    const noName = await call('POST', acks, `/api/v1/referrals/${id}/acknowledgements`, relay.teamKey, {});
    assert.equal(noName.statusCode, 422);

    const escalationsKey = await api.makeKey('safeguarding tooling', 'escalations:write');
    const escalations = await call('GET', '/api/v1/escalations', '/api/v1/escalations', escalationsKey);
    assert.equal(escalations.statusCode, 200);
    const claim = '/api/v1/escalations/{id}/claim';
    const unknown = await call('POST', claim, '/api/v1/escalations/no-such/claim', escalationsKey, {
      by: 'Lee',
    });
    assert.equal(unknown.statusCode, 404);

    const manifest = '/api/v1/teams/{team}/manifest';
    const today = relay.clock.now().toISOString().slice(0, 10);
    const listed = await call(
      'GET',
      manifest,
      `/api/v1/teams/birmingham-adults/manifest?date=${today}`,
      relay.teamKey,
    );
    assert.equal(listed.statusCode, 200);

    assert.equal((await call('GET', '/healthz', '/healthz')).statusCode, 200);
    const ready = await call('GET', '/readyz', '/readyz');
    // No dispatcher or watchdog runs in this test: not ready, and the answer still as documented.
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().ready, false);
  });
});

/** Full paths and methods (HEAD aside) from Fastify's printed route tree. */
function routesOf(tree: string): { path: string; method: string }[] {
  const stack: string[] = [];
  const routes: { path: string; method: string }[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([\s│]*)[├└]── (\S+) \(([^)]+)\)$/.exec(line);
    if (!match) continue;
    const [, indent = '', segment = '', methods = ''] = match;
    stack.length = indent.length / 4;
    stack.push(segment);
    const path = `/${stack.join('')}`.replace(/^\/+/, '/');
    for (const method of methods.split(', ')) if (method !== 'HEAD') routes.push({ path, method });
  }
  return routes;
}
