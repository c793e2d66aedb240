import assert from 'node:assert/strict';
import { before, beforeEach, it } from 'node:test';
import { rotaGapJob } from '../../../src/assurance/jobs/rota-gap.job.ts';
import {
  addShift,
  onCallAt,
  removeShift,
  rotaView,
  whoIsOnCall,
} from '../../../src/assurance/oncall/oncall.service.ts';
import { SettableClock } from '../../../src/clock.ts';
import { createContext, type RelayContext } from '../../../src/context.ts';
import type { RelayError } from '../../../src/errors.ts';
import { describeEachDialect, useTestDatabase } from '../../helpers/db.ts';
import { testConfig } from '../../helpers/relay.ts';

describeEachDialect('the on-call rota', (dialect) => {
  const database = useTestDatabase(dialect);
  let ctx: RelayContext;
  let clock: SettableClock;
  let auditFrom = 0;
  before(() => {
    clock = new SettableClock('2026-12-06T10:00:00Z');
    ctx = createContext(testConfig({ SAFEGUARDING_EMAIL: 'duty.desk@example.org' }), database().db, clock);
  });
  beforeEach(async () => {
    await ctx.db.kysely.deleteFrom('oncall_shifts').execute();
    await ctx.db.kysely.deleteFrom('escalations').execute();
    clock.set('2026-12-06T10:00:00Z');
    const head = await ctx.db.kysely.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow();
    auditFrom = head.seq;
  });

  const auditActions = async () =>
    (
      await ctx.db.kysely
        .selectFrom('audit_log')
        .select(['action', 'entity_id', 'actor'])
        .where('action', 'like', 'oncall.%')
        .where('seq', '>', auditFrom)
        .orderBy('seq')
        .execute()
    ).map((r) => [r.action, r.entity_id, r.actor]);

  it('puts a person on call, tells who is on call when, and audits it', async () => {
    const shift = await addShift(
      ctx,
      { email: 'Jo@Example.org', from: '2026-12-06 09:00', to: '2026-12-07 09:00' },
      'user:u1',
    );
    assert.equal(shift.email, 'jo@example.org');
    assert.equal((await onCallAt(ctx.db.kysely, clock.now()))?.id, shift.id);
    assert.deepEqual(await whoIsOnCall(ctx, clock.now()), { email: 'jo@example.org', source: 'rota' });
    assert.deepEqual(await whoIsOnCall(ctx, new Date('2026-12-07T09:00:00Z')), {
      email: 'duty.desk@example.org',
      source: 'fallback',
    });
    assert.deepEqual(await auditActions(), [['oncall.added', shift.id, 'user:u1']]);
  });

  it('refuses an overlapping entry, naming the one it clashes with, and writes nothing', async () => {
    const first = await addShift(
      ctx,
      { email: 'a@example.org', from: '2026-12-06 09:00', to: '2026-12-07 09:00' },
      'cli',
    );
    await assert.rejects(
      addShift(ctx, { email: 'b@example.org', from: '2026-12-07 08:00', to: '2026-12-08 09:00' }, 'cli'),
      (e: RelayError) =>
        e.code === 'state-conflict' &&
        e.errors?.[0]?.path === 'from' &&
        e.errors[0].message.includes(first.id),
    );
    await addShift(ctx, { email: 'b@example.org', from: '2026-12-07 09:00', to: '2026-12-08 09:00' }, 'cli');
    const view = await rotaView(ctx, clock.now());
    assert.deepEqual(
      view.shifts.map((s) => [s.email, s.current]),
      [
        ['a@example.org', true],
        ['b@example.org', false],
      ],
    );
  });

  it('refuses bad input with every field named, and writes nothing', async () => {
    await assert.rejects(
      addShift(ctx, { email: 'nope', from: '2026-12-08 09:00', to: '2026-12-07 09:00' }, 'cli'),
      (e: RelayError) =>
        e.code === 'validation-failed' && e.errors?.map((i) => i.path).join(',') === 'email,to',
    );
    const rows = await ctx.db.kysely.selectFrom('oncall_shifts').selectAll().execute();
    assert.deepEqual(rows, []);
    assert.deepEqual(await auditActions(), []);
  });

  it('removes an entry by marking it, keeping the row, and refuses to remove it twice', async () => {
    const shift = await addShift(
      ctx,
      { email: 'a@example.org', from: '2026-12-06 09:00', to: '2026-12-07 09:00' },
      'cli',
    );
    await removeShift(ctx, shift.id, 'user:u2');
    assert.equal(await onCallAt(ctx.db.kysely, clock.now()), undefined);
    const row = await ctx.db.kysely.selectFrom('oncall_shifts').selectAll().executeTakeFirstOrThrow();
    assert.equal(row.removed_by, 'user:u2');
    await assert.rejects(removeShift(ctx, shift.id, 'cli'), (e: RelayError) => e.code === 'state-conflict');
    await assert.rejects(removeShift(ctx, 'no-such-id', 'cli'), (e: RelayError) => e.code === 'not-found');
    assert.deepEqual(
      (await auditActions()).map((a) => a[0]),
      ['oncall.added', 'oncall.removed'],
    );
  });

  it('calls out gaps in the next 7 days, and none while the rota is not in use', async () => {
    assert.deepEqual((await rotaView(ctx, clock.now())).gaps, []);
    await addShift(ctx, { email: 'a@example.org', from: '2026-12-06 09:00', to: '2026-12-10 09:00' }, 'cli');
    const gaps = (await rotaView(ctx, clock.now())).gaps;
    assert.deepEqual(
      gaps.map((g) => [g.from.toISOString(), g.to.toISOString()]),
      [['2026-12-10T09:00:00.000Z', '2026-12-13T10:00:00.000Z']],
    );
  });

  it('opens a rota-gap escalation for a gap in the next 7 days, once, and resolves it when the gap is filled', async () => {
    const job = rotaGapJob();
    await addShift(ctx, { email: 'a@example.org', from: '2026-12-06 09:00', to: '2026-12-12 09:00' }, 'cli');
    await job(ctx, clock.now());
    const open = () =>
      ctx.db.kysely.selectFrom('escalations').selectAll().where('reason', '=', 'rota-gap').execute();
    assert.equal((await open()).length, 1);
    assert.equal(JSON.parse((await open())[0]?.detail ?? '{}').from, '2026-12-12T09:00:00.000Z');
    await job(ctx, clock.now());
    assert.equal((await open()).length, 1, 'one escalation, however many sweeps');
    await addShift(ctx, { email: 'b@example.org', from: '2026-12-12 09:00', to: '2026-12-14 09:00' }, 'cli');
    await job(ctx, clock.now());
    const [resolved] = await open();
    assert.equal(resolved?.state, 'resolved');
    assert.equal(resolved?.resolved_by, 'Relay');
  });
});
