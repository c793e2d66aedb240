import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { DEMO_DIRECTORY_PATH } from '../../src/directory/directory.service.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { recentReferral } from '../helpers/referrals.ts';
import { eventually, useProcessRelaySuite } from '../helpers/process.ts';
import type { ReceivedMessage } from '../helpers/smtp.ts';

const INTERVAL_MS = 1000;

/** The demo directory with Birmingham adults never open, so the deadline alert must wake out-of-hours. */
function closedDayTeamDirectory(): string {
  const directory = JSON.parse(readFileSync(DEMO_DIRECTORY_PATH, 'utf8')) as {
    authorities: { teams: { id: string; hours: unknown }[] }[];
  };
  const team = directory.authorities.flatMap((a) => a.teams).find((t) => t.id === 'birmingham-adults');
  if (!team) throw new Error('demo directory has no birmingham-adults');
  team.hours = { weekly: {} };
  const path = join(mkdtempSync(join(tmpdir(), 'relay-e2e-')), 'directory.json');
  writeFileSync(path, JSON.stringify(directory));
  return path;
}

describeEachDialect('a referral nobody acknowledges, in the real process', (dialect) => {
  const suite = useProcessRelaySuite(
    dialect,
    {
      WATCHDOG_INTERVAL_MS: String(INTERVAL_MS),
      SEND_BY: '3s',
      ACK_BY_ROUTINE: '8s',
      REMINDER_BEFORE: '4s',
      DISPATCH_POLL: '200ms',
      TEST_ALERT_INTERVAL: 'off',
    },
    { directory: closedDayTeamDirectory() },
  );

  const to = (address: string, subject: RegExp) => (m: ReceivedMessage) =>
    m.envelopeTo.includes(address) && subject.test(m.parsed.subject ?? '');
  const waitForMail = async (match: (m: ReceivedMessage) => boolean, what: string) => {
    const { smtp } = suite();
    await eventually(async () => smtp.received.some(match), what);
    return smtp.received.find(match) as ReceivedMessage;
  };

  it('reminds, alerts the secondary address and out-of-hours, escalates within one interval, and closes on acknowledgement', async () => {
    const { base, database, epcrKey, start, postReferral } = suite();
    const key = epcrKey('e2e-epcr');
    const relay = await start();
    const auth = { authorization: `Bearer ${key}` };
    const created = await postReferral(
      key,
      recentReferral({ system: 'e2e-epcr', reference: `NOACK-${Date.now()}` }, { urgency: 'routine' }),
    );
    assert.equal(created.status, 201);
    const doc = (await created.json()) as {
      id: string;
      reference: string;
      routes: { team: string; ackBy: string }[];
    };
    assert.deepEqual(
      doc.routes.map((r) => r.team),
      ['birmingham-adults'],
      'routine: no out-of-hours copy at intake',
    );
    const ackBy = Date.parse(doc.routes[0]!.ackBy);

    const referralMail = await waitForMail(
      to('adults.birmingham@example.org', /^\[secure\] Safeguarding referral/),
      'referral email',
    );
    const reminder = await waitForMail(to('adults.birmingham@example.org', /REMINDER/), 'reminder');
    assert.ok(reminder.parsed.subject?.includes(doc.reference));
    await waitForMail(
      to('adults.birmingham.duty@example.org', /NOT ACKNOWLEDGED/),
      'alert to the secondary address',
    );
    await waitForMail(to('out-of-hours.birmingham@example.org', /NOT ACKNOWLEDGED/), 'alert to out-of-hours');

    const status = async () =>
      (await (await fetch(`${base}/api/v1/referrals/${doc.id}`, { headers: auth })).json()) as {
        status: string;
        escalations: { reason: string; state: string; openedAt: string }[];
        acknowledgements: { method: string; by: string }[];
      };
    await eventually(
      async () => (await status()).escalations.some((e) => e.reason === 'not-acknowledged'),
      'escalation',
    );
    const escalation = (await status()).escalations.find((e) => e.reason === 'not-acknowledged')!;
    assert.ok(Date.parse(escalation.openedAt) >= ackBy, 'not before the deadline');
    // The sweep that found the deadline passed opened it, with the alerts: not some later one. (That
    // the first sweep past the deadline finds it is proven with a settable clock in
    // test/assurance/watchdog.test.ts; a real clock on a loaded machine proves no interval.)
    const route = await database.db.kysely
      .selectFrom('routes')
      .select('alerted_at')
      .where('referral_id', '=', doc.id)
      .executeTakeFirstOrThrow();
    assert.equal(Date.parse(escalation.openedAt), Date.parse(route.alerted_at ?? ''));
    assert.equal((await status()).status, 'escalated');

    const link = /Acknowledge receipt: (\S+)/.exec(referralMail.parsed.text ?? '')?.[1];
    assert.ok(link, 'the email carries an acknowledge link');
    const page = await fetch(link);
    assert.equal(page.status, 200);
    const html = await page.text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    const cookie = page.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    assert.ok(csrf && cookie);
    const posted = await fetch(link, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, fullName: 'Sam Okafor' }).toString(),
      redirect: 'manual',
    });
    assert.ok(posted.status < 400, `acknowledging answered ${posted.status}`);
    const after = await status();
    assert.equal(after.status, 'acknowledged');
    assert.deepEqual(
      after.acknowledgements.map((a) => [a.method, a.by]),
      [['link', 'Sam Okafor']],
    );
    assert.ok(
      after.escalations.every((e) => e.state === 'resolved'),
      'acknowledging closed the escalation',
    );

    relay.child.kill('SIGTERM');
    assert.equal(await relay.exited, 0);
  });
});
