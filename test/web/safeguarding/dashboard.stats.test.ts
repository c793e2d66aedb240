import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dailyVolume, firstDayOf } from '../../../src/web/safeguarding/dashboard.stats.ts';

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
});
