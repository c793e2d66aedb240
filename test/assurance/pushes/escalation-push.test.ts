import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { addShift } from '../../../src/assurance/oncall/oncall.service.ts';
import { claimEscalation } from '../../../src/records/escalation.service.ts';
import { resolveEscalation } from '../../../src/assurance/escalation.resolve.ts';
import { EmailChannel } from '../../../src/delivery/channels/email.channel.ts';
import { HOUR, MINUTE } from '../../../src/time.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../../helpers/smtp.ts';
import { raiseReferral } from '../jobs/seed.ts';
import { passAt, sentNotAcknowledged } from './pushes.helpers.ts';

const ON_CALL = 'jo.oncall@ambulance.example';
const LEAD = 'lead@ambulance.example';
const MANAGER = 'duty.manager@ambulance.example';
const PERSONAL = ['Edna', 'Whitfield', '943 476 5919', 'Elmdon', 'B15 2TT', 'nephew', 'Priya'];

describeEachDialect('escalation pushes: on call, ladder, lapsed claims, re-opening', (dialect) => {
  let relay: TestRelay;
  let smtp: TestSmtpServer;
  let email: EmailChannel;
  let referral: { id: string; reference: string };
  let first: string;
  const db = () => relay.ctx.db.kysely;
  const tick = (at: number) => passAt(relay, email, at);
  const escalations = () =>
    db()
      .selectFrom('escalations')
      .selectAll()
      .where('referral_id', '=', referral.id)
      .where('reason', '=', 'not-acknowledged')
      .orderBy('opened_at')
      .execute();
  const pushesOf = (id: string) =>
    db()
      .selectFrom('escalation_pushes')
      .selectAll()
      .where('escalation_id', '=', id)
      .orderBy('created_at')
      .execute();
  const audited = async (id: string) =>
    (
      await db()
        .selectFrom('audit_log')
        .select('action')
        .where('entity_type', '=', 'escalation')
        .where('entity_id', '=', id)
        .orderBy('seq')
        .execute()
    ).map((r) => r.action);

  let ackBy = 0;
  before(async () => {
    smtp = await startTestSmtpServer();
    email = new EmailChannel({ smtpUrl: smtp.url, poolSize: 1, timeoutMs: 30_000 });
    relay = await createTestRelay(dialect, {
      now: '2026-11-25T11:00:00Z',
      env: {
        SAFEGUARDING_EMAIL: 'desk@ambulance.example',
        ESCALATION_LADDER: `${LEAD}, ${MANAGER}`,
        // The demo's other checks stay out of the way: only the escalation under test is pushed.
        TEST_ALERT_INTERVAL: 'off',
      },
    });
    await addShift(
      relay.ctx,
      { email: ON_CALL, from: '2026-11-25T08:00:00Z', to: '2026-11-27T08:00:00Z' },
      'test',
    );
    referral = await raiseReferral(relay, 'PUSH-1');
    ackBy = await sentNotAcknowledged(relay, referral.id);
  });
  after(async () => {
    email.close();
    await relay.close();
    await smtp.close();
  });

  it('assigns a new escalation to the person on call and emails them at once, with no personal data', async () => {
    await tick(ackBy + MINUTE);
    const [row] = await escalations();
    assert.ok(row);
    first = row.id;
    assert.equal(row.assigned_to, ON_CALL);
    assert.equal(row.rung, 0);
    const [message] = await smtp.waitFor(1);
    assert.ok(message);
    assert.deepEqual(message.envelopeTo, [ON_CALL]);
    const text = message.parsed.text ?? '';
    assert.match(
      message.parsed.subject ?? '',
      new RegExp(`not-acknowledged — ${referral.reference} — claim it`),
    );
    assert.ok(text.includes(`http://relay.test/safeguarding/escalations/${first}`), text);
    assert.ok(text.includes('Birmingham Adult Social Care Front Door'), text);
    assert.ok(text.includes('01632 960100'), 'the team phone number to call');
    for (const p of PERSONAL) assert.ok(!message.raw.includes(p), `${p} must not be in the push`);
    const [push] = await pushesOf(first);
    assert.equal(push?.state, 'sent');
    assert.equal(push?.channel, 'email');
    assert.equal(push?.cause, 'opened');
    assert.deepEqual(await audited(first), [
      'escalation.opened',
      'escalation.pushed',
      'escalation.assigned',
      'escalation.push-sent',
    ]);
  });

  it('climbs the ladder, rung after rung, while nobody claims it', async () => {
    await tick(ackBy + MINUTE + 15 * MINUTE - 1000);
    assert.equal(smtp.received.length, 1, 'not before ESCALATION_CLAIM_BY');
    await tick(ackBy + MINUTE + 15 * MINUTE);
    const [, second] = await smtp.waitFor(2);
    assert.deepEqual(second?.envelopeTo, [LEAD]);
    assert.match(second?.parsed.text ?? '', /Nobody has claimed it in time/);
    await tick(ackBy + MINUTE + 30 * MINUTE);
    const [, , third] = await smtp.waitFor(3);
    assert.deepEqual(third?.envelopeTo, [MANAGER]);
    await tick(ackBy + MINUTE + 60 * MINUTE);
    assert.equal(smtp.received.length, 3, 'the top of the ladder is the last rung');
    const pushes = await pushesOf(first);
    assert.deepEqual(
      pushes.map((p) => [p.rung, p.recipient, p.cause, p.state]),
      [
        [0, ON_CALL, 'opened', 'sent'],
        [1, LEAD, 'ladder', 'sent'],
        [2, MANAGER, 'ladder', 'sent'],
      ],
    );
  });

  it('lapses a claim with no progress after ESCALATION_CLAIM_TTL and pushes it again', async () => {
    const claimedAt = ackBy + 2 * HOUR;
    relay.clock.set(new Date(claimedAt));
    await claimEscalation(relay.ctx, first, { name: 'Alex Morgan', actor: 'user:alex' });
    await tick(claimedAt + 2 * HOUR - 1000);
    assert.equal((await escalations())[0]?.state, 'claimed');
    assert.equal(smtp.received.length, 3);
    await tick(claimedAt + 2 * HOUR);
    const [row] = await escalations();
    assert.equal(row?.state, 'open');
    assert.equal(row?.claimed_by, null);
    const [, , , fourth] = await smtp.waitFor(4);
    assert.deepEqual(fourth?.envelopeTo, [ON_CALL]);
    assert.match(fourth?.parsed.text ?? '', /the claim has lapsed/);
    const actions = await audited(first);
    assert.ok(actions.includes('escalation.claim-lapsed'));
    const events = await db()
      .selectFrom('referral_events')
      .select('detail')
      .where('referral_id', '=', referral.id)
      .where('kind', '=', 'escalation-claim-lapsed')
      .execute();
    assert.match(events[0]?.detail ?? '', /Alex Morgan/);
  });

  it('re-opens after a resolution when the referral is still unacknowledged, and pushes it again', async () => {
    const resolvedAt = ackBy + 5 * HOUR;
    relay.clock.set(new Date(resolvedAt));
    await resolveEscalation(relay.ctx, first, {
      note: 'Left a voicemail, will try later',
      by: { name: 'Alex Morgan', actor: 'user:alex' },
    });
    const sent = smtp.received.length;
    await tick(resolvedAt + HOUR - 1000);
    assert.equal((await escalations()).length, 1, 'not before ESCALATION_REOPEN_AFTER');
    await tick(resolvedAt + HOUR);
    const rows = await escalations();
    assert.deepEqual(
      rows.map((r) => [r.state, r.previous_id]),
      [
        ['resolved', null],
        ['open', first],
      ],
    );
    const again = rows[1];
    assert.ok(again);
    const messages = await smtp.waitFor(sent + 1);
    assert.deepEqual(messages[sent]?.envelopeTo, [ON_CALL]);
    assert.match(messages[sent]?.parsed.text ?? '', /the problem still stands/);
    assert.equal((await pushesOf(again.id))[0]?.cause, 'reopened');
    // A further sweep opens nothing more: one open escalation per (referral, team, reason).
    await tick(resolvedAt + HOUR + MINUTE);
    assert.equal((await escalations()).filter((r) => r.state !== 'resolved').length, 1);
  });

  it('lets a resolution name an earlier follow-up, and stops watching once the team acknowledges', async () => {
    const [, again] = await escalations();
    assert.ok(again);
    const at = relay.clock.now().getTime();
    await resolveEscalation(relay.ctx, again.id, {
      note: 'Spoke to the duty desk, they are looking for it',
      by: { name: 'Alex Morgan', actor: 'user:alex' },
      followUpAt: new Date(at + 10 * MINUTE),
    });
    await tick(at + 10 * MINUTE);
    const third = (await escalations())[2];
    assert.equal(third?.previous_id, again.id, 'followed up at the named time');
    await resolveEscalation(relay.ctx, third.id, {
      note: 'Team will acknowledge now',
      by: { name: 'Alex Morgan', actor: 'user:alex' },
    });
    const ack = await relay.app.inject({
      method: 'POST',
      url: `/api/v1/referrals/${referral.id}/acknowledgements`,
      headers: { authorization: `Bearer ${relay.teamKey}` },
      payload: { by: 'Sam Patel' },
    });
    assert.equal(ack.statusCode, 201, ack.body);
    await tick(at + 10 * MINUTE + 2 * HOUR);
    const rows = await escalations();
    assert.equal(rows.length, 3, 'an acknowledgement ends the watch');
    assert.ok(rows.every((r) => r.state === 'resolved' && r.follow_up_at === null));
  });
});
