import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import fc from 'fast-check';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, rowCounts, type TestRelay } from '../helpers/relay.ts';
import { mutate, paths, type Json } from '../helpers/mutate.ts';

const examplePaths = paths(exampleReferral());
let counter = 0;

/** A body: wholly random JSON, or the example with one to three fields replaced or removed. */
const bodies = fc.oneof(
  fc.jsonValue(),
  fc
    .array(
      fc.record({
        path: fc.constantFrom(...examplePaths),
        value: fc.oneof(fc.jsonValue(), fc.string(), fc.constant(null), fc.integer()),
        remove: fc.boolean(),
      }),
      { minLength: 1, maxLength: 3 },
    )
    .map((mutations) => {
      counter += 1;
      const base = exampleReferral({ source: { system: 'test-epcr', reference: `PROP-${counter}` } }) as Json;
      return mutations.reduce<unknown>((b, m) => mutate(b as Json, m.path, m.value, m.remove), base);
    }),
);

describeEachDialect('intake under random and malformed bodies', (dialect) => {
  let relay: TestRelay;
  before(async () => {
    relay = await createTestRelay(dialect);
  });
  after(async () => relay.close());

  it('never answers 500, writes nothing on rejection, and names the fields it rejects', async () => {
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const beforeCounts = await rowCounts(relay);
        const response = await relay.app.inject({
          method: 'POST',
          url: '/api/v1/referrals',
          headers: { authorization: `Bearer ${relay.epcrKey}`, 'content-type': 'application/json' },
          payload: JSON.stringify(body) ?? 'null',
        });
        assert.ok(
          [200, 201, 400, 403, 409, 422].includes(response.statusCode),
          `status ${response.statusCode}`,
        );
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
          assert.deepEqual(await rowCounts(relay), beforeCounts, 'a rejected body wrote nothing');
        } else if (response.statusCode === 201) {
          const doc = response.json() as { routes: unknown[]; triage: unknown[]; deliveries: unknown[] };
          assert.ok(doc.routes.length > 0 || doc.triage.length > 0, 'accepted means routed or in triage');
          if (doc.routes.length > 0) assert.ok(doc.deliveries.length >= doc.routes.length);
        }
      }),
      { numRuns: dialect === 'sqlite' ? 300 : 120 },
    );
  });
});
