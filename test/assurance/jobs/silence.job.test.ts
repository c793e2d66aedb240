import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SILENCE_JOB, silenceJob } from '../../../src/assurance/jobs/silence.job.ts';
import { assessSilence, workingElapsed } from '../../../src/assurance/jobs/silence.rules.ts';
import type { Team } from '../../../src/directory/directory.types.ts';
import { DAY, HOUR } from '../../../src/time.ts';
import { describeEachDialect } from '../../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { escalationsOf, seedRoutes, type SeedRoute } from './seed.ts';

const NOW = Date.parse('2026-11-25T00:10:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A route every six hours from `from` to `to`, acknowledged an hour later when `acked(i)` says so. */
function every6h(teamId: string, from: string, to: string, acked: (i: number) => boolean): SeedRoute[] {
  const seeds = [];
  for (let t = Date.parse(from), i = 0; t < Date.parse(to); t += 6 * HOUR, i++) {
    seeds.push({ teamId, receivedAt: iso(t), acknowledgedAt: acked(i) ? iso(t + HOUR) : null });
  }
  return seeds;
}

describeEachDialect('silence per destination', (dialect) => {
  let relay: TestRelay;
  const db = () => relay.ctx.db.kysely;

  before(async () => {
    relay = await createTestRelay(dialect, { now: iso(NOW) });
    // The out-of-hours teams never close, so elapsed time is plain calendar time here.
    await seedRoutes(db(), [
      // Acknowledged everything until the 21st, then nothing for four days while referrals kept coming.
      ...every6h('dudley-out-of-hours', '2026-10-27T00:00:00Z', '2026-11-21T00:00:00Z', () => true),
      ...every6h('dudley-out-of-hours', '2026-11-21T00:00:00Z', '2026-11-25T00:00:00Z', () => false),
      // Healthy: the only one waiting arrived six hours ago.
      ...every6h('coventry-out-of-hours', '2026-10-27T00:00:00Z', '2026-11-24T18:00:00Z', () => true),
      { teamId: 'coventry-out-of-hours', receivedAt: '2026-11-24T18:00:00Z' },
      // Still answering, but only one in four this week against nearly all before.
      ...every6h('sandwell-out-of-hours', '2026-10-27T00:00:00Z', '2026-11-18T00:00:00Z', () => true),
      ...every6h('sandwell-out-of-hours', '2026-11-18T00:00:00Z', '2026-11-25T00:00:00Z', (i) => i % 4 === 3),
      // Sent one referral in a month, which it acknowledged: quiet, not silent.
      {
        teamId: 'walsall-out-of-hours',
        receivedAt: '2026-11-05T10:00:00Z',
        acknowledgedAt: '2026-11-05T10:30:00Z',
      },
    ]);
  });
  after(async () => relay.close());

  it('escalates a team that stopped acknowledging and one whose rate fell, and no other', async () => {
    assert.equal(await silenceJob()(relay.ctx, relay.clock.now()), true);
    const opened = await escalationsOf(db(), 'destination-silent');
    const byTeam = Object.fromEntries(opened.map((e) => [e.team_id, JSON.parse(e.detail)]));
    assert.deepEqual(Object.keys(byTeam).sort(), ['dudley-out-of-hours', 'sandwell-out-of-hours']);
    assert.equal(byTeam['dudley-out-of-hours'].rule, 'no-acknowledgement');
    assert.equal(byTeam['dudley-out-of-hours'].thresholdHours, 48);
    assert.equal(byTeam['dudley-out-of-hours'].silentHours, 96.2);
    assert.equal(byTeam['sandwell-out-of-hours'].rule, 'rate-drop');
    assert.ok(byTeam['sandwell-out-of-hours'].recentRate < 0.3);
    assert.ok(byTeam['sandwell-out-of-hours'].usualRate > 0.8);
    assert.ok(opened.every((e) => e.dedupe_key.endsWith(':2026-11-24') && e.referral_id === null));
  });

  it('runs once a day, and does not pile a second escalation on one still open', async () => {
    assert.equal(await silenceJob()(relay.ctx, relay.clock.now()), false);
    relay.clock.set('2026-11-26T00:10:00Z');
    assert.equal(await silenceJob()(relay.ctx, relay.clock.now()), true);
    assert.equal((await escalationsOf(db(), 'destination-silent')).length, 2);
    const run = await db()
      .selectFrom('scheduled_runs')
      .selectAll()
      .where('job', '=', SILENCE_JOB)
      .where('period', '=', '2026-11-25')
      .executeTakeFirstOrThrow();
    const detail = JSON.parse(run.detail);
    assert.ok(detail.silent.includes('dudley-out-of-hours'));
    assert.deepEqual(detail.escalated, []);
  });
});

describe('silence rules', () => {
  const dayTeam: Team = {
    id: 'day',
    authorityId: 'a',
    kind: 'adults',
    name: 'Day team',
    emailDetail: 'minimal',
    channels: [],
    phones: [],
    hours: {
      weekly: {
        mon: [['09:00', '17:00']],
        tue: [['09:00', '17:00']],
        wed: [['09:00', '17:00']],
        thu: [['09:00', '17:00']],
        fri: [['09:00', '17:00']],
      },
    },
  };
  const elapsed = workingElapsed(dayTeam, [
    { date: '2026-12-25', name: 'Christmas Day' },
    { date: '2026-12-28', name: 'Boxing Day (substitute day)' },
  ]);

  it('leaves weekends and bank holidays out of a day team’s silence', () => {
    // Friday 17:30 to Monday 07:00 counts only Friday evening and early Monday.
    assert.equal(
      elapsed(Date.parse('2026-11-20T17:30:00Z'), Date.parse('2026-11-23T07:00:00Z')),
      13.5 * HOUR,
    );
    // Christmas Eve to the Tuesday after: Christmas Day, the weekend and the substitute day are out.
    assert.equal(elapsed(Date.parse('2026-12-24T00:00:00Z'), Date.parse('2026-12-29T00:00:00Z')), DAY);
  });

  it('does not call a day team silent over an ordinary weekend', () => {
    const now = Date.parse('2026-11-23T08:00:00Z');
    const acks = Array.from({ length: 20 }, (_, i) => Date.parse('2026-11-09T10:00:00Z') + i * 12 * HOUR);
    const sent = [{ createdAt: Date.parse('2026-11-20T17:30:00Z'), ackBy: now + DAY, acknowledgedAt: null }];
    assert.equal(
      assessSilence({ sent, acks: acks.filter((a) => a < sent[0]!.createdAt) }, now, elapsed),
      undefined,
    );
    const calendar = workingElapsed(undefined, []);
    assert.equal(
      assessSilence({ sent, acks: acks.filter((a) => a < sent[0]!.createdAt) }, now, calendar)?.rule,
      'no-acknowledgement',
    );
  });

  it('needs five due referrals this week before judging a rate', () => {
    const now = NOW;
    const sent = Array.from({ length: 4 }, (_, i) => ({
      createdAt: now - (i + 1) * DAY,
      ackBy: now - (i + 1) * DAY + HOUR,
      acknowledgedAt: i === 0 ? now - DAY + HOUR : null,
    }));
    assert.equal(
      assessSilence({ sent, acks: [now - DAY + HOUR] }, now, workingElapsed(undefined, [])),
      undefined,
    );
  });
});
