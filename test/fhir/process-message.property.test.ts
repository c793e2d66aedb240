import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { assertRejectsCleanly, spoiltBodies } from '../helpers/mutate.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { exampleBundle, fhirClient, type Bundle } from './fhir.helpers.ts';

describeEachDialect('$process-message under random and spoilt bundles', (dialect) => {
  let relay: TestRelay;
  before(async () => {
    relay = await createTestRelay(dialect);
  });
  after(async () => relay.close());

  it('never answers 500, answers FHIR, writes nothing on rejection and names elements by FHIRPath', async () => {
    await assertRejectsCleanly(relay, spoiltBodies(exampleBundle), {
      post: (body) => fhirClient(relay).send(JSON.stringify(body) ?? 'null'),
      check: (response) => {
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
        } else {
          assert.equal(answer.resourceType, 'Bundle');
          assert.equal(answer.entry[0].resource.response.code, 'ok');
        }
      },
      runs: Number(process.env.FHIR_RUNS ?? 60),
    });
  });
});
