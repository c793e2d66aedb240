import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { assuranceJobs } from '../../../src/assurance/jobs/jobs.ts';
import { Watchdog } from '../../../src/assurance/watchdog.runner.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';

describeEachDialect('assurance jobs on the watchdog', (dialect) => {
  let relay: TestRelay;
  const errors: object[] = [];
  const logger = { info: () => undefined, error: (obj: object) => void errors.push(obj) };
  const count = async (table: 'test_alerts' | 'scheduled_runs' | 'heartbeats') =>
    Number(
      (
        await relay.ctx.db.kysely
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  before(async () => {
    relay = await createTestRelay(dialect, { now: '2026-11-25T11:00:00Z' });
  });
  after(async () => relay.close());

  it('runs every job after the sweep', async () => {
    const watchdog = new Watchdog(relay.ctx, logger, assuranceJobs(undefined));
    await watchdog.runOnce();
    await watchdog.stop();
    assert.deepEqual(errors, []);
    assert.equal(await count('test_alerts'), 20);
    // The volume and silence checks ran for yesterday and the retention purge for today; without a
    // mailer no report was claimed.
    assert.equal(await count('scheduled_runs'), 20 + 3);
    assert.equal(await count('heartbeats'), 1);
  });

  it('logs a failing job and still runs the others and beats', async () => {
    await sql`drop table test_alerts`.execute(relay.ctx.db.kysely);
    await relay.ctx.db.kysely.deleteFrom('heartbeats').execute();
    relay.clock.set('2026-11-26T11:00:00Z');
    const watchdog = new Watchdog(relay.ctx, logger, assuranceJobs(undefined));
    await watchdog.runOnce();
    await watchdog.stop();
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as { job: string }).job, 'test-alerts');
    assert.equal(await count('scheduled_runs'), 23 + 3, "the next day's checks ran");
    assert.equal(await count('heartbeats'), 1);
  });
});
