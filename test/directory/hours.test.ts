import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { BankHoliday, OpeningHours, Team } from '../../src/directory/directory.types.ts';
import {
  addDays,
  effectiveHours,
  isOpen,
  isTeamOpen,
  isValidIsoDate,
  londonLocal,
  londonToInstant,
  parseClock,
  weekdayOf,
} from '../../src/directory/hours.ts';

const at = (iso: string) => new Date(iso);
const nineToFive = (days = ['mon', 'tue', 'wed', 'thu', 'fri']): OpeningHours => ({
  weekly: Object.fromEntries(days.map((d) => [d, [['09:00', '17:00']]])),
});
const holidays: BankHoliday[] = [{ date: '2026-05-04', name: 'Early May bank holiday' }];

function team(kind: Team['kind'], hours: OpeningHours): Team {
  return {
    id: `t-${kind}`,
    authorityId: 't',
    kind,
    name: 'T',
    emailDetail: 'minimal',
    channels: [],
    phones: [],
    hours,
  };
}

describe('londonLocal', () => {
  it('reads GMT in winter and BST in summer', () => {
    assert.deepEqual(londonLocal(at('2026-01-15T12:00:00Z')), {
      date: '2026-01-15',
      weekday: 'thu',
      minutes: 720,
    });
    assert.deepEqual(londonLocal(at('2026-07-15T12:00:00Z')), {
      date: '2026-07-15',
      weekday: 'wed',
      minutes: 780,
    });
  });

  it('changes date at London midnight, not UTC midnight', () => {
    assert.deepEqual(londonLocal(at('2026-06-01T23:30:00Z')), {
      date: '2026-06-02',
      weekday: 'tue',
      minutes: 30,
    });
    assert.deepEqual(londonLocal(at('2026-12-31T23:59:59Z')), {
      date: '2026-12-31',
      weekday: 'thu',
      minutes: 1439,
    });
    assert.equal(londonLocal(at('2027-01-01T00:00:00Z')).minutes, 0);
  });

  it('jumps from 01:00 to 02:00 on 29 March 2026 and back from 02:00 to 01:00 on 25 October 2026', () => {
    assert.equal(londonLocal(at('2026-03-29T00:59:00Z')).minutes, 59);
    assert.equal(londonLocal(at('2026-03-29T01:00:00Z')).minutes, 120);
    assert.equal(londonLocal(at('2026-10-25T00:30:00Z')).minutes, 90);
    assert.equal(londonLocal(at('2026-10-25T01:30:00Z')).minutes, 90);
  });
});

describe('londonToInstant', () => {
  it('converts wall-clock time with the offset in force that day', () => {
    assert.equal(londonToInstant('2026-01-15', '17:00').toISOString(), '2026-01-15T17:00:00.000Z');
    assert.equal(londonToInstant('2026-07-15', '17:00').toISOString(), '2026-07-15T16:00:00.000Z');
    assert.equal(londonToInstant('2026-03-29', '17:00').toISOString(), '2026-03-29T16:00:00.000Z');
    assert.equal(londonToInstant('2026-10-25', '17:00').toISOString(), '2026-10-25T17:00:00.000Z');
  });

  it('reads 24:00 as the following midnight', () => {
    assert.equal(londonToInstant('2026-07-15', '24:00').toISOString(), '2026-07-15T23:00:00.000Z');
    assert.equal(londonToInstant('2026-12-31', '24:00').toISOString(), '2027-01-01T00:00:00.000Z');
    assert.equal(londonToInstant('2026-03-28', '24:00').toISOString(), '2026-03-29T00:00:00.000Z');
    assert.equal(londonToInstant('2026-03-29', '24:00').toISOString(), '2026-03-29T23:00:00.000Z');
  });

  it('maps a time skipped in spring forward: 01:30 on 29 March 2026 is 02:30 BST', () => {
    const instant = londonToInstant('2026-03-29', '01:30');
    assert.equal(instant.toISOString(), '2026-03-29T01:30:00.000Z');
    assert.equal(londonLocal(instant).minutes, 150);
  });

  it('takes the earlier instant for a time repeated in autumn: 01:30 on 25 October 2026 is 01:30 BST', () => {
    assert.equal(londonToInstant('2026-10-25', '01:30').toISOString(), '2026-10-25T00:30:00.000Z');
    assert.equal(londonToInstant('2026-10-25', '02:00').toISOString(), '2026-10-25T02:00:00.000Z');
    assert.equal(londonToInstant('2026-10-25', '00:59').toISOString(), '2026-10-24T23:59:00.000Z');
  });

  it('rejects impossible dates and times', () => {
    for (const [date, time] of [
      ['2026-02-30', '09:00'],
      ['2026-13-01', '09:00'],
      ['26-01-01', '09:00'],
      ['2026-01-01', '24:01'],
      ['2026-01-01', '9:00'],
      ['2026-01-01', '09:60'],
    ] as const) {
      assert.throws(() => londonToInstant(date, time), RangeError, `${date} ${time}`);
    }
  });

  it('inverts londonLocal for every minute of 2024–2030 (the earlier one in the repeated autumn hour)', () => {
    const minute = fc
      .integer({ min: Date.UTC(2024, 0, 1) / 60_000, max: Date.UTC(2030, 11, 31) / 60_000 })
      .map((m) => new Date(m * 60_000));
    fc.assert(
      fc.property(minute, (instant) => {
        const local = londonLocal(instant);
        const hhmm = `${String(Math.floor(local.minutes / 60)).padStart(2, '0')}:${String(local.minutes % 60).padStart(2, '0')}`;
        const back = londonToInstant(local.date, hhmm).getTime();
        const repeated = back === instant.getTime() - 3_600_000;
        assert.ok(
          back === instant.getTime() || repeated,
          `${instant.toISOString()} → ${new Date(back).toISOString()}`,
        );
      }),
      { numRuns: 2000 },
    );
  });
});

describe('isOpen', () => {
  const hours = nineToFive();

  it('is open within a range and closed at the closing minute', () => {
    assert.equal(isOpen(hours, [], at('2026-01-15T09:00:00Z')), true);
    assert.equal(isOpen(hours, [], at('2026-01-15T16:59:59Z')), true);
    assert.equal(isOpen(hours, [], at('2026-01-15T17:00:00Z')), false);
    assert.equal(isOpen(hours, [], at('2026-01-15T08:59:00Z')), false);
  });

  it('applies BST: 17:00 BST is 16:00Z', () => {
    assert.equal(isOpen(hours, [], at('2026-07-15T15:59:00Z')), true);
    assert.equal(isOpen(hours, [], at('2026-07-15T16:00:00Z')), false);
    assert.equal(isOpen(hours, [], at('2026-07-15T08:00:00Z')), true);
  });

  it('is closed at weekends', () => {
    assert.equal(isOpen(hours, [], at('2026-01-17T12:00:00Z')), false);
    assert.equal(isOpen(hours, [], at('2026-01-18T12:00:00Z')), false);
  });

  it('is closed on a bank holiday unless told otherwise', () => {
    const holidayMorning = at('2026-05-04T09:00:00Z');
    assert.equal(isOpen(hours, holidays, holidayMorning), false);
    assert.equal(isOpen({ ...hours, openOnBankHolidays: true }, holidays, holidayMorning), true);
    assert.equal(isOpen({ always: true }, holidays, holidayMorning), true);
    assert.equal(isOpen(hours, holidays, at('2026-05-05T09:00:00Z')), true);
  });

  it('closes at 17:00 local on the right side of both 2026 clock changes', () => {
    const sundays = nineToFive(['sun']);
    assert.equal(isOpen(sundays, [], at('2026-03-29T15:59:00Z')), true);
    assert.equal(isOpen(sundays, [], at('2026-03-29T16:00:00Z')), false);
    assert.equal(isOpen(sundays, [], at('2026-03-29T08:00:00Z')), true);
    assert.equal(isOpen(sundays, [], at('2026-10-25T16:00:00Z')), true);
    assert.equal(isOpen(sundays, [], at('2026-10-25T17:00:00Z')), false);
    assert.equal(isOpen(sundays, [], at('2026-10-25T08:00:00Z')), false);
    assert.equal(isOpen(hours, [], at('2026-03-27T16:30:00Z')), true);
    assert.equal(isOpen(hours, [], at('2026-03-30T16:00:00Z')), false);
    assert.equal(isOpen(hours, [], at('2026-10-23T16:00:00Z')), false);
    assert.equal(isOpen(hours, [], at('2026-10-26T16:00:00Z')), true);
  });

  it('uses the London weekday when the UTC date differs', () => {
    const mondays: OpeningHours = { weekly: { mon: [['00:00', '24:00']] } };
    assert.equal(isOpen(mondays, [], at('2026-07-05T23:30:00Z')), true);
    assert.equal(isOpen(mondays, [], at('2026-01-04T23:30:00Z')), false);
    assert.equal(isOpen(mondays, [], at('2026-07-06T22:59:00Z')), true);
    assert.equal(isOpen(mondays, [], at('2026-07-06T23:00:00Z')), false);
  });

  it('honours several ranges in a day', () => {
    const split: OpeningHours = {
      weekly: {
        wed: [
          ['09:00', '12:30'],
          ['13:30', '17:00'],
        ],
      },
    };
    assert.equal(isOpen(split, [], at('2026-01-14T12:00:00Z')), true);
    assert.equal(isOpen(split, [], at('2026-01-14T13:00:00Z')), false);
    assert.equal(isOpen(split, [], at('2026-01-14T14:00:00Z')), true);
  });

  it('is closed with no schedule at all', () => {
    assert.equal(isOpen({}, [], at('2026-01-14T12:00:00Z')), false);
  });
});

describe('isTeamOpen and effectiveHours', () => {
  it('counts an out-of-hours team with no schedule as always open', () => {
    const duty = team('out-of-hours', {});
    assert.equal(effectiveHours(duty).always, true);
    assert.equal(isTeamOpen(duty, holidays, at('2026-05-04T03:00:00Z')), true);
    assert.equal(isTeamOpen(team('out-of-hours', { weekly: {} }), [], at('2026-01-14T03:00:00Z')), true);
  });

  it('follows an out-of-hours team schedule when it has one', () => {
    const duty = team('out-of-hours', { weekly: { sat: [['00:00', '24:00']] } });
    assert.equal(isTeamOpen(duty, [], at('2026-01-14T03:00:00Z')), false);
    assert.equal(isTeamOpen(duty, [], at('2026-01-17T03:00:00Z')), true);
  });

  it('treats a day team with no schedule as closed', () => {
    assert.equal(isTeamOpen(team('adults', {}), [], at('2026-01-14T12:00:00Z')), false);
  });
});

describe('calendar helpers', () => {
  it('parseClock reads HH:MM and 24:00 only', () => {
    assert.equal(parseClock('00:00'), 0);
    assert.equal(parseClock('17:30'), 1050);
    assert.equal(parseClock('24:00'), 1440);
    for (const bad of ['24:01', '25:00', '9:00', '09:60', '0900', '', ' 09:00'])
      assert.equal(parseClock(bad), null, bad);
  });

  it('isValidIsoDate accepts real calendar dates only', () => {
    assert.equal(isValidIsoDate('2028-02-29'), true);
    for (const bad of ['2027-02-29', '2026-04-31', '2026-1-01', '2026-00-10', 'yesterday', '']) {
      assert.equal(isValidIsoDate(bad), false, bad);
    }
  });

  it('addDays and weekdayOf work across months, years and leap days', () => {
    assert.equal(addDays('2026-12-31', 1), '2027-01-01');
    assert.equal(addDays('2028-02-28', 1), '2028-02-29');
    assert.equal(addDays('2026-03-28', 2), '2026-03-30');
    assert.equal(weekdayOf('2026-03-29'), 'sun');
    assert.equal(weekdayOf('2026-10-26'), 'mon');
    assert.equal(weekdayOf('2027-12-28'), 'tue');
  });
});
