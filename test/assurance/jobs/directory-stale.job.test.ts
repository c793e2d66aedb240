import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { DIRECTORY_STALE_JOB, directoryStaleJob } from '../../../src/assurance/jobs/directory-stale.job.ts';
import { editDirectory } from '../../../src/directory/directory.edit.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { parseMetrics, sample } from '../../helpers/metrics.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { apiClient } from '../api.helpers.ts';
import { escalationsOf } from './seed.ts';

// The demo directory's bank holidays end on 2027-12-28: 90 days before is 2027-09-29.
describeEachDialect('directory-stale: the bank-holiday list running out', (dialect) => {
  let relay: TestRelay;
  const db = () => relay.ctx.db.kysely;
  const run = () => directoryStaleJob()(relay.ctx, relay.clock.now());

  before(async () => {
    relay = await createTestRelay(dialect, { now: '2027-09-29T09:00:00Z' });
  });
  after(async () => relay.close());

  it('stays quiet while the list runs for 90 days or more', async () => {
    await run();
    assert.deepEqual(await escalationsOf(db(), 'directory-stale'), []);
  });

  it('opens one system escalation once the list ends within 90 days, shown in metrics and the API', async () => {
    relay.clock.set('2027-09-30T09:00:00Z');
    assert.equal(await run(), true);
    assert.equal(await run(), false, 'once a London day');
    const [opened, ...more] = await escalationsOf(db(), 'directory-stale');
    assert.equal(more.length, 0);
    assert.equal(opened?.state, 'open');
    assert.equal(opened?.referral_id, null);
    assert.equal(opened?.team_id, null);
    assert.equal(JSON.parse(opened?.detail ?? '{}').bankHolidaysEnd, '2027-12-28');
    const runs = await db()
      .selectFrom('scheduled_runs')
      .select('period')
      .where('job', '=', DIRECTORY_STALE_JOB)
      .execute();
    assert.deepEqual(
      runs.map((r) => r.period),
      ['2027-09-30'],
    );

    const metrics = parseMetrics((await relay.app.inject({ url: '/metrics' })).body);
    assert.equal(sample(metrics, 'relay_escalations_open', { reason: 'directory-stale' }), 1);
    const api = apiClient(relay);
    const key = await api.makeKey('safeguarding tooling', 'escalations:write');
    const listed = await relay.app.inject({
      url: '/api/v1/escalations?reason=directory-stale',
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(listed.statusCode, 200, listed.body);
    const { items } = listed.json() as { items: { id: string; reason: string }[] };
    assert.deepEqual(
      items.map((e) => [e.id, e.reason]),
      [[opened?.id, 'directory-stale']],
    );

    relay.clock.set('2027-10-01T09:00:00Z');
    await run();
    assert.equal((await escalationsOf(db(), 'directory-stale')).length, 1, 'the next day: still one');
  });

  it('is resolved by Relay at the next sweep once the list is extended', async () => {
    relay.clock.set('2027-10-01T10:00:00Z');
    await editDirectory(
      db(),
      relay.clock,
      (d) => ({
        ...d,
        bankHolidays: [...d.bankHolidays, { date: '2028-12-25', name: 'Christmas Day' }],
      }),
      'test',
    );
    await run();
    const [resolved] = await escalationsOf(db(), 'directory-stale');
    assert.equal(resolved?.state, 'resolved');
    assert.equal(resolved?.resolved_by, 'Relay');
    assert.match(resolved?.note ?? '', /now runs to 2028-12-25/);
  });
});
