import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { Watchdog } from '../../src/assurance/watchdog.runner.ts';
import {
  importDirectory,
  readDirectoryFile,
  DEMO_DIRECTORY_PATH,
} from '../../src/directory/directory.service.ts';
import { exampleReferral } from '../../src/referrals/referral.example.ts';
import { DIALECTS } from '../helpers/db.ts';
import { parseMetrics, sample } from '../helpers/metrics.ts';
import { dudleyReferral } from '../helpers/referrals.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import type { EscalationReason } from '../../src/db/codes.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Logged {
  obj: Record<string, unknown>;
  msg: string;
}

async function runAndStop(watchdog: Watchdog) {
  await watchdog.runOnce();
  await watchdog.stop();
}

/** A referral no authority covers: it waits in triage. */
function inTriage(reference: string) {
  const base = exampleReferral();
  return exampleReferral({
    source: { system: 'test-epcr', reference },
    incident: { ...base.incident, location: { postcode: 'SW1A 2AA' } },
    subject: {
      ...base.subject,
      address: { line1: '10 Downing Street', town: 'London', postcode: 'SW1A 2AA' },
    },
  });
}

for (const dialect of DIALECTS) {
  describe(`one failing item never stops a sweep [${dialect}]`, () => {
    let relay: TestRelay;
    const logged: Logged[] = [];
    const logger = {
      info: () => undefined,
      error: (obj: object, msg: string) => void logged.push({ obj: obj as Record<string, unknown>, msg }),
    };
    const ids: Record<string, string> = {};

    async function raise(name: string, body: ReturnType<typeof exampleReferral>) {
      const response = await relay.app.inject({
        method: 'POST',
        url: '/api/v1/referrals',
        headers: { authorization: `Bearer ${relay.epcrKey}` },
        payload: body,
      });
      assert.equal(response.statusCode, 201, response.body);
      ids[name] = (response.json() as { id: string }).id;
    }
    const escalations = async (reason: EscalationReason) =>
      (
        await relay.ctx.db.kysely
          .selectFrom('escalations')
          .select('referral_id')
          .where('reason', '=', reason)
          .execute()
      )
        .map((e) => e.referral_id)
        .sort();
    const alertsFor = async (referralId: string) =>
      (
        await relay.ctx.db.kysely
          .selectFrom('deliveries')
          .select('purpose')
          .where('referral_id', '=', referralId)
          .where('purpose', 'in', ['alert-secondary', 'alert-out-of-hours'])
          .execute()
      ).length;
    const readiness = async () => {
      const response = await relay.app.inject({ method: 'GET', url: '/readyz' });
      return (response.json() as { components: { sweep: Record<string, unknown> } }).components.sweep;
    };
    const errorsCounted = async () =>
      parseMetrics((await relay.app.inject({ method: 'GET', url: '/metrics' })).body);

    before(async () => {
      relay = await createTestRelay(dialect, { now: '2026-11-25T11:00:00Z' });
      for (const name of ['a', 'b', 'c']) await raise(name, dudleyReferral(`ISO-${name}`));
      await raise('triage', inTriage('ISO-triage'));
      // Referral a was routed with a later directory version whose teams' hours are unreadable, so
      // alerting for it throws: a real row the sweep cannot handle.
      const demo = (await readDirectoryFile(DEMO_DIRECTORY_PATH)) as { name: string };
      const v2 = await importDirectory(
        relay.ctx.db.kysely,
        relay.clock,
        { ...demo, name: `${demo.name} (second)` },
        { actor: 'test', source: 'test' },
      );
      assert.ok(v2.changed, 'a second directory version');
      await relay.ctx.db.kysely
        .updateTable('teams')
        .set({ hours: '{not json' })
        .where('version_id', '=', v2.versionId)
        .execute();
      await relay.ctx.db.kysely
        .updateTable('referrals')
        .set({ directory_version: v2.versionId })
        .where('id', '=', ids.a as string)
        .execute();
      // A clean third version is current, so intake still routes.
      const v3 = { ...demo, name: `${demo.name} (third)` };
      await importDirectory(relay.ctx.db.kysely, relay.clock, v3, { actor: 'test', source: 'test' });
    });
    after(async () => relay.close());

    it('alerts and escalates every other route, and triage, when one route throws; logs and counts it', async () => {
      // Past every acknowledgement deadline (urgent: 4 h) and the triage deadline.
      relay.clock.advance(5 * HOUR);
      const jobRan: string[] = [];
      const watchdog = new Watchdog(relay.ctx, logger, [
        { name: 'broken', run: () => Promise.reject(new Error('this job always fails')) },
        { name: 'after', run: async () => void jobRan.push('after') },
      ]);
      await watchdog.runOnce();
      // Gives the lease up, so the next test's node sweeps at once.
      await watchdog.stop();

      assert.deepEqual(
        await escalations('not-acknowledged'),
        [ids.a, ids.b, ids.c].sort(),
        "referral a's escalation opens though its alert could not be queued",
      );
      assert.deepEqual(await escalations('triage-overdue'), [ids.triage], 'triage still swept');
      assert.equal(await alertsFor(ids.a as string), 0);
      assert.ok((await alertsFor(ids.b as string)) > 0, "b's alert queued");
      assert.ok((await alertsFor(ids.c as string)) > 0, "c's alert queued");
      assert.deepEqual(jobRan, ['after'], 'the job after the broken one still ran');

      const itemErrors = logged.filter((l) => l.obj.step === 'alert');
      assert.equal(itemErrors.length, 1, 'the failing item is logged once');
      assert.equal(itemErrors[0]?.obj.item !== undefined, true, 'naming the route by id');
      assert.equal(logged.filter((l) => l.obj.job === 'broken').length, 1, 'the failing job is logged');
      const text = JSON.stringify(logged);
      for (const personal of ['Whitfield', 'Edna', 'Castle Hill', 'DY1 4QF', '943 476 5919'])
        assert.equal(text.includes(personal), false, `no personal data in the log (${personal})`);

      const metrics = await errorsCounted();
      assert.equal(sample(metrics, 'relay_sweep_errors_total', { step: 'alert' }), 1);
      assert.equal(sample(metrics, 'relay_sweep_errors_total', { step: 'job' }), 1);
      assert.equal(sample(metrics, 'relay_sweep_errors_total', { step: 'not-acknowledged' }), 0);
      const sweep = await readiness();
      assert.equal(sweep.errors, 1, 'the completed sweep carried on past the failing route');
      assert.equal(typeof sweep.lastCompletedAt, 'string');
      assert.equal(sweep.lastFailedAt, null, 'item and job errors do not fail the sweep');
    });

    it('shows in readiness a sweep that failed as a whole, and still runs the other steps', async () => {
      await raise('late', dudleyReferral('ISO-late'));
      // Its reminder is due (15 minutes before its 4-hour deadline), and it is past its send-by.
      relay.clock.advance(4 * HOUR - 10 * MINUTE);
      const before = await readiness();
      // The triage step's query cannot run (nor can anything that reads the triage queue).
      await sql`alter table triage_items rename to triage_items_gone`.execute(relay.ctx.db.kysely);
      try {
        await runAndStop(new Watchdog(relay.ctx, logger));
      } finally {
        await sql`alter table triage_items_gone rename to triage_items`.execute(relay.ctx.db.kysely);
      }
      const reminders = await relay.ctx.db.kysely
        .selectFrom('deliveries')
        .select('id')
        .where('referral_id', '=', ids.late as string)
        .where('purpose', '=', 'reminder')
        .execute();
      assert.equal(reminders.length, 1, 'the reminder step still ran');
      const sweep = await readiness();
      assert.equal(typeof sweep.lastFailedAt, 'string');
      assert.match(String(sweep.lastFailure), /^triage-overdue: .*triage_items/);
      assert.equal(sweep.lastCompletedAt, before.lastCompletedAt, 'a failed sweep is not a completed one');
      assert.ok(logged.some((l) => /watchdog sweep failed/.test(l.msg)));
      const metrics = await errorsCounted();
      assert.equal(sample(metrics, 'relay_sweep_errors_total', { step: 'triage-overdue' }), 1);
      assert.equal(
        sample(metrics, 'relay_sweep_errors_total', { step: 'not-sent' }),
        1,
        "the late referral's escalation could not be opened (its status reads the triage queue): counted",
      );

      relay.clock.advance(MINUTE);
      await runAndStop(new Watchdog(relay.ctx, logger));
      assert.notEqual(
        (await readiness()).lastCompletedAt,
        before.lastCompletedAt,
        'the next sweep completes',
      );
      assert.ok(
        (await escalations('not-sent')).includes(ids.late as string),
        'and opens what the failed one could not',
      );
    });
  });
}
