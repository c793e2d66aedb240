import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveEscalation } from '../../src/assurance/escalation.resolve.ts';
import { disputeManifestEntry } from '../../src/assurance/manifest.service.ts';
import { sweep } from '../../src/assurance/watchdog.ts';
import { verifyAuditChain } from '../../src/records/audit.ts';
import { clearLegalHold, setLegalHold } from '../../src/governance/legal-hold.ts';
import { RETENTION_JOB, retentionJob } from '../../src/assurance/jobs/retention.job.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { readPayload } from '../../src/referrals/referral.access.ts';
import { findReferral } from '../../src/records/referral.repository.ts';
import { DAY, MINUTE } from '../../src/time.ts';
import { apiClient } from '../assurance/api.helpers.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { signedIn } from '../helpers/web.ts';

const START = '2026-11-25T11:00:00Z';
const RETENTION = 2922 * DAY;

describeEachDialect('retention', (dialect) => {
  let relay: TestRelay;
  let api: ReturnType<typeof apiClient>;
  const ref: Record<'old' | 'held' | 'open' | 'recent', { id: string; reference: string }> = {} as never;
  const db = () => relay.ctx.db.kysely;

  /** Raised now, so the incident is recent whatever the clock says. */
  const raise = () =>
    api.raise({
      incident: { ...exampleReferral().incident, occurredAt: relay.clock.now().toISOString() },
    });
  const close = async (id: string) => {
    const response = await api.post(`/api/v1/referrals/${id}/outcomes`, relay.teamKey, {
      outcome: 'advice-given',
      note: 'Advice given to Mrs Whitfield and her nephew.',
    });
    assert.equal(response.statusCode, 201, response.body);
  };
  const rowCounts = async () => {
    const counts: Record<string, number> = {};
    for (const table of ['referrals', 'routes', 'deliveries', 'escalations', 'referral_events'] as const) {
      const row = await db()
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      counts[table] = Number(row.n);
    }
    return counts;
  };

  before(async () => {
    relay = await createTestRelay(dialect, { now: START });
    api = apiClient(relay);
    ref.old = await raise();
    ref.held = await raise();
    ref.open = await raise();
    relay.clock.advance(10 * MINUTE);
    await sweep(relay.ctx);
    const escalation = await db()
      .selectFrom('escalations')
      .select('id')
      .where('referral_id', '=', ref.old.id)
      .executeTakeFirstOrThrow();
    await resolveEscalation(relay.ctx, escalation.id, {
      note: 'Rang the duty desk about Edna Whitfield.',
      by: { name: 'Dana Brooks', actor: 'test' },
    });
    await close(ref.old.id);
    await close(ref.held.id);
    await setLegalHold(relay.ctx, ref.held.reference, 'Claim 2026/118', 'test');
    relay.clock.advance(RETENTION - 2 * DAY);
    ref.recent = await raise();
    await close(ref.recent.id);
    relay.clock.advance(3 * DAY);
  });
  after(() => relay.close());

  const searchRows = async (id: string) =>
    (await db().selectFrom('referral_search_terms').select('digest').where('referral_id', '=', id).execute())
      .length;

  it('purges a referral closed longer ago than the period, and nothing else', async () => {
    assert.ok((await searchRows(ref.old.id)) > 0, 'indexed for search at intake');
    const before = await rowCounts();
    const report = await retentionJob()(relay.ctx, relay.clock.now());
    assert.deepEqual(report, {
      status: 'done',
      purged: 1,
      escalationNotes: 0,
      reviewNotes: 0,
      heldBack: 1,
    });

    const old = await findReferral(db(), ref.old.id);
    assert.ok(old);
    assert.equal(old.purged_at, relay.clock.now().toISOString());
    assert.deepEqual(readPayload(relay.ctx.config.dataKeys, old), {
      purged: true,
      purgedAt: relay.clock.now().toISOString(),
    });
    assert.equal(old.status, 'closed');
    const notes = await db()
      .selectFrom('routes')
      .select('outcome_note')
      .where('referral_id', '=', ref.old.id)
      .execute();
    assert.deepEqual(
      notes.map((n) => n.outcome_note),
      [null],
    );
    const escalations = await db()
      .selectFrom('escalations')
      .select(['note', 'state', 'resolved_by'])
      .where('referral_id', '=', ref.old.id)
      .execute();
    assert.ok(escalations.every((e) => e.note === null));
    assert.ok(escalations.some((e) => e.state === 'resolved' && e.resolved_by === 'Dana Brooks'));

    assert.equal(
      await searchRows(ref.old.id),
      0,
      'its search index rows (digests of personal data) went too',
    );
    for (const kept of [ref.held, ref.open, ref.recent]) {
      assert.ok((await searchRows(kept.id)) > 0, `${kept.reference} is still searchable`);
      const row = await findReferral(db(), kept.id);
      assert.equal(row?.purged_at, null, kept.reference);
      const payload = row && readPayload(relay.ctx.config.dataKeys, row);
      assert.ok(payload && !('purged' in payload), kept.reference);
    }
    const after = await rowCounts();
    const events = (before.referral_events ?? 0) + 1;
    assert.deepEqual(after, { ...before, referral_events: events }, 'no row deleted; one event added');
  });

  it('audits the purge and records the run, without personal data', async () => {
    const audit = await db()
      .selectFrom('audit_log')
      .select(['entity_id', 'detail'])
      .where('action', '=', 'referral.purged')
      .execute();
    assert.deepEqual(
      audit.map((a) => a.entity_id),
      [ref.old.id],
    );
    assert.ok(!audit[0]!.detail.includes('Whitfield'));
    assert.match(audit[0]!.detail, /"outcomeNotes":1/);
    const run = await db()
      .selectFrom('scheduled_runs')
      .selectAll()
      .where('job', '=', RETENTION_JOB)
      .executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(run.detail), {
      status: 'done',
      purged: 1,
      escalationNotes: 0,
      reviewNotes: 0,
      heldBack: 1,
    });
    assert.equal((await verifyAuditChain(db())).ok, true);
  });

  it('keeps the status document, with the removal on its timeline', async () => {
    const response = await relay.app.inject({
      method: 'GET',
      url: `/api/v1/referrals/${ref.old.id}`,
      headers: { authorization: `Bearer ${relay.epcrKey}` },
    });
    assert.equal(response.statusCode, 200, response.body);
    const doc = response.json() as {
      status: string;
      routes: { outcome: string }[];
      timeline: { kind: string }[];
    };
    assert.equal(doc.status, 'closed');
    assert.equal(doc.routes[0]?.outcome, 'advice-given');
    assert.equal(doc.timeline.at(-1)?.kind, 'personal-data-removed');
  });

  it('shows a purged referral as removed on the safeguarding and inbox pages', async () => {
    const safeguarding = (await signedIn(relay, { roles: ['safeguarding'] })).browser;
    const page = await safeguarding.get(`/safeguarding/referrals/${ref.old.reference}`);
    assert.equal(page.statusCode, 200, page.body);
    assert.match(page.body, /Personal data removed on [^<]+ under the retention policy/);
    assert.ok(!page.body.includes('Whitfield'));
    const recipient = (await signedIn(relay, { roles: ['recipient'], name: 'Rita Recipient' })).browser;
    const inbox = await recipient.get(`/inbox/referrals/${ref.old.id}`);
    assert.equal(inbox.statusCode, 200, inbox.body);
    assert.match(inbox.body, /Personal data removed on/);
    assert.match(inbox.body, /Note: removed under the retention policy/);
  });

  it('runs once a day, and purges a referral once its legal hold is cleared', async () => {
    const job = retentionJob();
    assert.equal(await job(relay.ctx, relay.clock.now()), false, 'the day’s run is done');
    await clearLegalHold(relay.ctx, ref.held.reference, 'test');
    relay.clock.advance(DAY);
    const report = await job(relay.ctx, relay.clock.now());
    assert.deepEqual(report, {
      status: 'done',
      purged: 1,
      escalationNotes: 0,
      reviewNotes: 0,
      heldBack: 0,
    });
    assert.ok((await findReferral(db(), ref.held.id))?.purged_at);
    assert.equal((await findReferral(db(), ref.open.id))?.purged_at, null, 'never an unfinished referral');
    const holds = await db()
      .selectFrom('audit_log')
      .select(['action', 'detail'])
      .where('entity_id', '=', ref.held.id)
      .where('action', 'like', 'referral.legal-hold-%')
      .orderBy('seq')
      .execute();
    assert.deepEqual(
      holds.map((h) => h.action),
      ['referral.legal-hold-set', 'referral.legal-hold-cleared'],
    );
    assert.match(holds[0]!.detail, /Claim 2026\/118/);
  });

  it('carries a large day’s purge over several sweeps, so deadline sweeps never wait long', async () => {
    const more = [await raise(), await raise()];
    for (const r of more) await close(r.id);
    // An escalation about no referral of ours still carries a team's note, on the same clock.
    const disputed = await disputeManifestEntry(
      relay.ctx,
      'birmingham-adults',
      { reference: 'SR-2026-999999', reason: 'other', note: 'Not ours: Edna Whitfield?' },
      'test',
    );
    await resolveEscalation(relay.ctx, disputed.escalationId, {
      note: 'Checked with the team.',
      by: { name: 'Dana Brooks', actor: 'test' },
    });
    relay.clock.advance(RETENTION + DAY);
    // Due now: these two and the one closed recently at the first run.
    const job = retentionJob(1);
    const runs = [];
    for (let sweep = 0; sweep < 4; sweep++) runs.push(await job(relay.ctx, relay.clock.now()));
    assert.deepEqual(runs, [
      { status: 'running', purged: 1, escalationNotes: 0 },
      { status: 'running', purged: 2, escalationNotes: 0 },
      { status: 'running', purged: 3, escalationNotes: 0 },
      { status: 'done', purged: 3, escalationNotes: 1, reviewNotes: 0, heldBack: 0 },
    ]);
    const system = await db()
      .selectFrom('escalations')
      .select(['note', 'team_note'])
      .where('id', '=', disputed.escalationId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(system, { note: null, team_note: null });
    assert.equal(await job(relay.ctx, relay.clock.now()), false);
    assert.equal((await findReferral(db(), ref.open.id))?.purged_at, null, 'still never an unfinished one');
  });

  it('refuses a hold on a purged referral, and clearing one that is not held', async () => {
    await assert.rejects(setLegalHold(relay.ctx, ref.old.reference, 'Late claim', 'test'), /already removed/);
    await assert.rejects(clearLegalHold(relay.ctx, ref.open.reference, 'test'), /not on legal hold/);
    await assert.rejects(setLegalHold(relay.ctx, ref.open.reference, '  ', 'test'), /needs a reason/);
    await assert.rejects(setLegalHold(relay.ctx, 'SR-2026-999999', 'x', 'test'), /No referral/);
  });
});
