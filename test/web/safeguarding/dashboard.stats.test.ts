import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOUR, MINUTE } from '../../../src/time.ts';
import {
  ackDurations,
  ackStats,
  ackStatsByTeam,
  dailyVolume,
  firstDayOf,
} from '../../../src/web/safeguarding/dashboard.stats.ts';

describe('dashboard stats', () => {
  it('puts each UTC hour on its London day, summer and winter', () => {
    const counts = (hours: [string, number][], now: string) =>
      dailyVolume(
        hours.map(([hour, count]) => ({ hour, count })),
        new Date(now),
        3,
      ).map((d) => `${d.date}=${d.count}`);
    // Summer: London is UTC+1, so 23:00 UTC is already tomorrow.
    assert.deepEqual(
      counts(
        [
          ['2026-07-01T00', 1],
          ['2026-07-01T22', 2],
          ['2026-07-01T23', 4],
        ],
        '2026-07-02T12:00:00Z',
      ),
      ['2026-06-30=0', '2026-07-01=3', '2026-07-02=4'],
    );
    // Winter: London is UTC.
    assert.deepEqual(
      counts(
        [
          ['2026-11-24T23', 4],
          ['2026-11-25T00', 1],
        ],
        '2026-11-25T12:00:00Z',
      ),
      ['2026-11-23=0', '2026-11-24=4', '2026-11-25=1'],
    );
  });

  it('starts a period of n days on the London date n − 1 days before today', () => {
    assert.equal(firstDayOf(new Date('2026-11-25T11:00:00Z'), 30), '2026-10-27');
    assert.equal(firstDayOf(new Date('2026-07-01T23:30:00Z'), 1), '2026-07-02', 'already 2 July in London');
  });

  it('reads "created acknowledged" pairs as durations, ascending, exactly as Date.parse would', () => {
    const pairs = [
      ['2026-11-25T10:00:00.000Z', '2026-11-25T10:20:00.000Z'],
      ['2026-11-25T23:59:59.999Z', '2026-11-26T00:00:00.001Z'], // over midnight
      ['2026-12-31T22:00:00.000Z', '2027-01-01T01:30:00.250Z'], // over the new year
      ['2028-02-28T12:00:00.000Z', '2028-03-01T12:00:00.000Z'], // over a leap day
      ['2026-11-25T10:00:00.000Z', '2026-11-25T10:00:00.000Z'], // at once
    ];
    const expected = pairs.map(([c, a]) => Date.parse(a!) - Date.parse(c!)).sort((x, y) => x - y);
    assert.deepEqual([...ackDurations(pairs.map((p) => p.join(' ')).join(','))], expected);
    assert.deepEqual([...ackDurations(null)], []);
  });

  it('agrees with Date.parse on a thousand arbitrary instants from 1970 to 2100', () => {
    const instant = (k: number) =>
      new Date(((k * 7_919_111_113) % 4_102_444_800_000) + (k % 1000)).toISOString();
    const pairs = Array.from({ length: 1000 }, (_, k) => [instant(k), instant(k + 1)]);
    const expected = pairs.map(([c, a]) => Date.parse(a!) - Date.parse(c!)).sort((x, y) => x - y);
    assert.deepEqual([...ackDurations(pairs.map((p) => p.join(' ')).join(','))], expected);
  });

  it('falls back to Date.parse for any timestamp not in the stored form', () => {
    const pairs =
      '2026-11-25T10:00:00Z 2026-11-25T11:00:00+00:00,2026-07-01T10:00:00.000Z 2026-07-01T12:00:00.000+01:00';
    assert.deepEqual([...ackDurations(pairs)], [HOUR, HOUR]);
  });

  it("gives each team its own figures, and ranks the authority's over all its teams' durations", () => {
    const at = (minutes: number) => new Date(Date.UTC(2026, 10, 25, 10, minutes)).toISOString();
    const pairs = (...minutes: number[]) => minutes.map((m) => `${at(0)} ${at(m)}`).join(',');
    const [dudley] = ackStatsByTeam([
      {
        authorityId: 'dudley',
        teamId: 'fast',
        routes: 3,
        breaches: 0,
        waiting: 0,
        acknowledged: pairs(1, 2, 3),
      },
      {
        authorityId: 'dudley',
        teamId: 'slow',
        routes: 3,
        breaches: 2,
        waiting: 1,
        acknowledged: pairs(50, 60),
      },
    ]);
    // Pooled (1, 2, 3, 50, 60): median rank 3 is 3 min; not the median of the teams' medians.
    assert.equal(dudley?.medianMs, 3 * MINUTE);
    assert.equal(dudley?.routes, 6);
    assert.equal(dudley?.breaches, 2);
    assert.deepEqual(
      dudley?.teams.map((t) => [t.teamId, t.medianMs, t.acknowledged, t.waiting]),
      [
        ['fast', 2 * MINUTE, 3, 0],
        ['slow', 50 * MINUTE, 2, 1],
      ],
    );
  });

  it("ranks an authority's durations (nearest rank) and keeps the counts from the database", () => {
    const at = (minutes: number) => new Date(Date.UTC(2026, 10, 25, 10, minutes)).toISOString();
    const acknowledged = [20, 5, 10].map((m) => `${at(0)} ${at(m)}`).join(',');
    assert.deepEqual(ackStats({ authorityId: 'dudley', routes: 5, breaches: 1, waiting: 1, acknowledged }), {
      authorityId: 'dudley',
      routes: 5,
      acknowledged: 3,
      waiting: 1,
      medianMs: 10 * MINUTE,
      p90Ms: 20 * MINUTE,
      breaches: 1,
    });
    assert.deepEqual(
      ackStats({ authorityId: 'dudley', routes: 1, breaches: 0, waiting: 1, acknowledged: null }),
      {
        authorityId: 'dudley',
        routes: 1,
        acknowledged: 0,
        waiting: 1,
        medianMs: undefined,
        p90Ms: undefined,
        breaches: 0,
      },
    );
  });
});
