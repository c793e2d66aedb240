import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { recentReferral } from '../helpers/referrals.ts';
import { eventually, useProcessRelaySuite } from '../helpers/process.ts';
import type { ReceivedMessage } from '../helpers/smtp.ts';

const ON_CALL = 'jo.oncall@ambulance.example';
const LEAD = 'lead@ambulance.example';
const CLAIM_BY_MS = 6000;

describeEachDialect('an escalation nobody claims, in the real process', (dialect) => {
  const suite = useProcessRelaySuite(dialect, {
    WATCHDOG_INTERVAL_MS: '1000',
    ACK_BY_ROUTINE: '6s',
    REMINDER_BEFORE: '3s',
    DISPATCH_POLL: '200ms',
    TEST_ALERT_INTERVAL: 'off',
    ESCALATION_CLAIM_BY: `${CLAIM_BY_MS}ms`,
    ESCALATION_LADDER: LEAD,
    ESCALATION_REOPEN_AFTER: '4s',
  });
  before(() => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const to = new Date(Date.now() + 24 * 3600_000).toISOString();
    suite().run(['oncall', 'set', '--email', ON_CALL, '--from', from, '--to', to]);
  });

  const pushTo = (address: string, text: RegExp) => (m: ReceivedMessage) =>
    m.envelopeTo.includes(address) &&
    /^Relay escalation: not-acknowledged/.test(m.parsed.subject ?? '') &&
    text.test(m.parsed.text ?? '');
  const waitForMail = async (match: (m: ReceivedMessage) => boolean, what: string) => {
    // Generous: the machine is loaded; the order and the "not before" checks are what matter.
    const { smtp } = suite();
    await eventually(async () => smtp.received.some(match), what, 120_000);
    return smtp.received.find(match) as ReceivedMessage;
  };

  it('tells the person on call, then the next rung, and after "will try later" tells them again', async () => {
    const { base, database, run, epcrKey, start, postReferral } = suite();
    const key = epcrKey('e2e-epcr');
    const safeguardingKey = run([
      'apikey',
      'create',
      '--name',
      'e2e safeguarding',
      '--scope',
      'escalations:write',
    ]);
    const relay = await start();
    const created = await postReferral(
      key,
      recentReferral({ system: 'e2e-epcr', reference: `NOCLAIM-${Date.now()}` }, { urgency: 'routine' }),
    );
    assert.equal(created.status, 201);
    const doc = (await created.json()) as { id: string; reference: string };
    const db = database.db.kysely;
    const escalations = () =>
      db
        .selectFrom('escalations')
        .selectAll()
        .where('referral_id', '=', doc.id)
        .where('reason', '=', 'not-acknowledged')
        .orderBy('opened_at')
        .execute();

    const first = await waitForMail(
      pushTo(ON_CALL, /It has just opened and you are on call/),
      'on-call push',
    );
    assert.ok(first.parsed.subject?.includes(doc.reference));
    const [opened] = await escalations();
    assert.ok(opened);
    assert.equal(opened.assigned_to, ON_CALL);
    assert.ok(
      first.parsed.text?.includes(`${base}/safeguarding/escalations/${opened.id}`),
      'the link to claim it',
    );

    await waitForMail(pushTo(LEAD, /Nobody has claimed it in time/), 'the next rung');
    const pushesOf = () =>
      db
        .selectFrom('escalation_pushes')
        .select(['recipient', 'created_at', 'state'])
        .where('escalation_id', '=', opened.id)
        .orderBy('created_at')
        .execute();
    // The email arrives before Relay hears the server's answer and records the push as sent.
    await eventually(
      async () => (await pushesOf()).every((p) => p.state !== 'queued'),
      'both pushes recorded after sending',
    );
    const pushes = await pushesOf();
    assert.deepEqual(
      pushes.map((p) => [p.recipient, p.state]),
      [
        [ON_CALL, 'sent'],
        [LEAD, 'sent'],
      ],
    );
    const waited = Date.parse(pushes[1]?.created_at ?? '') - Date.parse(pushes[0]?.created_at ?? '');
    assert.ok(waited >= CLAIM_BY_MS, `the ladder waited ESCALATION_CLAIM_BY (${waited} ms)`);

    const resolved = await fetch(`${base}/api/v1/escalations/${opened.id}/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${safeguardingKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ by: 'Alex Morgan', note: 'Left a voicemail, will try later' }),
    });
    assert.equal(resolved.status, 200, await resolved.text());

    await waitForMail(pushTo(ON_CALL, /the problem still stands/), 'the push of the re-opened escalation');
    const rows = await escalations();
    assert.deepEqual(
      rows.map((r) => [r.state === 'resolved', r.previous_id]),
      [
        [true, null],
        [false, opened.id],
      ],
    );

    relay.child.kill('SIGTERM');
    assert.equal(await relay.exited, 0);
  });
});
