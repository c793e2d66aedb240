import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { sweep } from '../../src/assurance/watchdog.ts';
import type { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { mailingRelaySuite, statusDocument } from '../helpers/mailing.ts';
import { type TestRelay } from '../helpers/relay.ts';
import { type ReceivedMessage, type TestSmtpServer } from '../helpers/smtp.ts';
import { apiClient } from './api.helpers.ts';
import { ackLinkClient } from './ack-link.helpers.ts';
import { signedIn } from '../helpers/web.ts';
import { raise } from '../helpers/referrals.ts';

// Friday 27 November 2026, 16:30 London: Birmingham adults is open until 17:00, so an urgent
// referral goes to the day team alone, and its 20:30 deadline falls after the team has closed.
const FRIDAY_AFTERNOON = '2026-11-27T16:30:00Z';
const PAST_DEADLINE = '2026-11-27T20:31:00Z';

describeEachDialect("the out-of-hours team's cover link records its own receipt", (dialect) => {
  let relay: TestRelay, smtp: TestSmtpServer, dispatcher: Dispatcher;
  mailingRelaySuite(dialect, FRIDAY_AFTERNOON, (parts) => ({ relay, smtp, dispatcher } = parts));
  let escalationsKey: string;

  before(async () => {
    escalationsKey = await apiClient(relay).makeKey('safeguarding tooling', 'escalations:write');
  });

  const document = (id: string) => statusDocument(relay, id);
  const mailTo = (address: string, reference: string, subject: RegExp) =>
    smtp.received.find(
      (m) =>
        m.envelopeTo.includes(address) &&
        (m.parsed.subject ?? '').includes(reference) &&
        subject.test(m.parsed.subject ?? ''),
    );
  /** The path of the acknowledge link in an email, to open against the in-process app. */
  const ackPath = (mail: ReceivedMessage | undefined) => {
    const link = /Acknowledge receipt: (\S+)/.exec(mail?.parsed.text ?? '')?.[1];
    assert.ok(link, 'the email carries an acknowledge link');
    return new URL(link).pathname;
  };
  const acknowledgeThrough = async (path: string, fullName: string) => {
    const client = ackLinkClient(() => relay);
    const { page, csrf, cookies } = await client.openForm(path);
    const done = await client.submit(path, { fullName, _csrf: csrf }, cookies);
    return { page, done };
  };

  /** An urgent Birmingham adult referral, sent, then past its deadline with the day team closed. */
  async function pastDeadlineAtNight() {
    const referral = await raise(relay);
    assert.deepEqual(
      (await document(referral.id)).routes.map((r) => r.team),
      ['birmingham-adults'],
      'open at receipt: no out-of-hours copy at intake',
    );
    await dispatcher.drain();
    relay.clock.set(PAST_DEADLINE);
    await sweep(relay.ctx);
    await dispatcher.drain();
    const alert = mailTo('out-of-hours.birmingham@example.org', referral.reference, /OUT-OF-HOURS COVER/);
    assert.ok(alert, 'the out-of-hours team was alerted by email');
    return { referral, alert };
  }

  it('acknowledges for the out-of-hours team, visibly, while the day team stays chased', async () => {
    const { referral, alert } = await pastDeadlineAtNight();
    const { page, done } = await acknowledgeThrough(ackPath(alert), 'Omar Night');
    assert.match(page.body, /Covering for/);
    assert.match(page.body, /It does not acknowledge for Birmingham Adult Social Care Front Door/);
    assert.equal(done.statusCode, 200, done.body);
    assert.match(done.body, /Birmingham Emergency Duty Team has this referral, as out-of-hours cover/);

    const doc = await document(referral.id);
    assert.deepEqual(
      doc.routes.map((r) => [r.team, r.reason, r.acknowledgedAt]),
      [
        ['birmingham-adults', 'subject-type', null],
        ['birmingham-out-of-hours', 'out-of-hours', PAST_DEADLINE.replace('Z', '.000Z')],
      ],
    );
    assert.deepEqual(doc.acknowledgements, [
      {
        team: 'birmingham-out-of-hours',
        at: PAST_DEADLINE.replace('Z', '.000Z'),
        method: 'link',
        by: 'Omar Night',
        coverFor: 'birmingham-adults',
      },
    ]);
    const event = doc.timeline.find((e) => e.kind === 'acknowledged');
    assert.deepEqual(
      [event?.detail.team, event?.detail.coverFor],
      ['birmingham-out-of-hours', 'birmingham-adults'],
    );
    assert.equal(doc.status, 'escalated', "the day team's escalation stays open");
    assert.deepEqual(
      doc.escalations.map((e) => [e.team, e.reason, e.state]),
      [['birmingham-adults', 'not-acknowledged', 'open']],
    );
    assert.deepEqual(
      doc.deliveries.map((d) => [d.team, d.purpose, d.state]).sort(),
      [
        ['birmingham-adults', 'alert-secondary', 'sent'],
        ['birmingham-adults', 'referral', 'sent'],
        ['birmingham-out-of-hours', 'alert-out-of-hours', 'acknowledged'],
      ].sort(),
      "the day team's copies are not marked acknowledged",
    );

    relay.clock.advance(60 * 60_000);
    await sweep(relay.ctx);
    const later = await document(referral.id);
    assert.equal(later.routes[0]?.acknowledgedAt, null, 'still unacknowledged an hour on');
    assert.equal(later.escalations.filter((e) => e.state !== 'resolved').length, 1);

    const browser = (await signedIn(relay, { roles: ['safeguarding'], name: 'Lee Lead' })).browser;
    const view = await browser.get(`/safeguarding/referrals/${referral.id}`);
    assert.match(
      view.body,
      /Birmingham Emergency Duty Team, as out-of-hours cover for Birmingham Adult Social Care Front Door/,
    );

    const again = await relay.app.inject({ method: 'GET', url: ackPath(alert) });
    assert.match(again.body, /already been acknowledged/);
    assert.match(again.body, /Omar Night acknowledged/);
  });

  it('the day team is acknowledged only when someone confirms its receipt by phone', async () => {
    const { referral } = await pastDeadlineAtNight();
    const alert = mailTo('out-of-hours.birmingham@example.org', referral.reference, /OUT-OF-HOURS COVER/);
    await acknowledgeThrough(ackPath(alert), 'Omar Night');
    const escalation = (await document(referral.id)).escalations[0];
    assert.ok(escalation);
    const resolved = await relay.app.inject({
      method: 'POST',
      url: `/api/v1/escalations/${escalation.id}/resolve`,
      headers: { authorization: `Bearer ${escalationsKey}` },
      payload: {
        by: 'Lee Lead',
        note: 'Rang the adults team duty line.',
        receiptConfirmedByPhone: true,
        confirmedBy: 'Pat Day',
      },
    });
    assert.equal(resolved.statusCode, 200, resolved.body);
    const doc = await document(referral.id);
    assert.deepEqual(
      doc.acknowledgements.map((a) => [a.team, a.method, a.by, a.coverFor]),
      [
        ['birmingham-out-of-hours', 'link', 'Omar Night', 'birmingham-adults'],
        ['birmingham-adults', 'phone', 'Pat Day', null],
      ],
    );
    assert.equal(doc.status, 'acknowledged');
  });

  it('once the day team has acknowledged, the cover link says so and records nothing for the out-of-hours team', async () => {
    const { referral, alert } = await pastDeadlineAtNight();
    const day = mailTo(
      'adults.birmingham@example.org',
      referral.reference,
      /^\[secure\] Safeguarding referral/,
    );
    await acknowledgeThrough(ackPath(day), 'Dee Day');
    const page = await relay.app.inject({ method: 'GET', url: ackPath(alert) });
    assert.match(page.body, /already been acknowledged/);
    assert.match(page.body, /Dee Day acknowledged referral .* for Birmingham Adult Social Care Front Door/);
    const doc = await document(referral.id);
    assert.deepEqual(
      doc.routes.map((r) => r.team),
      ['birmingham-adults'],
    );
    assert.equal(doc.status, 'acknowledged');
  });
});
