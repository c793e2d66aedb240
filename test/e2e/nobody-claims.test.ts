import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../helpers/db.ts';
import { eventually, freePort, runRelay, startRelay, type RelayProcess } from '../helpers/process.ts';
import { startTestSmtpServer, type ReceivedMessage, type TestSmtpServer } from '../helpers/smtp.ts';

const ON_CALL = 'jo.oncall@ambulance.example';
const LEAD = 'lead@ambulance.example';
const CLAIM_BY_MS = 6000;

function recentRoutineReferral() {
  const occurredAt = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const base = exampleReferral();
  return exampleReferral({
    source: { system: 'e2e-epcr', reference: `NOCLAIM-${Date.now()}` },
    urgency: 'routine',
    incident: { ...base.incident, occurredAt },
  });
}

describeEachDialect('an escalation nobody claims, in the real process', (dialect) => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let relay: RelayProcess | undefined;
  let env: Record<string, string>;

  before(async () => {
    database = await createTestDatabase(dialect, { migrate: false });
    smtp = await startTestSmtpServer();
    const port = await freePort();
    env = {
      DATABASE_URL: database.url,
      ...(database.pgSchema ? { PGOPTIONS: `-c search_path=${database.pgSchema}` } : {}),
      PORT: String(port),
      BASE_URL: `http://127.0.0.1:${port}`,
      SMTP_URL: smtp.url,
      WATCHDOG_INTERVAL_MS: '1000',
      ACK_BY_ROUTINE: '6s',
      REMINDER_BEFORE: '3s',
      DISPATCH_POLL: '200ms',
      TEST_ALERT_INTERVAL: 'off',
      ESCALATION_CLAIM_BY: `${CLAIM_BY_MS}ms`,
      ESCALATION_LADDER: LEAD,
      ESCALATION_REOPEN_AFTER: '4s',
    };
    assert.equal(runRelay(['directory', 'import', 'src/directory/demo-directory.json'], env).status, 0);
    const from = new Date(Date.now() - 60_000).toISOString();
    const to = new Date(Date.now() + 24 * 3600_000).toISOString();
    const set = runRelay(['oncall', 'set', '--email', ON_CALL, '--from', from, '--to', to], env);
    assert.equal(set.status, 0, set.stderr);
  });
  after(async () => {
    relay?.child.kill('SIGKILL');
    await smtp.close();
    await database.drop();
  });

  const pushTo = (address: string, text: RegExp) => (m: ReceivedMessage) =>
    m.envelopeTo.includes(address) &&
    /^Relay escalation: not-acknowledged/.test(m.parsed.subject ?? '') &&
    text.test(m.parsed.text ?? '');
  const waitForMail = async (match: (m: ReceivedMessage) => boolean, what: string) => {
    // Generous: the machine is loaded; the order and the "not before" checks are what matter.
    await eventually(async () => smtp.received.some(match), what, 120_000);
    return smtp.received.find(match) as ReceivedMessage;
  };

  it('tells the person on call, then the next rung, and after "will try later" tells them again', async () => {
    const key = runRelay(
      ['apikey', 'create', '--name', 'e2e', '--scope', 'referrals:write', '--system', 'e2e-epcr'],
      env,
    ).stdout.trim();
    const safeguardingKey = runRelay(
      ['apikey', 'create', '--name', 'e2e safeguarding', '--scope', 'escalations:write'],
      env,
    ).stdout.trim();
    relay = startRelay(env);
    await relay.waitForOutput(/is running/);
    const base = env.BASE_URL as string;
    const created = await fetch(`${base}/api/v1/referrals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(recentRoutineReferral()),
    });
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
    relay = undefined;
  });
});
