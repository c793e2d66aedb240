import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
