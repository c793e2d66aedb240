import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sweep } from '../../src/assurance/watchdog.ts';
import { EmailChannel } from '../../src/delivery/channels/email.channel.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { responseChecker } from '../helpers/openapi.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';
import { exampleBundle, fhirClient, issuesOf, referralIdOf, type Bundle } from './fhir.helpers.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describeEachDialect('FHIR R4 Task: a referral’s progress per team', (dialect) => {
  let relay: TestRelay;
  let smtp: TestSmtpServer;
  let email: EmailChannel;
  let check: ReturnType<typeof responseChecker>;
  before(async () => {
    smtp = await startTestSmtpServer();
    // Wednesday 11:00 London: the Birmingham adults' team is open, so its one route is the day team's.
    relay = await createTestRelay(dialect, { now: '2026-11-25T11:00:00Z' });
    email = new EmailChannel({ smtpUrl: smtp.url, poolSize: 1, timeoutMs: 30_000 });
    check = responseChecker((await relay.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json());
  });
  after(async () => {
    email.close();
    await relay.close();
    await smtp.close();
  });

  const progress = async (referralId: string, key = relay.epcrKey) => {
    const response = await fhirClient(relay).tasks(referralId, key);
    check('GET', '/api/fhir/R4/Task', response);
    assert.equal(response.statusCode, 200, response.body);
    const bundle = response.json() as Bundle;
    assert.equal(bundle.type, 'searchset');
    return bundle.entry.map((e: Bundle) => ({
      team: e.resource.owner?.identifier.value,
      status: e.resource.status,
      business: e.resource.businessStatus.coding[0].code,
      output: (e.resource.output ?? []).map((o: Bundle) => o.type.text),
    }));
  };

  it('moves from queued to sent, escalated, acknowledged and outcome as the referral does', async () => {
    const sent = await fhirClient(relay).send(exampleBundle());
    assert.equal(sent.statusCode, 201, sent.body);
    const id = referralIdOf(sent);
    const team = (status: string, business: string, output: string[] = []) => [
      { team: 'birmingham-adults', status, business, output },
    ];
    assert.deepEqual(await progress(id), team('requested', 'queued'));

    const dispatcher = new Dispatcher(relay.ctx, {
      transports: { email },
      logger: quiet,
      workerId: 'w1',
      random: () => 0.5,
    });
    await dispatcher.drain();
    assert.ok(smtp.received.length >= 1, 'the team was emailed');
    assert.deepEqual(await progress(id), team('received', 'sent'));

    relay.clock.set('2026-11-25T15:01:00Z'); // past the 4-hour acknowledgement deadline
    await sweep(relay.ctx);
    assert.deepEqual(await progress(id), team('received', 'escalated'));
    // The team reads its own Task too, as it reads the status document.
    assert.deepEqual(await progress(id, relay.teamKey), team('received', 'escalated'));

    const ack = await relay.app.inject({
      method: 'POST',
      url: `/api/v1/referrals/${id}/acknowledgements`,
      headers: { authorization: `Bearer ${relay.teamKey}` },
      payload: { by: 'Sam Patel' },
    });
    assert.equal(ack.statusCode, 201, ack.body);
    assert.deepEqual(await progress(id), team('accepted', 'acknowledged', ['acknowledged']));

    const outcome = await relay.app.inject({
      method: 'POST',
      url: `/api/v1/referrals/${id}/outcomes`,
      headers: { authorization: `Bearer ${relay.teamKey}` },
      payload: { outcome: 's42-enquiry', note: 'Enquiry opened' },
    });
    assert.equal(outcome.statusCode, 201, outcome.body);
    assert.deepEqual(await progress(id), team('completed', 'outcome', ['acknowledged', 'outcome']));
  });

  it('shows a referral outside coverage waiting in triage, with its deadline', async () => {
    const bundle = exampleBundle();
    const patient = bundle.entry.find((e: Bundle) => e.resource.resourceType === 'Patient').resource;
    patient.address[0] = { use: 'home', line: ['10 Downing Street'], city: 'London', postalCode: 'SW1A 2AA' };
    bundle.entry.find((e: Bundle) => e.resource.resourceType === 'Location').resource.address.postalCode =
      'SW1A 2AA';
    const sent = await fhirClient(relay).send(bundle);
    assert.equal(sent.statusCode, 201, sent.body);
    const tasks = (sent.json() as Bundle).entry.slice(1).map((e: Bundle) => e.resource);
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0].owner, undefined);
    assert.equal(tasks[0].businessStatus.coding[0].code, 'triage');
    assert.ok(Date.parse(tasks[0].restriction.period.end) > Date.parse(relay.clock.now().toISOString()));
    assert.deepEqual(await progress(referralIdOf(sent)), [
      { team: undefined, status: 'requested', business: 'triage', output: [] },
    ]);
  });

  it('asks for the focus, and finds nothing for a referral that does not exist', async () => {
    const bad = await relay.app.inject({
      method: 'GET',
      url: '/api/fhir/R4/Task?focus=Patient/1',
      headers: { authorization: `Bearer ${relay.epcrKey}` },
    });
    check('GET', '/api/fhir/R4/Task', bad);
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(
      issuesOf(bad).map((i) => i.expression),
      ['focus'],
    );
    assert.deepEqual(await progress('00000000-0000-4000-8000-000000000000'), []);
    const anonymous = await relay.app.inject({
      method: 'GET',
      url: '/api/fhir/R4/Task?focus=ServiceRequest/x',
    });
    check('GET', '/api/fhir/R4/Task', anonymous);
    assert.equal(anonymous.statusCode, 401);
  });
});
