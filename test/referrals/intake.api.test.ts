import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { StatusDocumentSchema } from '../../src/referrals/referral.document.schema.ts';
import { exampleReferral, type ReferralBody } from '../../src/referrals/referral.example.ts';
import { verifyAuditChain } from '../../src/records/audit.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, rowCounts, type TestRelay } from '../helpers/relay.ts';

let sequence = 0;
function referral(overrides: Partial<ReferralBody> = {}): ReferralBody {
  sequence += 1;
  return exampleReferral({ source: { system: 'test-epcr', reference: `EPCR-${sequence}` }, ...overrides });
}

describeEachDialect('referral intake API', (dialect) => {
  let relay: TestRelay;
  before(async () => {
    relay = await createTestRelay(dialect);
  });
  after(async () => relay.close());

  const post = (body: unknown, key: string | null = relay.epcrKey) =>
    relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: key ? { authorization: `Bearer ${key}` } : {},
      payload: body as object,
    });
  const get = (url: string, key = relay.epcrKey) =>
    relay.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

  it('accepts a referral and answers 201 with the status document, routes and queued deliveries', async () => {
    const response = await post(referral());
    assert.equal(response.statusCode, 201);
    const doc = StatusDocumentSchema.parse(response.json());
    assert.match(doc.reference, /^SR-2026-\d{6}$/);
    assert.equal(response.headers.location, `/api/v1/referrals/${doc.id}`);
    assert.equal(doc.status, 'routed');
    assert.equal(doc.subjectType, 'adult');
    assert.deepEqual(
      doc.routes.map((r) => [r.authority, r.team, r.reason]),
      [['birmingham', 'birmingham-adults', 'subject-type']],
    );
    assert.equal(doc.routes[0]?.authorityName.includes('Birmingham'), true);
    assert.ok(doc.deliveries.length >= 1);
    assert.ok(doc.deliveries.every((d) => d.state === 'queued' && d.attempts === 0));
    assert.ok(doc.deliveries.some((d) => d.channel === 'email' && d.address.endsWith('@example.org')));
    assert.equal(doc.deadlines.sendBy, '2026-11-25T11:05:00.000Z');
    assert.equal(doc.deadlines.ackBy, '2026-11-25T15:00:00.000Z');
    assert.deepEqual(
      doc.timeline.map((e) => e.kind),
      ['received', 'routed'],
    );
    const text = response.body;
    for (const personal of ['Edna', 'Whitfield', '943 476 5919', '9434765919', 'Elmdon']) {
      assert.equal(text.includes(personal), false, `status document leaks ${personal}`);
    }
  });

  it('writes the referral, routes, deliveries and audit entry together', async () => {
    const response = await post(referral());
    const id = (response.json() as { id: string }).id;
    const db = relay.ctx.db.kysely;
    const row = await db.selectFrom('referrals').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.source_system, 'test-epcr');
    assert.equal(row.directory_version, 1);
    const deliveries = await db.selectFrom('deliveries').selectAll().where('referral_id', '=', id).execute();
    assert.ok(
      deliveries.every((d) => d.send_by === '2026-11-25T11:05:00.000Z' && d.message_id.includes(d.id)),
    );
    const audit = await db.selectFrom('audit_log').selectAll().where('entity_id', '=', id).execute();
    assert.deepEqual(
      audit.map((a) => a.action),
      ['referral.received'],
    );
    assert.equal(audit[0]?.detail.includes('Edna'), false);
    assert.equal((await verifyAuditChain(db)).ok, true);
  });

  it('routes a child to children’s services and an adult with children in the household to both teams', async () => {
    const child = await post(
      referral({
        subject: { ...exampleReferral().subject, dateOfBirth: '2015-03-01' },
        categories: ['neglect', 'emotional'],
      }),
    );
    assert.equal(child.statusCode, 201);
    assert.deepEqual(
      child.json().routes.map((r: { team: string }) => r.team),
      ['birmingham-children'],
    );
    const household = await post(referral({ householdChildren: 2 }));
    assert.deepEqual(
      household.json().routes.map((r: { team: string; reason: string }) => [r.team, r.reason]),
      [
        ['birmingham-adults', 'subject-type'],
        ['birmingham-children', 'household-children'],
      ],
    );
  });

  it('adds the out-of-hours team for an urgent referral received at night, and keeps the day team', async () => {
    relay.clock.set('2026-11-25T23:30:00Z');
    try {
      const response = await post(
        referral({ incident: { ...exampleReferral().incident, occurredAt: '2026-11-25T23:00:00Z' } }),
      );
      assert.equal(response.statusCode, 201);
      assert.deepEqual(
        response.json().routes.map((r: { team: string; reason: string }) => [r.team, r.reason]),
        [
          ['birmingham-adults', 'subject-type'],
          ['birmingham-out-of-hours', 'out-of-hours'],
        ],
      );
    } finally {
      relay.clock.set('2026-11-25T11:00:00Z');
    }
  });

  it('puts a referral it cannot route into triage with a deadline, never dropping it', async () => {
    const outside = exampleReferral().subject;
    const response = await post(
      referral({
        subject: { ...outside, address: { line1: '1 High Street', town: 'London', postcode: 'SW1A 1AA' } },
        incident: { ...exampleReferral().incident, location: { postcode: 'SW1A 2AA' } },
      }),
    );
    assert.equal(response.statusCode, 201);
    const doc = StatusDocumentSchema.parse(response.json());
    assert.equal(doc.status, 'triage');
    assert.deepEqual(doc.routes, []);
    assert.deepEqual(doc.deliveries, []);
    assert.equal(doc.triage[0]?.reason, 'no-coverage');
    assert.equal(doc.deadlines.triageBy, '2026-11-25T11:30:00.000Z');
    assert.equal(response.body.includes('SW1A'), false, 'triage detail must not carry the full postcode');
  });

  it('answers a new referral with exactly the document a read gives right after, whatever its shape', async () => {
    const base = exampleReferral();
    const solihull = {
      ...base.subject,
      address: { line1: '2 Station Road', town: 'Solihull', postcode: 'B91 3QB' },
    };
    const night = { ...base.incident, occurredAt: '2026-11-25T23:00:00Z' };
    const outside = {
      subject: { ...base.subject, address: { line1: '1 High Street', town: 'London', postcode: 'SW1A 1AA' } },
      incident: { ...base.incident, location: { postcode: 'SW1A 2AA' } },
    };
    relay.clock.set('2026-11-25T23:30:00Z');
    try {
      const bodies = [
        referral({ householdChildren: 2 }),
        referral({ subject: solihull }),
        referral({ subject: solihull, incident: night, householdChildren: 1 }),
        referral({ incident: night }),
        referral(outside),
      ];
      const answers = await Promise.all(bodies.map((body) => post(body)));
      const shapes = new Set<string>();
      for (const answer of answers) {
        assert.equal(answer.statusCode, 201);
        const doc = StatusDocumentSchema.parse(answer.json());
        shapes.add(
          `${doc.routes.length} routes, ${doc.deliveries.length} deliveries, ${doc.triage.length} triage`,
        );
        // Byte for byte: the same keys in the same order, the parts in the order the reads sort them.
        assert.equal(answer.body, (await get(`/api/v1/referrals/${doc.id}`)).body);
      }
      assert.ok(shapes.size >= 4, `expected varied referrals, got ${[...shapes].join('; ')}`);
    } finally {
      relay.clock.set('2026-11-25T11:00:00Z');
    }
  });

  it('answers a repeat of the same body with 200 and the same referral, and a changed body with 409', async () => {
    const body = referral();
    const first = await post(body);
    const before = await rowCounts(relay);
    const again = await post(structuredClone(body));
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().id, first.json().id);
    const changed = await post({ ...body, urgency: 'immediate' });
    assert.equal(changed.statusCode, 409);
    assert.equal(changed.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.deepEqual(await rowCounts(relay), before);
  });

  it('rejects invalid input with 422 problem+json naming every bad field, and writes nothing', async () => {
    const before = await rowCounts(relay);
    const body = referral() as Record<string, unknown>;
    const subject = { ...(body.subject as object), nhsNumber: '1234567890' };
    const response = await post({ ...body, subject, urgency: 'soon', categories: [], housholdChildren: 1 });
    assert.equal(response.statusCode, 422);
    const problem = response.json() as { type: string; status: number; errors: { path: string }[] };
    assert.equal(problem.status, 422);
    assert.match(problem.type, /validation-failed$/);
    const paths = problem.errors.map((e) => e.path);
    for (const path of ['subject.nhsNumber', 'urgency', 'categories']) assert.ok(paths.includes(path), path);
    assert.ok(
      paths.some((p) => p.includes('housholdChildren')) || response.body.includes('housholdChildren'),
    );
    assert.deepEqual(await rowCounts(relay), before);
  });

  it('rejects bodies that are not JSON objects with problem+json', async () => {
    const notJson = await relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: { authorization: `Bearer ${relay.epcrKey}`, 'content-type': 'application/json' },
      payload: '{"source":',
    });
    assert.equal(notJson.statusCode, 400);
    assert.match(notJson.json().type, /malformed-request$/);
    const wrongType = await relay.app.inject({
      method: 'POST',
      url: '/api/v1/referrals',
      headers: { authorization: `Bearer ${relay.epcrKey}`, 'content-type': 'text/plain' },
      payload: 'hello',
    });
    assert.equal(wrongType.statusCode, 415);
    assert.equal((await post([])).statusCode, 422);
  });

  it('needs a key with the referrals:write scope', async () => {
    assert.equal((await post(referral(), null)).statusCode, 401);
    assert.equal((await post(referral(), 'srk_not-a-real-key')).statusCode, 401);
    const forbidden = await post(referral(), relay.teamKey);
    assert.equal(forbidden.statusCode, 403);
    assert.match(forbidden.json().type, /forbidden$/);
  });

  it('shows a status document to the source that raised it and the team it was routed to, and nobody else', async () => {
    const created = (await post(referral())).json() as { id: string; reference: string };
    assert.equal((await get(`/api/v1/referrals/${created.id}`)).statusCode, 200);
    assert.equal((await get(`/api/v1/referrals/${created.reference}`)).json().id, created.id);
    assert.equal((await get(`/api/v1/referrals/${created.id}`, relay.teamKey)).statusCode, 200);
    const coventry = await post(
      referral({
        subject: {
          ...exampleReferral().subject,
          address: { line1: '3 Spon Street', town: 'Coventry', postcode: 'CV1 3BA' },
        },
      }),
    );
    const hidden = await get(`/api/v1/referrals/${coventry.json().id}`, relay.teamKey);
    assert.equal(hidden.statusCode, 404);
    assert.equal((await get('/api/v1/referrals/00000000-0000-0000-0000-000000000000')).statusCode, 404);
  });

  it('lists referrals page by page with a cursor, filtered by status and updatedSince', async () => {
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = (await get(`/api/v1/referrals${query}`)).json() as {
        items: { id: string; status: string }[];
        nextCursor: string | null;
      };
      assert.ok(page.items.length <= 2);
      for (const item of page.items) {
        assert.equal(seen.has(item.id), false, 'no referral appears on two pages');
        seen.add(item.id);
      }
      cursor = page.nextCursor;
    } while (cursor);
    const total = await relay.ctx.db.kysely
      .selectFrom('referrals')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('source_system', '=', 'test-epcr')
      .executeTakeFirstOrThrow();
    assert.equal(seen.size, Number(total.n));
    const triage = (await get('/api/v1/referrals?status=triage')).json() as { items: { status: string }[] };
    assert.ok(triage.items.length >= 1 && triage.items.every((i) => i.status === 'triage'));
    const future = (await get('/api/v1/referrals?updatedSince=2030-01-01T00:00:00Z')).json();
    assert.deepEqual(future.items, []);
    const bad = await get('/api/v1/referrals?status=lost&cursor=zzz&limit=0');
    assert.equal(bad.statusCode, 400);
    assert.deepEqual((bad.json().errors as { path: string }[]).map((e) => e.path).sort(), [
      'limit',
      'status',
    ]);
  });

  it('gives every referral a unique reference under concurrent intake', async () => {
    const responses = await Promise.all(Array.from({ length: 40 }, () => post(referral())));
    assert.ok(responses.every((r) => r.statusCode === 201));
    const references = responses.map((r) => r.json().reference as string);
    assert.equal(new Set(references).size, references.length);
  });

  it('answers concurrent repeats of one source reference with one referral', async () => {
    const body = referral();
    const responses = await Promise.all(Array.from({ length: 8 }, () => post(structuredClone(body))));
    const ids = new Set(responses.map((r) => r.json().id as string));
    assert.equal(ids.size, 1);
    assert.deepEqual(
      responses.map((r) => r.statusCode).filter((s) => s === 201),
      [201],
    );
  });
});
