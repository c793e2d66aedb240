import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createApiKey } from '../../src/access/apikey.service.ts';
import { findReferral } from '../../src/records/referral.repository.ts';
import { readPayload } from '../../src/referrals/referral.access.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { responseChecker } from '../helpers/openapi.ts';
import { createTestRelay, rowCounts, type TestRelay } from '../helpers/relay.ts';
import {
  exampleBundle,
  fhirClient,
  issuesOf,
  referralIdOf,
  resourceOf,
  type Bundle,
} from './fhir.helpers.ts';

describeEachDialect('FHIR R4 $process-message', (dialect) => {
  let relay: TestRelay;
  let fhir: ReturnType<typeof fhirClient>;
  let check: ReturnType<typeof responseChecker>;
  before(async () => {
    relay = await createTestRelay(dialect);
    fhir = fhirClient(relay);
    check = responseChecker((await relay.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json());
  });
  after(async () => relay.close());

  const send = async (payload: unknown, key?: string | null, type?: string) => {
    const response = await fhir.send(payload, key, type);
    check('POST', '/api/fhir/R4/$process-message', response);
    return response;
  };

  it('raises the documented example bundle as the same referral its JSON equivalent makes', async () => {
    const bundle = exampleBundle();
    const response = await send(bundle);
    assert.equal(response.statusCode, 201, response.body);
    assert.match(String(response.headers['content-type']), /^application\/fhir\+json/);
    const answer = response.json() as Bundle;
    assert.equal(answer.type, 'message');
    const header = answer.entry[0].resource;
    assert.deepEqual(header.response, { identifier: bundle.id, code: 'ok' });
    const id = referralIdOf(response);

    const json = exampleReferral({
      source: { system: 'test-epcr', reference: `JSON-OF-${bundle.identifier.value}` },
    });
    const twin = await relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: { authorization: `Bearer ${relay.epcrKey}` },
      payload: json,
    });
    assert.equal(twin.statusCode, 201, twin.body);

    const status = async (referralId: string) =>
      (
        await relay.app.inject({
          method: 'GET',
          url: `/api/v1/referrals/${referralId}`,
          headers: { authorization: `Bearer ${relay.epcrKey}` },
        })
      ).json() as Bundle;
    const [viaFhir, viaJson] = [await status(id), await status(twin.json().id)];
    const routed = (doc: Bundle) => ({
      status: doc.status,
      subjectType: doc.subjectType,
      referralType: doc.referralType,
      urgency: doc.urgency,
      categories: doc.categories,
      routes: doc.routes.map((r: Bundle) => [r.team, r.reason, r.ackBy]),
      deliveries: doc.deliveries.map((d: Bundle) => [d.team, d.channel, d.address, d.state]),
    });
    assert.deepEqual(routed(viaFhir), routed(viaJson));
    assert.deepEqual(viaFhir.source, { system: 'test-epcr', reference: bundle.identifier.value });

    // What the team is sent is the stored referral: every field the same as the JSON's.
    const stored = async (referralId: string) => {
      const row = await findReferral(relay.ctx.db.kysely, referralId);
      const { source: _source, ...rest } = readPayload(relay.ctx.config.dataKeys, row!) as Bundle;
      return rest;
    };
    assert.deepEqual(await stored(id), await stored(twin.json().id));
  });

  it('answers a repeat with 200 and the same referral, and a changed message with 409 writing nothing', async () => {
    const bundle = exampleBundle();
    const first = await send(bundle);
    assert.equal(first.statusCode, 201);
    const again = await send(bundle);
    assert.equal(again.statusCode, 200);
    assert.equal(referralIdOf(again), referralIdOf(first));

    const changed = exampleBundle(bundle.identifier.value);
    resourceOf(changed, 'ServiceRequest').priority = 'routine';
    const before = await rowCounts(relay);
    const conflict = await send(changed);
    assert.equal(conflict.statusCode, 409);
    assert.deepEqual(
      issuesOf(conflict).map((i) => i.code),
      ['duplicate'],
    );
    assert.deepEqual(await rowCounts(relay), before);
  });

  it('names each bad element by its FHIRPath, every one at once, and writes nothing', async () => {
    const cases: [string, (b: Bundle) => void, string][] = [
      [
        'priority',
        (b) => (resourceOf(b, 'ServiceRequest').priority = 'whenever'),
        'Bundle.entry[1].resource.priority',
      ],
      [
        'priority by an inherited name',
        (b) => (resourceOf(b, 'ServiceRequest').priority = 'constructor'),
        'Bundle.entry[1].resource.priority',
      ],
      [
        'priority a number',
        (b) => (resourceOf(b, 'ServiceRequest').priority = 1),
        'Bundle.entry[1].resource.priority',
      ],
      [
        'category',
        (b) => (resourceOf(b, 'ServiceRequest').category = []),
        'Bundle.entry[1].resource.category',
      ],
      [
        'reasonCode',
        (b) => (resourceOf(b, 'ServiceRequest').reasonCode[1].coding[0].code = 'sad'),
        'Bundle.entry[1].resource.reasonCode[1]',
      ],
      ['note', (b) => delete resourceOf(b, 'ServiceRequest').note, 'Bundle.entry[1].resource.note.text'],
      [
        'birthDate',
        (b) => (resourceOf(b, 'Patient').birthDate = '1939-02-30'),
        'Bundle.entry[2].resource.birthDate',
      ],
      [
        'NHS number',
        (b) => (resourceOf(b, 'Patient').identifier[0].value = '9434765918'),
        "Bundle.entry[2].resource.identifier.where(system='https://fhir.nhs.uk/Id/nhs-number').value",
      ],
      [
        'family name',
        (b) => delete resourceOf(b, 'Patient').name[0].family,
        'Bundle.entry[2].resource.name[0].family',
      ],
      [
        'home postcode',
        (b) => (resourceOf(b, 'Patient').address[0].postalCode = 'B15'),
        'Bundle.entry[2].resource.address[0].postalCode',
      ],
      [
        'incident time',
        (b) => (resourceOf(b, 'Encounter').period.start = '2026-11-25 10:15'),
        'Bundle.entry[3].resource.period.start',
      ],
      [
        'incident number',
        (b) => delete resourceOf(b, 'Encounter').identifier,
        'Bundle.entry[3].resource.identifier[0].value',
      ],
      [
        'incident postcode',
        (b) => (resourceOf(b, 'Location').address.postalCode = 'nowhere'),
        'Bundle.entry[4].resource.address.postalCode',
      ],
      [
        'referrer role',
        (b) => delete resourceOf(b, 'PractitionerRole').code,
        'Bundle.entry[5].resource.code[0]',
      ],
      [
        'referrer email',
        (b) => (resourceOf(b, 'PractitionerRole').telecom[1].value = 'priya'),
        "Bundle.entry[5].resource.telecom.where(system='email').value",
      ],
      [
        'staff id',
        (b) => delete resourceOf(b, 'Practitioner').identifier,
        'Bundle.entry[6].resource.identifier[0].value',
      ],
      [
        'consent',
        (b) => (resourceOf(b, 'Consent').provision.type = 'maybe'),
        'Bundle.entry[7].resource.provision.type',
      ],
      [
        'override reason',
        (b) => (resourceOf(b, 'Consent').provision.type = 'deny'),
        "Bundle.entry[7].resource.extension('https://safeguard-relay.example/fhir/StructureDefinition/consent-override-reason').value",
      ],
      ['no Consent', (b) => b.entry.splice(7, 1), 'Bundle.entry.resource.ofType(Consent)'],
      [
        'subject',
        (b) => (resourceOf(b, 'ServiceRequest').subject.reference = 'Patient/none'),
        'Bundle.entry[1].resource.subject',
      ],
      ['identifier', (b) => delete b.identifier, 'Bundle.identifier.value'],
    ];
    const before = await rowCounts(relay);
    for (const [name, spoil, expression] of cases) {
      const bundle = exampleBundle();
      spoil(bundle);
      const response = await send(bundle);
      assert.equal(response.statusCode, 422, `${name}: ${response.body}`);
      assert.deepEqual(
        issuesOf(response).map((i) => i.expression),
        [expression],
        name,
      );
      for (const personal of ['Edna', 'Whitfield', '9434765918', 'priya']) {
        assert.equal(response.body.includes(personal), false, `${name}: the outcome echoes ${personal}`);
      }
    }
    const several = exampleBundle();
    resourceOf(several, 'ServiceRequest').priority = 'whenever';
    resourceOf(several, 'Patient').birthDate = 'soon';
    resourceOf(several, 'Encounter').extension[1].valueBoolean = 'no';
    const response = await send(several);
    assert.deepEqual(
      issuesOf(response)
        .map((i) => i.expression)
        .sort(),
      [
        'Bundle.entry[1].resource.priority',
        'Bundle.entry[2].resource.birthDate',
        "Bundle.entry[3].resource.extension('https://safeguard-relay.example/fhir/StructureDefinition/conveyed').value",
      ],
    );
    assert.deepEqual(await rowCounts(relay), before);
  });

  it('reads the shapes BaRS senders use: a Practitioner requester, several categories, references by Type/id', async () => {
    const bundle = exampleBundle();
    const request = resourceOf(bundle, 'ServiceRequest');
    request.requester = { reference: 'Practitioner/e3f5b7d9-1a2c-4e4f-b6a8-0c2e4f6a8b75' };
    request.category.unshift({ coding: [{ system: 'http://snomed.info/sct', code: '3457005' }] });
    request.subject = { reference: 'Patient/9f2a6c3d-5b8e-4a1f-8c7d-2e4b6a8c0d31' };
    const response = await send(bundle);
    assert.equal(response.statusCode, 201, response.body);
    const row = await findReferral(relay.ctx.db.kysely, referralIdOf(response));
    const stored = readPayload(relay.ctx.config.dataKeys, row!) as Bundle;
    assert.deepEqual(stored.referrer, exampleReferral().referrer);
    assert.equal(stored.referralType, 'safeguarding');
    assert.equal(stored.subject.familyName, 'Whitfield');

    const odd = exampleBundle();
    resourceOf(odd, 'Patient').name[0].given = ['Edna', 42];
    const refused = await send(odd);
    assert.equal(refused.statusCode, 422);
    assert.deepEqual(issuesOf(refused), [
      { expression: 'Bundle.entry[2].resource.name[0].given', code: 'invalid', diagnostics: 'Must be text.' },
    ]);
  });

  it('takes line breaks where the JSON API does, refuses them elsewhere, and refuses controls anywhere', async () => {
    const multiLine = exampleBundle();
    resourceOf(multiLine, 'ServiceRequest').note = [
      { text: 'Found on the floor.\nNo food.' },
      { text: 'Nephew.' },
    ];
    const accepted = await send(multiLine);
    assert.equal(accepted.statusCode, 201, accepted.body);
    const row = await findReferral(relay.ctx.db.kysely, referralIdOf(accepted));
    assert.equal(
      (readPayload(relay.ctx.config.dataKeys, row!) as Bundle).concern,
      'Found on the floor.\nNo food.\n\nNephew.',
    );

    const cases: [(b: Bundle) => void, string, RegExp][] = [
      [
        (b) => (resourceOf(b, 'Patient').name[0].family = 'Whit\nfield'),
        'Bundle.entry[2].resource.name[0].family',
        /single line/,
      ],
      [
        (b) => (resourceOf(b, 'Practitioner').identifier[0].value = 'WM\u0000'),
        'Bundle.entry[6].resource.identifier[0].value',
        /control/,
      ],
      [(b) => (resourceOf(b, 'Location').id = 'x\u001b'), 'Bundle.entry[4].resource.id', /control/],
    ];
    for (const [spoil, expression, message] of cases) {
      const bundle = exampleBundle();
      spoil(bundle);
      const response = await send(bundle);
      assert.equal(response.statusCode, 422, response.body);
      const issues = issuesOf(response);
      assert.deepEqual(
        issues.map((i) => i.expression),
        [expression],
      );
      assert.match(issues[0]!.diagnostics, message);
    }
  });

  it('answers what is not a referral message with a 400 OperationOutcome, never a 500', async () => {
    const header = (b: Bundle) => b.entry[0].resource;
    const cases: [string, unknown, string | undefined][] = [
      ['not JSON', '{"resourceType": "Bundle",', undefined],
      ['a list', '[]', 'Bundle'],
      ['null', 'null', 'Bundle'],
      ['a Patient', { resourceType: 'Patient' }, 'Bundle'],
      ['a collection', { ...exampleBundle(), type: 'collection' }, 'Bundle.type'],
      ['no id', { ...exampleBundle(), id: undefined }, 'Bundle.id'],
      [
        'no MessageHeader',
        { ...exampleBundle(), entry: exampleBundle().entry.slice(1) },
        'Bundle.entry[0].resource',
      ],
      ['no entries', { ...exampleBundle(), entry: 'none' }, 'Bundle.entry[0].resource'],
      [
        'another event',
        ((b: Bundle) => ((header(b).eventCoding.code = 'booking-request'), b))(exampleBundle()),
        'Bundle.entry[0].resource.eventCoding',
      ],
      [
        'focus elsewhere',
        ((b: Bundle) => ((header(b).focus = [{ reference: 'urn:uuid:nothing' }]), b))(exampleBundle()),
        'Bundle.entry[0].resource.focus[0]',
      ],
    ];
    for (const [name, payload, expression] of cases) {
      const response = await send(payload);
      assert.equal(response.statusCode, 400, `${name}: ${response.body}`);
      const issues = issuesOf(response);
      assert.equal(issues[0]?.code, 'structure', name);
      assert.equal(issues[0]?.expression, expression ?? '', name);
    }
    const text = await send('Bundle', relay.epcrKey, 'text/plain');
    assert.equal(text.statusCode, 415);
    assert.equal(issuesOf(text)[0]?.code, 'not-supported');
  });

  it('takes application/json too, and the JSON API’s keys and scopes', async () => {
    assert.equal((await send(exampleBundle(), relay.epcrKey, 'application/json')).statusCode, 201);
    const anonymous = await send(exampleBundle(), null);
    assert.equal(anonymous.statusCode, 401);
    assert.equal(issuesOf(anonymous)[0]?.code, 'login');
    const team = await send(exampleBundle(), relay.teamKey);
    assert.equal(team.statusCode, 403);
    const other = exampleBundle();
    other.entry[0].resource.source.name = 'another-epcr';
    const refused = await send(other);
    assert.equal(refused.statusCode, 403);
    assert.deepEqual(
      issuesOf(refused).map((i) => i.expression),
      ['Bundle.entry[0].resource.source.name'],
    );
  });

  it('serves a CapabilityStatement naming what it supports, without a key', async () => {
    const response = await relay.app.inject({ method: 'GET', url: '/api/fhir/R4/metadata' });
    check('GET', '/api/fhir/R4/metadata', response);
    const statement = response.json() as Bundle;
    assert.equal(statement.resourceType, 'CapabilityStatement');
    assert.equal(statement.fhirVersion, '4.0.1');
    assert.deepEqual(
      statement.rest[0].operation.map((o: Bundle) => o.name),
      ['process-message'],
    );
    assert.deepEqual(statement.rest[0].resource[0].searchParam, [
      { name: 'focus', type: 'reference', documentation: 'ServiceRequest/{id}: required' },
    ]);
  });

  it('keeps an unknown FHIR path an OperationOutcome', async () => {
    const response = await relay.app.inject({ method: 'GET', url: '/api/fhir/R4/Patient' });
    assert.equal(response.statusCode, 404);
    assert.equal(issuesOf(response)[0]?.code, 'not-found');
  });

  it('is refused for a key of another source system: it sees no Tasks of this referral', async () => {
    const created = await send(exampleBundle());
    const other = await createApiKey(
      relay.ctx.db.kysely,
      relay.clock,
      { name: 'other ePCR', scope: 'referrals:write', sourceSystem: 'other-epcr' },
      'test',
      async () => true,
    );
    const seen = await fhir.tasks(referralIdOf(created), other.key);
    assert.equal(seen.statusCode, 200);
    assert.deepEqual((seen.json() as Bundle).entry, []);
  });
});
