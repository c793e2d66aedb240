import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import fc from 'fast-check';
import { describeEachDialect } from '../helpers/db.ts';
import { mutate, paths, type Json } from '../helpers/mutate.ts';
import { createTestRelay, rowCounts, type TestRelay } from '../helpers/relay.ts';
import { exampleBundle, fhirClient, type Bundle } from './fhir.helpers.ts';

const examplePaths = paths(exampleBundle());

/** A body: wholly random JSON, or the example bundle with one to three elements replaced or removed. */
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
    .map((mutations) =>
      mutations.reduce<unknown>((b, m) => mutate(b as Json, m.path, m.value, m.remove), exampleBundle()),
    ),
);

describeEachDialect('$process-message under random and spoilt bundles', (dialect) => {
  let relay: TestRelay;
  before(async () => {
    relay = await createTestRelay(dialect);
  });
  after(async () => relay.close());

  it('never answers 500, answers FHIR, writes nothing on rejection and names elements by FHIRPath', async () => {
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const before = await rowCounts(relay);
        const response = await fhirClient(relay).send(JSON.stringify(body) ?? 'null');
        assert.ok(
          [200, 201, 400, 403, 409, 422].includes(response.statusCode),
          `status ${response.statusCode}`,
        );
        assert.match(String(response.headers['content-type']), /^application\/fhir\+json/);
        const answer = response.json() as Bundle;
        if (response.statusCode >= 400) {
          assert.equal(answer.resourceType, 'OperationOutcome');
          assert.ok(answer.issue.length > 0);
          for (const issue of answer.issue) {
            for (const expression of issue.expression ?? []) assert.match(expression, /^(Bundle|focus)\b/);
          }
          if (response.statusCode === 422)
            assert.ok(answer.issue.every((i: Bundle) => i.expression?.length === 1));
          assert.deepEqual(await rowCounts(relay), before, 'a rejected message wrote nothing');
        } else {
          assert.equal(answer.resourceType, 'Bundle');
          assert.equal(answer.entry[0].resource.response.code, 'ok');
        }
      }),
      { numRuns: Number(process.env.FHIR_RUNS ?? 60) },
    );
  });
});
