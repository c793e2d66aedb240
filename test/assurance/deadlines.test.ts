import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { BankHoliday, OpeningHours, Team } from '../../src/directory/directory.types.ts';
import type { DeadlinePolicy } from '../../src/config.ts';
import { ackBy, reminderAt, sendBy, triageBy } from '../../src/directory/deadlines.ts';
import { parseDuration } from '../../src/time.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const policy: DeadlinePolicy = {
  sendByMs: 5 * MINUTE,
  ackBy: { immediate: HOUR, urgent: 4 * HOUR, routine: 'next-working-day' },
  triageByMs: 30 * MINUTE,
  reminderBeforeMs: 15 * MINUTE,
};

const bankHolidays: BankHoliday[] = [
  { date: '2026-04-03', name: 'Good Friday' },
  { date: '2026-04-06', name: 'Easter Monday' },
  { date: '2026-05-25', name: 'Spring bank holiday' },
  { date: '2026-12-25', name: 'Christmas Day' },
  { date: '2026-12-28', name: 'Boxing Day (substitute day)' },
];

const weekdays = (close = '17:00', friClose = close): OpeningHours => ({
  weekly: {
    mon: [['09:00', close]],
    tue: [['09:00', close]],
    wed: [['09:00', close]],
    thu: [['09:00', close]],
    fri: [['09:00', friClose]],
  },
});

function team(hours: OpeningHours, kind: Team['kind'] = 'adults'): Team {
  return {
    id: 't',
    authorityId: 'a',
    kind,
    name: 'T',
    emailDetail: 'minimal',
    channels: [],
    phones: [],
    hours,
  };
}

const routine = (receivedIso: string, t: Team = team(weekdays())) =>
  ackBy(new Date(receivedIso), 'routine', t, bankHolidays, policy).toISOString();

describe('sendBy and triageBy', () => {
  it('add the configured window to receipt', () => {
    const received = new Date('2026-01-14T10:00:00Z');
    assert.equal(sendBy(received, policy).toISOString(), '2026-01-14T10:05:00.000Z');
    assert.equal(triageBy(received, policy).toISOString(), '2026-01-14T10:30:00.000Z');
  });
});

describe('ackBy', () => {
  const received = new Date('2026-01-16T22:10:00Z');

  it('gives immediate referrals one hour and urgent four, whatever the hours', () => {
    assert.equal(
      ackBy(received, 'immediate', team(weekdays()), bankHolidays, policy).toISOString(),
      '2026-01-16T23:10:00.000Z',
    );
    assert.equal(
      ackBy(received, 'urgent', team(weekdays()), bankHolidays, policy).toISOString(),
      '2026-01-17T02:10:00.000Z',
    );
  });

  it('uses a fixed routine window when the policy gives one', () => {
    const fixed = { ...policy, ackBy: { ...policy.ackBy, routine: 24 * HOUR } };
    assert.equal(
      ackBy(received, 'routine', team(weekdays()), [], fixed).toISOString(),
      '2026-01-17T22:10:00.000Z',
    );
  });

  it('gives routine referrals until the close of the next working day', () => {
    assert.equal(routine('2026-01-14T10:00:00Z'), '2026-01-15T17:00:00.000Z', 'Wednesday → Thursday');
    assert.equal(
      routine('2026-01-14T06:00:00Z'),
      '2026-01-15T17:00:00.000Z',
      'strictly after the day of receipt',
    );
  });

  it('moves from Friday evening and the weekend to Monday close', () => {
    assert.equal(routine('2026-11-20T19:00:00Z'), '2026-11-23T17:00:00.000Z', 'Friday evening');
    assert.equal(routine('2026-11-20T10:00:00Z'), '2026-11-23T17:00:00.000Z', 'Friday morning');
    assert.equal(routine('2026-11-21T12:00:00Z'), '2026-11-23T17:00:00.000Z', 'Saturday');
    assert.equal(routine('2026-11-22T23:59:00Z'), '2026-11-23T17:00:00.000Z', 'Sunday night');
  });

  it('skips bank holidays: before a bank holiday Monday → Tuesday close', () => {
    assert.equal(routine('2026-05-22T18:00:00Z'), '2026-05-26T16:00:00.000Z', 'spring bank holiday, BST');
    assert.equal(
      routine('2026-04-02T12:00:00Z'),
      '2026-04-07T16:00:00.000Z',
      'Easter: Good Friday and Easter Monday',
    );
    assert.equal(
      routine('2026-12-24T12:00:00Z'),
      '2026-12-29T17:00:00.000Z',
      'Christmas and substitute Boxing Day',
    );
  });

  it('works for a team that opens on bank holidays', () => {
    const t = team({ ...weekdays(), openOnBankHolidays: true });
    assert.equal(routine('2026-05-22T18:00:00Z', t), '2026-05-25T16:00:00.000Z');
  });

  it('puts 17:00 London at the right UTC instant across the clock changes', () => {
    assert.equal(
      routine('2026-03-27T19:00:00Z'),
      '2026-03-30T16:00:00.000Z',
      'Friday GMT → Monday 17:00 BST',
    );
    assert.equal(
      routine('2026-10-23T19:00:00Z'),
      '2026-10-26T17:00:00.000Z',
      'Friday BST → Monday 17:00 GMT',
    );
  });

  it('takes the London date of receipt, not the UTC date', () => {
    assert.equal(
      routine('2026-06-01T23:30:00Z'),
      '2026-06-03T16:00:00.000Z',
      '00:30 BST Tuesday → Wednesday',
    );
    assert.equal(routine('2026-01-12T23:30:00Z'), '2026-01-13T17:00:00.000Z', '23:30 GMT Monday → Tuesday');
  });

  it('uses the last closing time of the day, including short Fridays and weekend sessions', () => {
    assert.equal(
      routine('2026-01-15T10:00:00Z', team(weekdays('17:30', '16:30'))),
      '2026-01-16T16:30:00.000Z',
    );
    const lunch = team({
      weekly: {
        mon: [
          ['13:30', '17:00'],
          ['09:00', '12:30'],
        ],
      },
    });
    assert.equal(routine('2026-01-14T10:00:00Z', lunch), '2026-01-19T17:00:00.000Z');
    const saturdays = team({ weekly: { ...weekdays().weekly, sat: [['09:00', '13:00']] } });
    assert.equal(routine('2026-01-16T10:00:00Z', saturdays), '2026-01-17T13:00:00.000Z');
  });

  it('gives an always-open team until the end of the next calendar day', () => {
    const always = team({ always: true }, 'out-of-hours');
    assert.equal(routine('2026-01-16T10:00:00Z', always), '2026-01-18T00:00:00.000Z');
    assert.equal(routine('2026-03-28T10:00:00Z', always), '2026-03-29T23:00:00.000Z', 'Sunday 24:00 BST');
    assert.equal(routine('2026-10-24T10:00:00Z', always), '2026-10-26T00:00:00.000Z', 'Sunday 24:00 GMT');
    assert.equal(
      routine('2026-05-24T10:00:00Z', always),
      '2026-05-25T23:00:00.000Z',
      'bank holidays do not matter',
    );
  });

  it('treats an out-of-hours team without a schedule as always open', () => {
    assert.equal(routine('2026-01-16T10:00:00Z', team({}, 'out-of-hours')), '2026-01-18T00:00:00.000Z');
  });

  it('still sets a deadline for a team that never opens', () => {
    assert.equal(routine('2026-01-16T10:00:00Z', team({})), '2026-01-18T00:00:00.000Z');
  });
});

describe('reminderAt', () => {
  const received = new Date('2026-01-14T10:00:00Z');
  const after = (ms: number) => new Date(received.getTime() + ms);

  it('reminds reminderBefore ahead of the deadline', () => {
    assert.equal(reminderAt(received, after(HOUR), policy).toISOString(), '2026-01-14T10:45:00.000Z');
    assert.equal(reminderAt(received, after(4 * HOUR), policy).toISOString(), '2026-01-14T13:45:00.000Z');
  });

  it('reminds mid-window when the window is too short for reminderBefore', () => {
    assert.equal(reminderAt(received, after(10 * MINUTE), policy).toISOString(), '2026-01-14T10:05:00.000Z');
    assert.equal(reminderAt(received, after(30 * MINUTE), policy).toISOString(), '2026-01-14T10:15:00.000Z');
    assert.equal(reminderAt(received, received, policy).toISOString(), received.toISOString());
  });

  it('always falls inside the window', () => {
    fc.assert(
      fc.property(fc.nat(7 * 24 * HOUR), fc.nat(24 * HOUR), (window, before) => {
        const at = reminderAt(received, after(window), { ...policy, reminderBeforeMs: before }).getTime();
        assert.ok(at >= received.getTime() && at <= received.getTime() + window);
        assert.ok(at >= received.getTime() + window / 2 - 1);
      }),
    );
  });
});

describe('parseDuration', () => {
  it('reads whole numbers with a unit', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('5m'), 5 * MINUTE);
    assert.equal(parseDuration('4h'), 4 * HOUR);
    assert.equal(parseDuration('2d'), 48 * HOUR);
    assert.equal(parseDuration('0s'), 0);
  });

  it('refuses anything else with a message naming the input and the units', () => {
    for (const bad of [
      '',
      '5',
      'm',
      '5 m',
      ' 5m',
      '5m ',
      '5min',
      '1.5h',
      '-5m',
      '5M',
      '5mm',
      'next-working-day',
      '99999999999999999d',
    ]) {
      assert.throws(
        () => parseDuration(bad),
        (e: unknown) => {
          assert.ok(e instanceof Error);
          assert.ok(e.message.includes(JSON.stringify(bad)), e.message);
          assert.match(e.message, /ms, s, m, h or d/);
          return true;
        },
      );
    }
  });
});
