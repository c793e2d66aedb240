import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import nodemailer from 'nodemailer';
import { intakeReferral } from '../../src/referrals/referral.service.ts';
import { waitForAll } from '../../bench/dispatch.bench.ts';
import { benchDirectory } from '../../bench/lib/directory.ts';
import { benchReferral } from '../../bench/lib/relay.ts';
import { coresBusy, harnessCpuPerReferral, ratiosByRound } from '../../bench/lib/rounds.ts';
import { meterCpu, REAPED_CHILDREN } from '../../bench/lib/cpu.ts';
import type { EndToEndRow } from '../../bench/lib/e2e.ts';
import { seedScale } from '../../bench/lib/scale.seed.ts';
import { startSink, type Sink } from '../../bench/lib/sink.ts';
import { alternatingOrder, formatSpread, spread } from '../../bench/lib/stats.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

/** Sunday 03:09 in London, when the demo directory's adult team is closed; a Wednesday morning, when it is open. */
const NIGHT = '2026-12-06T03:09:00Z';
const OFFICE_HOURS = '2026-12-09T10:00:00Z';

describe('benchmark figures across rounds', () => {
  it('gives the median and the range, the median of an even count being the mean of the middle two', () => {
    assert.deepEqual(spread([3, 1, 2]), { n: 3, median: 2, min: 1, max: 3 });
    assert.deepEqual(spread([10, 40, 20, 30]), { n: 4, median: 25, min: 10, max: 40 });
    assert.equal(formatSpread(spread([0.61, 0.57, 0.64]), 2), '0.61 (0.57–0.64)');
    assert.equal(formatSpread(spread([]), 2), '—');
  });

  it('leaves out what did not measure (NaN) instead of letting it poison the median', () => {
    assert.deepEqual(spread([5, Number.NaN, 7]), { n: 2, median: 6, min: 5, max: 7 });
  });

  it('rotates the order of the contenders so each goes first once in as many rounds', () => {
    const order = alternatingOrder(['relay', 'bullmq', 'ceiling'], 5);
    assert.equal(order.length, 5);
    assert.deepEqual(
      order.map((round) => round[0]),
      ['relay', 'bullmq', 'ceiling', 'relay', 'bullmq'],
    );
    for (const round of order) assert.deepEqual([...round].sort(), ['bullmq', 'ceiling', 'relay']);
  });

  it('takes Relay over the ceiling within each round, never across rounds', () => {
    const row = (system: string, round: number, perSecond: number) => ({
      system,
      round,
      perSecond,
      n: 100,
      seconds: 1,
      cpuMsPerEmail: 1,
      complete: true,
    });
    const rows = [
      row('ceiling: 5 connections', 1, 400),
      row('Relay dispatcher (sqlite)', 1, 300),
      row('Relay dispatcher (sqlite)', 2, 300),
      row('ceiling: 5 connections', 2, 200),
    ];
    assert.deepEqual(ratiosByRound(rows), [0.75, 1.5]);
  });

  it('counts a load generator that ran and exited between the readings', () => {
    const stop = meterCpu({ load: () => REAPED_CHILDREN });
    // A child that runs until it has used 200 ms of CPU, however busy the machine, then exits.
    execFileSync(process.execPath, [
      '-e',
      'while ((process.cpuUsage().user + process.cpuUsage().system) / 1000 < 200);',
    ]);
    const { load } = stop();
    assert.ok((load ?? 0) >= 150, `the child's 200 ms of CPU, counted ${load} ms`);
  });

  it("gives the harness's CPU per referral and the cores all four kept busy", () => {
    const row = {
      accepted: 1000,
      cpuMs: { system: 3000, store: 1000, load: 1200, sink: 800 },
      meteredSeconds: 4,
    } as unknown as EndToEndRow;
    assert.equal(harnessCpuPerReferral(row), 2);
    assert.equal(coresBusy(row), 1.5);
    assert.ok(
      Number.isNaN(coresBusy({ ...row, cpuMs: { system: 3000 } })),
      'not a guess when the sink was not read',
    );
  });
});

describe('the benchmark sink', () => {
  let sink: Sink;
  before(async () => {
    sink = await startSink();
  });
  after(async () => {
    await sink.close();
  });

  const send = async (referral: string, messageId: string) => {
    const transport = nodemailer.createTransport({ url: sink.url, ignoreTLS: true } as Parameters<
      typeof nodemailer.createTransport
    >[0]);
    await transport.sendMail({
      from: 'relay@localhost',
      to: 'team@example.org',
      subject: 'Safeguarding referral',
      text: 'body',
      messageId,
      headers: { 'X-Relay-Referral': referral },
    });
    transport.close();
  };

  it('counts each delivery of a referral, so two emails for one referral are two arrivals', async () => {
    sink.reset();
    await send('referral-1', '<delivery-a@relay>');
    await send('referral-1', '<delivery-b@relay>');
    assert.equal(await sink.waitFor(2, 5000), true);
    assert.equal(sink.counts.size, 1, 'one referral');
    assert.equal(sink.deliveries.size, 2, 'two deliveries');
  });

  it('fails with the count it reached, instead of waiting on, when an email never arrives', async () => {
    sink.reset();
    await send('referral-2', '<delivery-c@relay>');
    await assert.rejects(
      waitForAll(sink, 2, 300, 'Relay dispatcher (sqlite)'),
      /Relay dispatcher \(sqlite\): only 1 of 2 emails reached the sink within 0 s/,
    );
  });
});

describeEachDialect('the benchmark workload at any hour', (dialect) => {
  const deliveriesAt = async (now: string, directory?: unknown) => {
    const relay = await createTestRelay(dialect, { now, ...(directory ? { directory } : {}) });
    try {
      const body = benchReferral('hours', 1, Date.parse(now));
      const { id } = await intakeReferral(relay.ctx, body, { actor: 'test' });
      const rows = await relay.ctx.db.kysely
        .selectFrom('deliveries')
        .select('address')
        .where('referral_id', '=', id)
        .execute();
      return rows.map((r) => r.address).sort();
    } finally {
      await relay.close();
    }
  };

  it('is one email to the adult team by night and by day with the benchmark directory', async () => {
    const directory = await benchDirectory();
    assert.deepEqual(await deliveriesAt(NIGHT, directory), ['adults.birmingham@example.org']);
    assert.deepEqual(await deliveriesAt(OFFICE_HOURS, directory), ['adults.birmingham@example.org']);
  });

  it('would be two emails at night with the demo directory (why the benchmark has its own)', async () => {
    assert.deepEqual(await deliveriesAt(NIGHT), [
      'adults.birmingham@example.org',
      'out-of-hours.birmingham@example.org',
    ]);
  });

  const seedAtNight = async (directory?: unknown) => {
    const relay: TestRelay = await createTestRelay(dialect, {
      now: NIGHT,
      ...(directory ? { directory } : {}),
    });
    try {
      await seedScale(relay.ctx, 20);
      const count = async (table: 'referrals' | 'routes' | 'deliveries') =>
        Number(
          (
            await relay.ctx.db.kysely
              .selectFrom(table)
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      return { referrals: await count('referrals'), routes: await count('routes') };
    } finally {
      await relay.close();
    }
  };

  it('seeds the scale database at night: one route per routed referral', async () => {
    const { referrals, routes } = await seedAtNight(await benchDirectory());
    // The template and its 20 clones; the clones in triage (none of 20: every 53rd) have no route.
    assert.equal(referrals, 21);
    assert.equal(routes, 21);
  });

  it('refuses, saying why, to seed from a template with two routes', async () => {
    await assert.rejects(seedAtNight(), /the template has 2 and 2 \(is the benchmark directory loaded\?\)/);
  });
});
