import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { describeHours, diffDirectories, isEmptyDiff } from '../../../src/directory/directory.diff.ts';
import { parseDirectoryFile } from '../../../src/directory/directory.schema.ts';
import { DEMO_DIRECTORY_PATH } from '../../../src/directory/directory.service.ts';
import type { Directory, Team } from '../../../src/directory/directory.types.ts';

function demo(): Directory {
  const parsed = parseDirectoryFile(JSON.parse(readFileSync(DEMO_DIRECTORY_PATH, 'utf8')));
  assert.ok(parsed.ok);
  return parsed.directory;
}

function team(directory: Directory, id: string): Team {
  const found = directory.authorities.flatMap((a) => a.teams).find((t) => t.id === id);
  assert.ok(found, id);
  return found;
}

describe('directory diff', () => {
  it('finds nothing between a directory and itself, or the same one in another order', () => {
    const before = demo();
    const shuffled = structuredClone(before);
    shuffled.authorities.reverse();
    shuffled.authorities.forEach((a) => a.teams.reverse());
    shuffled.coverage.reverse();
    shuffled.bankHolidays.reverse();
    assert.equal(isEmptyDiff(diffDirectories(before, before)), true);
    assert.equal(isEmptyDiff(diffDirectories(before, shuffled)), true);
  });

  it('names authorities added, removed and renamed', () => {
    const before = demo();
    const after = structuredClone(before);
    after.authorities = after.authorities.filter((a) => a.id !== 'walsall');
    after.authorities.push({ id: 'new-town', name: 'New Town Council', teams: [] });
    after.authorities.find((a) => a.id === 'dudley')!.name = 'Dudley MBC';
    const diff = diffDirectories(before, after);
    assert.deepEqual(diff.authorities.added, [{ id: 'new-town', name: 'New Town Council' }]);
    assert.deepEqual(
      diff.authorities.removed.map((a) => a.id),
      ['walsall'],
    );
    assert.deepEqual(diff.authorities.renamed, [
      { id: 'dudley', before: 'Dudley Metropolitan Borough Council', after: 'Dudley MBC' },
    ]);
    assert.deepEqual(diff.teams.removed.map((t) => t.id).sort(), [
      'walsall-adults',
      'walsall-children',
      'walsall-out-of-hours',
    ]);
    assert.equal(isEmptyDiff(diff), false);
  });

  it('names a team’s changed fields, and its addresses added, removed and changed', () => {
    const before = demo();
    const after = structuredClone(before);
    const adults = team(after, 'birmingham-adults');
    adults.emailDetail = 'minimal';
    adults.phones = [{ label: 'Duty desk', number: '01632 960199' }];
    adults.hours = { always: true };
    const [primary, secondary] = adults.channels;
    assert.ok(primary?.kind === 'email' && secondary?.kind === 'email');
    primary.address = 'Front.Door@example.org';
    secondary.owner = 'New Owner';
    secondary.verifyBy = '2028-01-01';
    const diff = diffDirectories(before, after);
    assert.deepEqual(diff.teams.changed, [
      {
        id: 'birmingham-adults',
        authorityId: 'birmingham',
        changes: [
          { field: 'email detail', before: 'full', after: 'minimal' },
          {
            field: 'phones',
            before: 'Duty desk: 01632 960100; Team manager: 01632 960101',
            after: 'Duty desk: 01632 960199',
          },
          {
            field: 'hours',
            before: 'Mon–Fri 08:30–17:00; Sat 09:00–13:00; Sun closed; Closed on bank holidays',
            after: 'Open 24 hours, every day',
          },
        ],
      },
    ]);
    assert.deepEqual(diff.addresses, [
      {
        teamId: 'birmingham-adults',
        kind: 'email',
        address: 'Front.Door@example.org',
        change: 'added',
        changes: [],
      },
      {
        teamId: 'birmingham-adults',
        kind: 'email',
        address: 'adults.birmingham.duty@example.org',
        change: 'changed',
        changes: [
          { field: 'owner', before: 'Priya Fictional', after: 'New Owner' },
          { field: 're-verify by', before: '2027-02-08', after: '2028-01-01' },
        ],
      },
      {
        teamId: 'birmingham-adults',
        kind: 'email',
        address: 'adults.birmingham@example.org',
        change: 'removed',
        changes: [],
      },
    ]);
  });

  it('matches addresses without regard to case, and names a webhook’s new secret without showing it', () => {
    const before = demo();
    const after = structuredClone(before);
    const channels = team(after, 'solihull-adults').channels;
    for (const c of channels) {
      if (c.kind === 'email') c.address = c.address.toUpperCase();
      else if (c.kind === 'webhook') c.secret = 'a-brand-new-secret-value-0123456789';
    }
    const diff = diffDirectories(before, after);
    assert.equal(diff.addresses.length, 1);
    const [change] = diff.addresses;
    assert.equal(change?.kind, 'webhook');
    assert.deepEqual(change?.changes, [{ field: 'secret', before: '(hidden)', after: '(changed)' }]);
    assert.equal(JSON.stringify(diff).includes('a-brand-new-secret'), false);
    assert.equal(JSON.stringify(diff).includes('demo-solihull-webhook-secret'), false);
  });

  it('names a webhook’s change of format, an absent format being json', () => {
    const before = demo();
    const after = structuredClone(before);
    for (const c of team(after, 'solihull-adults').channels) if (c.kind === 'webhook') c.format = 'fhir';
    const [change, ...more] = diffDirectories(before, after).addresses;
    assert.equal(more.length, 0);
    assert.deepEqual(change?.changes, [{ field: 'format', before: 'json', after: 'fhir' }]);
  });

  it('names coverage entries added, removed and changed, splits included', () => {
    const before = demo();
    const after = structuredClone(before);
    after.coverage = after.coverage.filter((c) => c.prefix !== 'B1');
    after.coverage.push({ prefix: 'B15 2', authorityId: 'solihull' });
    const dy3 = after.coverage.find((c) => c.prefix === 'DY3')!;
    delete dy3.split;
    dy3.authorityId = 'dudley';
    const b91 = after.coverage.find((c) => c.prefix === 'B91')!;
    delete b91.authorityId;
    b91.split = ['solihull', 'birmingham'];
    const diff = diffDirectories(before, after);
    assert.deepEqual(diff.coverage, {
      added: [{ prefix: 'B15 2', after: 'solihull' }],
      removed: [{ prefix: 'B1', before: 'birmingham' }],
      changed: [
        { prefix: 'B91', before: 'solihull', after: 'split: solihull, birmingham' },
        { prefix: 'DY3', before: 'split: dudley, staffordshire', after: 'dudley' },
      ].sort((a, b) => (a.prefix < b.prefix ? -1 : 1)),
    });
  });

  it('names bank holidays added and removed, and a renamed directory', () => {
    const before = demo();
    const after = structuredClone(before);
    after.name = 'Renamed';
    after.bankHolidays = after.bankHolidays.filter((h) => h.date !== '2026-12-25');
    after.bankHolidays.push({ date: '2028-01-03', name: 'New Year (substitute day)' });
    const diff = diffDirectories(before, after);
    assert.deepEqual(diff.name, { before: before.name, after: 'Renamed' });
    assert.deepEqual(diff.bankHolidays.added, [{ date: '2028-01-03', name: 'New Year (substitute day)' }]);
    assert.deepEqual(diff.bankHolidays.removed, [{ date: '2026-12-25', name: 'Christmas Day' }]);
  });
});

describe('describeHours', () => {
  it('groups days with the same hours and says what happens on bank holidays', () => {
    assert.deepEqual(
      describeHours({
        weekly: {
          mon: [['09:00', '17:00']],
          tue: [['09:00', '17:00']],
          wed: [['09:00', '12:30']],
          thu: [
            ['09:00', '12:00'],
            ['13:00', '17:00'],
          ],
          fri: [['09:00', '17:00']],
        },
        openOnBankHolidays: true,
      }),
      [
        'Mon–Tue 09:00–17:00',
        'Wed 09:00–12:30',
        'Thu 09:00–12:00, 13:00–17:00',
        'Fri 09:00–17:00',
        'Sat–Sun closed',
        'Open on bank holidays',
      ],
    );
    assert.deepEqual(describeHours({ always: true }), ['Open 24 hours, every day']);
    assert.deepEqual(describeHours({}), ['Mon–Sun closed', 'Closed on bank holidays']);
  });
});
