import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { MessageBundle } from '../../src/fhir/bundle.read.ts';
import { OUTBOUND_EXTENSION, REFERENCE_SYSTEM, SOURCE_REFERENCE_SYSTEM } from '../../src/fhir/fhir.codes.ts';
import { referralBundle } from '../../src/fhir/referral.bundle.ts';
import { mapReferral } from '../../src/fhir/referral.mapping.ts';
import { findReferral } from '../../src/records/referral.repository.ts';
import { readPayload } from '../../src/referrals/referral.access.ts';
import type { ReferralInputType } from '../../src/referrals/referral.schema.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { exampleBundle, fhirClient, referralIdOf, resourceOf, type Bundle } from './fhir.helpers.ts';

/** What Relay's intake mapping reads from a Bundle, without the source (which differs by design). */
function readBack(bundle: Bundle) {
  const { bundle: read, header, request } = MessageBundle.read(bundle);
  const mapping = mapReferral(read, header, request);
  assert.deepEqual(mapping.issues, []);
  const { source: _source, ...rest } = mapping.input;
  return rest;
}

describeEachDialect('FHIR referral Bundle (out)', (dialect) => {
  let relay: TestRelay;
  before(async () => {
    relay = await createTestRelay(dialect);
  });
  after(async () => relay.close());

  it('maps a referral raised by the documented example bundle back to an equivalent bundle', async () => {
    const sent = exampleBundle();
    const response = await fhirClient(relay).send(sent);
    assert.equal(response.statusCode, 201, response.body);
    const row = (await findReferral(relay.ctx.db.kysely, referralIdOf(response)))!;
    const payload = readPayload(relay.ctx.config.dataKeys, row) as ReferralInputType;

    const out = referralBundle(
      { id: row.id, reference: row.reference, receivedAt: row.received_at, payload },
      {
        messageId: 'delivery-1',
        teamId: 'team-a',
        endpoint: 'https://team.example/hook',
        links: { acknowledge: 'https://relay.example/ack/x', portal: 'https://relay.example/r/1' },
      },
    ) as Bundle;

    // Every field the ePCR sent reads back the same through Relay's own intake mapping.
    assert.deepEqual(readBack(out), readBack(sent));
    // The subject type Relay derived travels too (intake derives it again, so reads none).
    const { source: _source, subjectType, ...stored } = payload;
    assert.deepEqual(readBack(out), stored);
    const request = resourceOf(out, 'ServiceRequest');
    assert.ok(subjectType);
    assert.ok(
      request.extension.some(
        (e: Bundle) => e.url === OUTBOUND_EXTENSION.subjectType && e.valueCode === subjectType,
      ),
    );

    // The ePCR's own source and Relay's reference travel with it; the team's links are on the header.
    assert.equal(request.id, row.id);
    assert.deepEqual(request.identifier, [
      { system: REFERENCE_SYSTEM, value: row.reference },
      { system: SOURCE_REFERENCE_SYSTEM, value: sent.identifier.value, assigner: { display: 'test-epcr' } },
    ]);
    const header = out.entry[0].resource;
    assert.equal(out.id, 'delivery-1');
    assert.deepEqual(header.extension, [
      { url: OUTBOUND_EXTENSION.acknowledge, valueUrl: 'https://relay.example/ack/x' },
      { url: OUTBOUND_EXTENSION.portal, valueUrl: 'https://relay.example/r/1' },
    ]);
    assert.equal(header.destination[0].endpoint, 'https://team.example/hook');

    // The same elements as the example: NHS number, names, and the address the crew gave.
    const patient = resourceOf(out, 'Patient');
    const original = resourceOf(sent, 'Patient');
    for (const key of ['identifier', 'name', 'gender', 'birthDate', 'address', 'extension']) {
      assert.deepEqual(patient[key], original[key], key);
    }
  });

  it('writes no fixed abode as the NHS pseudo-postcode and leaves absent optional elements out', async () => {
    const sent = exampleBundle();
    const patient = resourceOf(sent, 'Patient');
    patient.address = [{ use: 'home', postalCode: 'ZZ99 3VZ' }];
    delete patient.identifier;
    const response = await fhirClient(relay).send(sent);
    assert.equal(response.statusCode, 201, response.body);
    const row = (await findReferral(relay.ctx.db.kysely, referralIdOf(response)))!;
    const payload = readPayload(relay.ctx.config.dataKeys, row) as ReferralInputType;
    const out = referralBundle(
      { id: row.id, reference: row.reference, receivedAt: row.received_at, payload },
      { messageId: 'm', teamId: 't', endpoint: 'e', links: { acknowledge: 'https://a.example/' } },
    ) as Bundle;
    const outPatient = resourceOf(out, 'Patient');
    assert.deepEqual(outPatient.address, [{ use: 'home', postalCode: 'ZZ99 3VZ' }]);
    assert.equal(outPatient.identifier, undefined);
    assert.deepEqual(readBack(out), readBack(sent));
  });
});
