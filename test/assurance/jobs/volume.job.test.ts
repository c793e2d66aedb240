import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { VOLUME_JOB, volumeJob } from '../../../src/assurance/jobs/volume.job.ts';
import { HOUR } from '../../../src/time.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { escalationsOf, seedRoutes } from './seed.ts';

/** `count` referrals spread through a London day (GMT in November), from 00:30 on. */
function day(date: string, count: number) {
  const start = Date.parse(`${date}T00:30:00Z`);
  return Array.from({ length: count }, (_, i) => ({
    receivedAt: new Date(start + (i * 23 * HOUR) / Math.max(count, 1)).toISOString(),
  }));
}

describeEachDialect('volume check', (dialect) => {
  let relay: TestRelay;
  const db = () => relay.ctx.db.kysely;

  before(async () => {
    relay = await createTestRelay(dialect, { now: '2026-11-25T00:10:00Z' });
    // Four ordinary Tuesdays of 10, then a Tuesday with 2 (a source stopped at breakfast).
    await seedRoutes(db(), [
      ...day('2026-10-27', 10),
      ...day('2026-11-03', 10),
      ...day('2026-11-10', 12),
      ...day('2026-11-17', 8),
      ...day('2026-11-24', 2),
      // Other weekdays do not count towards a Tuesday's average.
      ...day('2026-11-23', 30),
    ]);
  });
  after(async () => relay.close());

  it("raises one volume-drop escalation when yesterday fell below half the same weekday's average", async () => {
    assert.equal(await volumeJob()(relay.ctx, relay.clock.now()), true);
    const opened = await escalationsOf(db(), 'volume-drop');
    assert.equal(opened.length, 1);
    assert.equal(opened[0]?.team_id, null);
    assert.equal(opened[0]?.referral_id, null);
    assert.deepEqual(JSON.parse(opened[0]?.detail ?? '{}'), { date: '2026-11-24', count: 2, average: 10 });
    assert.match(opened[0]?.dedupe_key ?? '', /:2026-11-24$/);
  });

  it('runs once per London day, on this node or another', async () => {
    const job = volumeJob();
    relay.clock.set('2026-11-25T16:00:00Z');
    assert.equal(await job(relay.ctx, relay.clock.now()), false);
    assert.equal(await job(relay.ctx, relay.clock.now()), false);
    assert.equal((await escalationsOf(db(), 'volume-drop')).length, 1);
    const runs = await db().selectFrom('scheduled_runs').selectAll().where('job', '=', VOLUME_JOB).execute();
    assert.equal(runs.length, 1);
    assert.equal(JSON.parse(runs[0]?.detail ?? '{}').dropped, true);
  });

  it('stays quiet on an ordinary day', async () => {
    // Tuesday 1 December: 7 against the average of 2, 8, 12 and 10 (8).
    await seedRoutes(db(), day('2026-12-01', 7));
    relay.clock.set('2026-12-02T07:00:00Z');
    assert.equal(await volumeJob()(relay.ctx, relay.clock.now()), true);
    assert.equal((await escalationsOf(db(), 'volume-drop')).length, 1);
  });

  it('stays quiet when the usual volume is too low to tell a drop from chance', async () => {
    // Wednesday 25 November had nothing, but Wednesdays average under VOLUME_MIN_AVERAGE (0 here).
    relay.clock.set('2026-11-26T07:00:00Z');
    assert.equal(await volumeJob()(relay.ctx, relay.clock.now()), true);
    assert.equal((await escalationsOf(db(), 'volume-drop')).length, 1);
  });
});
