import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createApiKey } from '../../../src/access/apikey.service.ts';
import { manifestJob, manifestJobName } from '../../../src/assurance/jobs/manifest.job.ts';
import { EmailChannel } from '../../../src/delivery/channels/email.channel.ts';
import { PERSONAL_FIELDS, unsealField } from '../../../src/records/personal-data.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { assertNothingMoreSent, startTestSmtpServer, type TestSmtpServer } from '../../helpers/smtp.ts';
import { escalationsOf, raiseReferral } from './seed.ts';

interface ManifestBody {
  team: string;
  date: string;
  references: {
    reference: string;
    referralId: string;
    receivedAt: string;
    urgency: string;
    acknowledgedAt: null;
  }[];
}

describeEachDialect('daily manifest', (dialect) => {
  let relay: TestRelay;
  let otherTeamKey: string;
  const yesterday: string[] = [];
  let today: string;
  const db = () => relay.ctx.db.kysely;
  const get = (url: string, key?: string) =>
    relay.app.inject({ method: 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} });
  const dispute = (payload: object, key = relay.teamKey) =>
    relay.app.inject({
      method: 'POST',
      url: '/api/v1/teams/birmingham-adults/manifest/disputes',
      headers: { authorization: `Bearer ${key}` },
      payload,
    });

  before(async () => {
    relay = await createTestRelay(dialect, { now: '2026-11-24T09:30:00Z' });
    for (const ref of ['MANIFEST-1', 'MANIFEST-2']) {
      yesterday.push((await raiseReferral(relay, ref)).reference);
      relay.clock.advance(60_000);
    }
    // 23:59 London on the 24th belongs to the 24th; 00:01 on the 25th does not.
    relay.clock.set('2026-11-24T23:59:00Z');
    yesterday.push((await raiseReferral(relay, 'MANIFEST-3')).reference);
    relay.clock.set('2026-11-25T00:01:00Z');
    today = (await raiseReferral(relay, 'MANIFEST-4')).reference;
    relay.clock.set('2026-11-25T09:00:00Z');
    const other = await createApiKey(
      db(),
      relay.clock,
      { name: 'dudley', scope: 'acknowledgements:write', teamId: 'dudley-adults' },
      'test',
      async () => true,
    );
    otherTeamKey = other.key;
  });
  after(async () => relay.close());

  it("lists yesterday's references for the team by default, and any London date on request", async () => {
    const response = await get('/api/v1/teams/birmingham-adults/manifest', relay.teamKey);
    assert.equal(response.statusCode, 200);
    const body = response.json() as ManifestBody;
    assert.equal(body.team, 'birmingham-adults');
    assert.equal(body.date, '2026-11-24');
    assert.deepEqual(
      body.references.map((r) => r.reference),
      yesterday,
    );
    assert.deepEqual(Object.keys(body.references[0] ?? {}).sort(), [
      'acknowledgedAt',
      'receivedAt',
      'reference',
      'referralId',
      'urgency',
    ]);
    const todays = (
      await get('/api/v1/teams/birmingham-adults/manifest?date=2026-11-25', relay.teamKey)
    ).json();
    assert.deepEqual(
      (todays as ManifestBody).references.map((r) => r.reference),
      [today],
    );
    const empty = await get('/api/v1/teams/birmingham-adults/manifest?date=2026-11-20', relay.teamKey);
    assert.deepEqual((empty.json() as ManifestBody).references, []);
  });

  it('answers only a key bound to that team', async () => {
    assert.equal((await get('/api/v1/teams/birmingham-adults/manifest')).statusCode, 401);
    assert.equal((await get('/api/v1/teams/birmingham-adults/manifest', relay.epcrKey)).statusCode, 403);
    assert.equal((await get('/api/v1/teams/birmingham-adults/manifest', otherTeamKey)).statusCode, 403);
    assert.equal((await get('/api/v1/teams/dudley-adults/manifest', relay.teamKey)).statusCode, 403);
    const bad = await get('/api/v1/teams/birmingham-adults/manifest?date=2026-02-30', relay.teamKey);
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().errors[0].path, 'date');
  });

  it('opens one escalation for a disputed reference, however often it is disputed', async () => {
    const reference = yesterday[0] as string;
    const first = await dispute({ reference, reason: 'not-received' });
    assert.equal(first.statusCode, 201);
    assert.equal(first.json().opened, true);
    const again = await dispute({ reference, reason: 'not-received' });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().escalationId, first.json().escalationId);
    const opened = await escalationsOf(db(), 'manifest-disputed');
    assert.equal(opened.length, 1);
    assert.equal(opened[0]?.team_id, 'birmingham-adults');
    const referral = await db()
      .selectFrom('referrals')
      .select(['id', 'status'])
      .where('reference', '=', reference)
      .executeTakeFirstOrThrow();
    assert.equal(opened[0]?.referral_id, referral.id);
    assert.equal(referral.status, 'escalated');
  });

  it('links no referral when the reference was not routed to the team, and keeps the note out of the audit log', async () => {
    const note = 'We have no record of this one';
    const response = await dispute({ reference: 'SR-2026-999999', reason: 'other', note });
    assert.equal(response.statusCode, 201);
    const row = (await escalationsOf(db(), 'manifest-disputed')).find(
      (e) => e.id === response.json().escalationId,
    );
    assert.equal(row?.referral_id, null);
    assert.ok(row && !row.detail.includes(note), 'detail is copied into the audit log');
    const teamNote = unsealField(relay.ctx.config.dataKeys, PERSONAL_FIELDS.teamNote, row.id, row.team_note);
    assert.equal(teamNote, note, 'kept, encrypted, for the person working the escalation');
    const audit = await db().selectFrom('audit_log').select('detail').execute();
    assert.ok(audit.every((a) => !a.detail.includes(note)));
  });

  it('refuses a dispute with bad fields, or from another team', async () => {
    const bad = await dispute({ reference: 'nonsense', reason: 'other' });
    assert.equal(bad.statusCode, 422);
    assert.deepEqual(
      bad
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
      ['note', 'reference'],
    );
    assert.equal(
      (await dispute({ reference: yesterday[1], reason: 'not-ours' }, otherTeamKey)).statusCode,
      403,
    );
    assert.equal((await escalationsOf(db(), 'manifest-disputed')).length, 2);
  });
});

describeEachDialect('daily manifest email', (dialect) => {
  let relay: TestRelay;
  let smtp: TestSmtpServer;
  let email: EmailChannel;
  const references: string[] = [];

  before(async () => {
    smtp = await startTestSmtpServer();
    email = new EmailChannel({ smtpUrl: smtp.url, poolSize: 1, timeoutMs: 30_000 });
    relay = await createTestRelay(dialect, { now: '2026-11-24T10:00:00Z' });
    for (const ref of ['MAIL-1', 'MAIL-2']) references.push((await raiseReferral(relay, ref)).reference);
  });
  after(async () => {
    email.close();
    await relay.close();
    await smtp.close();
  });

  it('emails each team that was sent referrals yesterday its references, once', async () => {
    relay.clock.set('2026-11-25T00:05:00Z');
    const job = manifestJob(email);
    assert.deepEqual(await job(relay.ctx, relay.clock.now()), { sent: 1 });
    const [message] = await smtp.waitFor(1);
    assert.ok(message);
    assert.deepEqual(message.envelopeTo, ['adults.birmingham@example.org']);
    assert.match(message.parsed.subject ?? '', /Daily manifest — 2 referrals — 2026-11-24/);
    for (const reference of references) assert.ok(message.parsed.text?.includes(reference));
    for (const personal of ['Edna', 'Whitfield', '943 476 5919', 'Elmdon', 'B15 2TT', 'nephew']) {
      assert.ok(!message.raw.includes(personal), `no ${personal} in the manifest`);
    }
    assert.deepEqual(await job(relay.ctx, relay.clock.now()), { sent: 0 });
    assert.deepEqual(await manifestJob(email)(relay.ctx, relay.clock.now()), { sent: 0 });
    await assertNothingMoreSent(email, smtp, 1);
    const run = await relay.ctx.db.kysely
      .selectFrom('scheduled_runs')
      .selectAll()
      .where('job', '=', manifestJobName('birmingham-adults'))
      .executeTakeFirstOrThrow();
    assert.equal(run.period, '2026-11-24');
    assert.equal(JSON.parse(run.detail).references, 2);
  });

  it('retries a manifest the mail server refused, after a pause', async () => {
    relay.clock.set('2026-11-25T10:00:00Z');
    await raiseReferral(relay, 'MAIL-3');
    smtp.setMode('451', 1);
    relay.clock.set('2026-11-26T00:05:00Z');
    const job = manifestJob(email);
    assert.deepEqual(await job(relay.ctx, relay.clock.now()), { sent: 0 });
    assert.deepEqual(await job(relay.ctx, relay.clock.now()), { sent: 0 }, 'not again at once');
    relay.clock.advance(11 * 60_000);
    assert.deepEqual(await job(relay.ctx, relay.clock.now()), { sent: 1 });
    await smtp.waitFor(2);
  });
});
