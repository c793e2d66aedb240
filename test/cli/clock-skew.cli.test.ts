import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { pinnedClock, realNow } from '../helpers/clock.ts';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../helpers/db.ts';
import { freePort, startRelay, type RelayProcess } from '../helpers/process.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';

const HOUR = 3_600_000;

// SQLite runs on Relay's own clock, so only PostgreSQL has a second clock to disagree with.
describeEachDialect(
  "relay start with its clock 3 h behind the database server's",
  (dialect) => {
    let database: TestDatabase;
    let smtp: TestSmtpServer;
    let relay: RelayProcess | undefined;
    before(async () => {
      database = await createTestDatabase(dialect, { migrate: false });
      smtp = await startTestSmtpServer();
    });
    after(async () => {
      relay?.child.kill('SIGKILL');
      await relay?.exited;
      await smtp.close();
      await database.drop();
    });

    it('is unready from its first request, says why in the log, and opens a clock-skew escalation', async () => {
      const port = String(await freePort());
      const behind = pinnedClock(new Date(realNow() - 3 * HOUR).toISOString());
      relay = startRelay({
        ...behind.env,
        MAX_CLOCK_SKEW: '30s',
        DATABASE_URL: database.url,
        PGOPTIONS: `-c search_path=${database.pgSchema}`,
        PORT: port,
        SMTP_URL: smtp.url,
        TEST_ALERT_INTERVAL: 'off',
      });
      await relay.waitForOutput(/is running/);
      assert.match(relay.output(), /clock disagrees with the database server's by more than MAX_CLOCK_SKEW/);

      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      const body = (await ready.json()) as { reasons: string[]; components: { clock?: { stale: boolean } } };
      assert.equal(ready.status, 503);
      assert.equal(body.components.clock?.stale, true);
      assert.ok(
        body.reasons.some((r) =>
          /^clock: this node's clock is 108\d\d s behind the database server's/.test(r),
        ),
        JSON.stringify(body.reasons),
      );
      const escalations = await database.db.kysely
        .selectFrom('escalations')
        .select(['state', 'reason'])
        .where('reason', '=', 'clock-skew')
        .execute();
      assert.deepEqual(escalations, [{ state: 'open', reason: 'clock-skew' }]);
    });
  },
  { only: ['postgres'] },
);
