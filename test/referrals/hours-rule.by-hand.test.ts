import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { DEMO_DIRECTORY_PATH, readDirectoryFile } from '../../src/directory/directory.service.ts';
import type { Directory } from '../../src/directory/directory.types.ts';
import { routeByHand } from '../../src/referrals/triage.service.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { mailingRelaySuite, statusDocument } from '../helpers/mailing.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import type { TestSmtpServer } from '../helpers/smtp.ts';
import { outsideCoverage } from '../web/safeguarding/helpers.ts';
import { signedIn } from '../helpers/web.ts';
import { raise } from '../helpers/referrals.ts';

// Sunday 29 November 2026, 03:09 London (GMT): every day team in the demo directory is closed.
const SUNDAY_NIGHT = '2026-11-29T03:09:00Z';
// Wednesday 25 November 2026, 11:00 London: the day teams are open.
const WEDNESDAY_MORNING = '2026-11-25T11:00:00Z';

describeEachDialect('routing by hand and redirecting apply the hours rule', (dialect) => {
  let relay: TestRelay, smtp: TestSmtpServer, dispatcher: Dispatcher;
  mailingRelaySuite(dialect, SUNDAY_NIGHT, (parts) => ({ relay, smtp, dispatcher } = parts));
  const db = () => relay.ctx.db.kysely;

  const routesOf = (referralId: string) =>
    db().selectFrom('routes').selectAll().where('referral_id', '=', referralId).orderBy('position').execute();
  const triageItemOf = (referralId: string) =>
    db()
      .selectFrom('triage_items')
      .selectAll()
      .where('referral_id', '=', referralId)
      .executeTakeFirstOrThrow();
  const document = (id: string) => statusDocument(relay, id);
  /** Sends what is queued to the real SMTP server; returns the envelope recipients of this referral's mail. */
  const sentFor = async (reference: string) => {
    await dispatcher.drain();
    return smtp.received
      .filter((m) => (m.parsed.subject ?? '').includes(reference))
      .flatMap((m) => m.envelopeTo)
      .sort();
  };

  it('routing by hand at 03:09 on a Sunday to a closed day team also sends it to its out-of-hours team', async () => {
    const referral = await raise(relay, outsideCoverage());
    const item = await triageItemOf(referral.id);
    const browser = (await signedIn(relay, { roles: ['safeguarding'], name: 'Sam Safeguarding' })).browser;
    const confirm = await browser.post(`/safeguarding/triage/${item.id}`, { teamId: 'coventry-adults' });
    assert.equal(confirm.statusCode, 200);
    assert.match(
      confirm.body,
      /Coventry Adult Social Care Front Door is closed now and this referral is urgent, so Coventry Emergency Duty Team will also receive it/,
    );
    assert.match(confirm.body, /Email to out-of-hours\.coventry@example\.org/);
    const routed = await browser.post(`/safeguarding/triage/${item.id}`, {
      teamId: 'coventry-adults',
      confirm: 'yes',
    });
    assert.equal(routed.statusCode, 303, routed.body);

    const routes = await routesOf(referral.id);
    assert.deepEqual(
      routes.map((r) => [r.team_id, r.reason, r.position, r.ack_by]),
      [
        ['coventry-adults', 'manual', 0, '2026-11-29T07:09:00.000Z'],
        ['coventry-out-of-hours', 'out-of-hours', 1, '2026-11-29T07:09:00.000Z'],
      ],
      'each team its own route, the urgent deadline counted from receipt',
    );
    assert.deepEqual(await sentFor(referral.reference), [
      'adults.coventry@example.org',
      'out-of-hours.coventry@example.org',
    ]);
    const doc = await document(referral.id);
    assert.deepEqual(
      doc.deliveries.map((d) => [d.team, d.purpose, d.state]),
      [
        ['coventry-adults', 'referral', 'sent'],
        ['coventry-out-of-hours', 'referral', 'sent'],
      ],
    );
    const event = doc.timeline.find((e) => e.kind === 'routed');
    assert.deepEqual(event?.detail.routes, [
      { team: 'coventry-adults', reason: 'manual' },
      { team: 'coventry-out-of-hours', reason: 'out-of-hours' },
    ]);
    assert.equal(event?.detail.cover, 'added');
    const audit = await db()
      .selectFrom('audit_log')
      .select('detail')
      .where('action', '=', 'referral.routed-by-hand')
      .where('entity_id', '=', referral.id)
      .executeTakeFirstOrThrow();
    assert.equal((JSON.parse(audit.detail) as { deliveries: string[] }).deliveries.length, 2);
  });

  it('adds no cover when the day team is open, the referral is routine, or the chosen team is out-of-hours', async () => {
    const by = { name: 'Sam Safeguarding', actor: 'test' };
    relay.clock.set(WEDNESDAY_MORNING);
    const open = await raise(relay, outsideCoverage());
    const routedOpen = await routeByHand(relay.ctx, (await triageItemOf(open.id)).id, 'coventry-adults', by);
    assert.equal(routedOpen.cover.kind, 'not-needed');

    relay.clock.set(SUNDAY_NIGHT);
    const routine = await raise(relay, { ...outsideCoverage(), urgency: 'routine' });
    const routedRoutine = await routeByHand(
      relay.ctx,
      (await triageItemOf(routine.id)).id,
      'coventry-adults',
      by,
    );
    assert.equal(routedRoutine.cover.kind, 'not-needed');

    const duty = await raise(relay, { ...outsideCoverage(), urgency: 'immediate' });
    await routeByHand(relay.ctx, (await triageItemOf(duty.id)).id, 'coventry-out-of-hours', by);
    for (const [referral, team] of [
      [open, 'coventry-adults'],
      [routine, 'coventry-adults'],
      [duty, 'coventry-out-of-hours'],
    ] as const) {
      assert.deepEqual(
        (await routesOf(referral.id)).map((r) => r.team_id),
        [team],
      );
      assert.deepEqual(await sentFor(referral.reference), [
        team === 'coventry-adults' ? 'adults.coventry@example.org' : 'out-of-hours.coventry@example.org',
      ]);
    }
  });

  it('a redirect at night to a closed day team also sends it to that authority’s out-of-hours team', async () => {
    const referral = await raise(relay);
    assert.deepEqual(
      (await routesOf(referral.id)).map((r) => [r.team_id, r.reason]),
      [
        ['birmingham-adults', 'subject-type'],
        ['birmingham-out-of-hours', 'out-of-hours'],
      ],
      'intake applied the hours rule',
    );
    relay.clock.set('2026-11-29T03:30:00Z');
    const response = await relay.app.inject({
      method: 'POST',
      url: `/api/v1/referrals/${referral.id}/outcomes`,
      headers: { authorization: `Bearer ${relay.teamKey}` },
      payload: {
        outcome: 'redirected',
        redirectTo: 'coventry-adults',
        note: 'Moved to Coventry last month',
      },
    });
    assert.equal(response.statusCode, 201, response.body);
    assert.equal(response.json().outOfHours, 'coventry-out-of-hours');
    const routes = await routesOf(referral.id);
    assert.deepEqual(
      routes.map((r) => [r.team_id, r.reason, r.position]),
      [
        ['birmingham-adults', 'subject-type', 0],
        ['birmingham-out-of-hours', 'out-of-hours', 1],
        ['coventry-adults', 'redirected', 2],
        ['coventry-out-of-hours', 'out-of-hours', 3],
      ],
    );
    const coventry = routes.filter((r) => r.team_id.startsWith('coventry-'));
    assert.ok(
      coventry.every((r) => r.ack_by === '2026-11-29T07:09:00.000Z'),
      'the deadline from receipt still stands for both',
    );
    const sent = await sentFor(referral.reference);
    assert.ok(sent.includes('adults.coventry@example.org'));
    assert.ok(sent.includes('out-of-hours.coventry@example.org'), 'someone awake in Coventry has it');
    const event = (await document(referral.id)).timeline.find((e) => e.kind === 'redirected');
    assert.deepEqual(
      [event?.detail.to, event?.detail.cover, event?.detail.outOfHours],
      ['coventry-adults', 'added', 'coventry-out-of-hours'],
    );
  });

  it('the inbox redirect form says the out-of-hours team receives it too, and adds no second route for a team that has one', async () => {
    const { browser } = await signedIn(relay, {
      email: `bea-${dialect}@birmingham.example.org`,
      name: 'Bea Bradley',
      roles: ['recipient'],
      teams: ['birmingham-adults'],
    });
    const toCoventry = await raise(relay);
    await browser.get(`/inbox/referrals/${toCoventry.id}`);
    const moved = await browser.post(`/inbox/referrals/${toCoventry.id}/redirect`, {
      team: 'birmingham-adults',
      to: 'coventry-adults',
      reason: 'Lives in Coventry',
    });
    assert.equal(moved.statusCode, 303, moved.body);
    assert.match(moved.headers.location as string, /done=redirected-cover/);
    const page = await browser.get(moved.headers.location as string);
    assert.match(page.body, /its out-of-hours team is receiving it too/);

    // Birmingham's out-of-hours team already has its own copy from intake: it keeps that one.
    const toChildren = await raise(relay);
    await browser.get(`/inbox/referrals/${toChildren.id}`);
    const kept = await browser.post(`/inbox/referrals/${toChildren.id}/redirect`, {
      team: 'birmingham-adults',
      to: 'birmingham-children',
      reason: 'A child in the home is the concern',
    });
    assert.equal(kept.statusCode, 303, kept.body);
    assert.match(kept.headers.location as string, /done=redirected$/);
    assert.deepEqual(
      (await routesOf(toChildren.id)).map((r) => [r.team_id, r.reason]),
      [
        ['birmingham-adults', 'subject-type'],
        ['birmingham-out-of-hours', 'out-of-hours'],
        ['birmingham-children', 'redirected'],
      ],
    );
    const event = (await document(toChildren.id)).timeline.find((e) => e.kind === 'redirected');
    assert.equal(event?.detail.cover, 'already-routed');
  });
});

describeEachDialect(
  'routing by hand to a closed team whose authority has no out-of-hours team',
  (dialect) => {
    let relay: TestRelay;
    before(async () => {
      const directory = (await readDirectoryFile(DEMO_DIRECTORY_PATH)) as Directory;
      const coventry = directory.authorities.find((a) => a.id === 'coventry');
      assert.ok(coventry);
      coventry.teams = coventry.teams.filter((t) => t.kind !== 'out-of-hours');
      relay = await createTestRelay(dialect, { now: SUNDAY_NIGHT, directory });
    });
    after(async () => relay.close());

    it('warns on the confirmation page, and records that there was no cover when a person sends it anyway', async () => {
      const referral = await raise(relay, outsideCoverage());
      const item = await relay.ctx.db.kysely
        .selectFrom('triage_items')
        .selectAll()
        .where('referral_id', '=', referral.id)
        .executeTakeFirstOrThrow();
      const browser = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
      const confirm = await browser.post(`/safeguarding/triage/${item.id}`, { teamId: 'coventry-adults' });
      assert.match(confirm.body, /Coventry Adult Social Care Front Door is closed now/);
      assert.match(confirm.body, /has no out-of-hours team in the directory/);
      await browser.post(`/safeguarding/triage/${item.id}`, { teamId: 'coventry-adults', confirm: 'yes' });
      const event = await relay.ctx.db.kysely
        .selectFrom('referral_events')
        .select('detail')
        .where('referral_id', '=', referral.id)
        .where('kind', '=', 'routed')
        .executeTakeFirstOrThrow();
      assert.equal((JSON.parse(event.detail) as { cover: string }).cover, 'no-cover-team');
    });
  },
);
