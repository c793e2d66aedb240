import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { assertRejectsCleanly, spoiltBodies } from '../helpers/mutate.ts';

let counter = 0;

/** The example with a source reference of its own: intake is idempotent on it. */
function freshExample() {
  counter += 1;
  return exampleReferral({ source: { system: 'test-epcr', reference: `PROP-${counter}` } });
}

describeEachDialect('intake under random and malformed bodies', (dialect) => {
  let relay: TestRelay;
  before(async () => {
    relay = await createTestRelay(dialect);
  });
  after(async () => relay.close());

  it('never answers 500, writes nothing on rejection, and names the fields it rejects', async () => {
    await assertRejectsCleanly(relay, spoiltBodies(freshExample), {
      post: (body) =>
        relay.app.inject({
          method: 'POST',
          url: '/api/v1/referrals',
          headers: { authorization: `Bearer ${relay.epcrKey}`, 'content-type': 'application/json' },
          payload: JSON.stringify(body) ?? 'null',
        }),
      check: (response) => {
        if (response.statusCode >= 400) {
          assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
          const problem = response.json() as {
            status: number;
            errors?: { path: unknown; message: unknown }[];
          };
          assert.equal(problem.status, response.statusCode);
          if (response.statusCode === 422) {
            assert.ok(problem.errors && problem.errors.length > 0, 'a 422 names at least one field');
            for (const e of problem.errors)
              assert.ok(typeof e.path === 'string' && typeof e.message === 'string');
          }
        } else if (response.statusCode === 201) {
          const doc = response.json() as { routes: unknown[]; triage: unknown[]; deliveries: unknown[] };
          assert.ok(doc.routes.length > 0 || doc.triage.length > 0, 'accepted means routed or in triage');
          if (doc.routes.length > 0) assert.ok(doc.deliveries.length >= doc.routes.length);
        }
      },
      runs: dialect === 'sqlite' ? 300 : 120,
    });
  });
});
