import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DirectoryFileInput } from '../../src/directory/directory.schema.ts';
import { parseDirectoryFile } from '../../src/directory/directory.schema.ts';

type FileTeam = DirectoryFileInput['authorities'][number]['teams'][number];

function fileTeam(id: string, kind: FileTeam['kind']): FileTeam {
  return {
    id,
    kind,
    name: id,
    channels: [
      {
        kind: 'email',
        role: 'primary',
        address: `${id}@example.org`,
        owner: 'Ann Owner',
        verifyBy: '2027-01-01',
      },
      {
        kind: 'email',
        role: 'secondary',
        address: `${id}.duty@example.org`,
        owner: 'Ann Owner',
        verifyBy: '2027-01-01',
      },
    ],
    phones: [{ label: 'Duty', number: '01632 960001' }],
    hours: { weekly: { mon: [['09:00', '17:00']] } },
  };
}

function validFile(): DirectoryFileInput {
  return {
    name: 'test',
    bankHolidays: [{ date: '2026-12-25', name: 'Christmas Day' }],
    authorities: [
      {
        id: 'alpha',
        name: 'Alpha',
        teams: [fileTeam('alpha-adults', 'adults'), fileTeam('alpha-children', 'children')],
      },
      { id: 'beta', name: 'Beta', teams: [fileTeam('beta-adults', 'adults')] },
    ],
    coverage: [
      { prefix: 'B', authority: 'alpha' },
      { prefix: 'wv4', split: ['alpha', 'beta'] },
      { prefix: 'wv4  6', authority: 'beta' },
      { prefix: 'dy11aa', authority: 'beta' },
    ],
  };
}

/** Applies a change to a fresh valid file and returns the reported errors. */
function errorsAfter(change: (file: DirectoryFileInput) => void) {
  const file = validFile();
  change(file);
  const result = parseDirectoryFile(file);
  assert.equal(result.ok, false, 'expected errors');
  return result.ok ? [] : result.errors;
}

function assertError(change: (file: DirectoryFileInput) => void, path: string, message: RegExp) {
  const errors = errorsAfter(change);
  const hit = errors.find((e) => e.path === path);
  assert.ok(hit, `no error at ${path}; got ${JSON.stringify(errors)}`);
  assert.match(hit.message, message);
}

const team = (f: DirectoryFileInput, a: number, t: number): FileTeam => {
  const found = f.authorities[a]?.teams[t];
  assert.ok(found);
  return found;
};

describe('parseDirectoryFile: a valid file', () => {
  it('maps to the domain directory', () => {
    const result = parseDirectoryFile(validFile());
    assert.ok(result.ok, JSON.stringify(result));
    const [alpha] = result.directory.authorities;
    assert.equal(alpha?.teams[0]?.authorityId, 'alpha');
    assert.equal(alpha?.teams[0]?.emailDetail, 'minimal');
    assert.deepEqual(result.directory.coverage, [
      { prefix: 'B', authorityId: 'alpha' },
      { prefix: 'WV4', split: ['alpha', 'beta'] },
      { prefix: 'WV4 6', authorityId: 'beta' },
      { prefix: 'DY1 1AA', authorityId: 'beta' },
    ]);
  });

  it('keeps emailDetail full, webhooks, and http webhooks to localhost', () => {
    const file = validFile();
    const t = team(file, 0, 0);
    t.emailDetail = 'full';
    t.channels.push({
      kind: 'webhook',
      url: 'https://a.example.org/hook',
      secret: 'a-long-enough-secret',
      owner: 'O',
      verifyBy: '2027-02-02',
    });
    team(file, 1, 0).channels.push({
      kind: 'webhook',
      url: 'http://localhost:8080/hook',
      secret: 'a-long-enough-secret',
      owner: 'O',
      verifyBy: '2027-02-02',
    });
    const result = parseDirectoryFile(file);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.directory.authorities[0]?.teams[0]?.emailDetail, 'full');
    assert.equal(result.directory.authorities[0]?.teams[0]?.channels[2]?.kind, 'webhook');
  });
});

type Case = [name: string, change: (f: DirectoryFileInput) => void, path: string, message: RegExp];

const secondChannel = (f: DirectoryFileInput) => {
  const second = team(f, 0, 0).channels[1];
  assert.ok(second?.kind === 'email');
  return second;
};
const cover = (i: number, entry: DirectoryFileInput['coverage'][number]) => (f: DirectoryFileInput) =>
  void (f.coverage[i] = entry);

const referentialCases: Case[] = [
  [
    'duplicate authority id',
    (f) => void (f.authorities[1] && (f.authorities[1].id = 'alpha')),
    'authorities.1.id',
    /duplicate authority id "alpha" \(first at authorities\.0\)/,
  ],
  [
    'duplicate team id, across authorities',
    (f) => void (team(f, 1, 0).id = 'alpha-adults'),
    'authorities.1.teams.0.id',
    /duplicate team id/,
  ],
  [
    'two teams of one kind in an authority',
    (f) => void (team(f, 0, 1).kind = 'adults'),
    'authorities.0.teams.1.kind',
    /second adults team/,
  ],
  [
    'no primary email',
    (f) => void team(f, 0, 0).channels.shift(),
    'authorities.0.teams.0.channels',
    /exactly one primary.*none/,
  ],
  [
    'two primary emails',
    (f) => void (secondChannel(f).role = 'primary'),
    'authorities.0.teams.0.channels.1.role',
    /exactly one primary/,
  ],
  [
    'the same address twice in a team, in any case',
    (f) => void (secondChannel(f).address = 'ALPHA-ADULTS@example.org'),
    'authorities.0.teams.0.channels.1.address',
    /repeats authorities\.0\.teams\.0\.channels\.0/,
  ],
  [
    'coverage naming an unknown authority',
    cover(0, { prefix: 'B', authority: 'gamma' }),
    'coverage.0.authority',
    /unknown authority "gamma"/,
  ],
  [
    'a split naming an unknown authority',
    cover(1, { prefix: 'WV4', split: ['alpha', 'gamma'] }),
    'coverage.1.split.1',
    /unknown authority "gamma"/,
  ],
  [
    'a split naming one authority twice',
    cover(1, { prefix: 'WV4', split: ['alpha', 'alpha'] }),
    'coverage.1.split.1',
    /listed twice/,
  ],
  [
    'a split of fewer than two authorities',
    cover(1, { prefix: 'WV4', split: ['alpha'] }),
    'coverage.1.split',
    /at least two/,
  ],
  [
    'coverage with both authority and split',
    cover(1, { prefix: 'WV4', authority: 'alpha', split: ['alpha', 'beta'] }),
    'coverage.1',
    /either authority or split/,
  ],
  ['coverage with neither', cover(1, { prefix: 'WV4' }), 'coverage.1', /either authority or split/],
  ...['B152', 'hello', '', 'B15 2T'].map((prefix): Case => [
    `a prefix "${prefix}" that is not a postcode area, district, sector or full postcode`,
    cover(0, { prefix, authority: 'alpha' }),
    'coverage.0.prefix',
    /not a postcode area/,
  ]),
  [
    'a sector that repeats another once normalised',
    cover(4, { prefix: ' WV4 6 ', authority: 'alpha' }),
    'coverage.4.prefix',
    /WV4 6 is already covered at coverage\.2/,
  ],
  [
    'a full postcode that repeats another once normalised',
    cover(4, { prefix: 'DY1 1AA', authority: 'alpha' }),
    'coverage.4.prefix',
    /already covered at coverage\.3/,
  ],
  [
    'a bank holiday listed twice',
    (f) => void f.bankHolidays.push({ date: '2026-12-25', name: 'Again' }),
    'bankHolidays.1.date',
    /already listed/,
  ],
];

describe('parseDirectoryFile: referential rules, each reported at its path', () => {
  for (const [name, change, path, message] of referentialCases) {
    it(name, () => assertError(change, path, message));
  }

  it('reports every referential error at once', () => {
    const errors = errorsAfter((f) => {
      f.coverage[0] = { prefix: 'B', authority: 'gamma' };
      team(f, 0, 1).kind = 'adults';
    });
    assert.deepEqual(errors.map((e) => e.path).sort(), [
      'authorities.0.teams.1.kind',
      'coverage.0.authority',
    ]);
  });
});

const T = 'authorities.0.teams.0';
const setHours = (weekly: Record<string, [string, string][]>) => (f: DirectoryFileInput) =>
  void (team(f, 0, 0).hours = { weekly } as FileTeam['hours']);
const setFirstChannel = (field: string, value: string) => (f: DirectoryFileInput) =>
  void Object.assign(team(f, 0, 0).channels[0] ?? {}, { [field]: value });
const addHook =
  (url: string, secret = 'a-long-enough-secret') =>
  (f: DirectoryFileInput) =>
    void team(f, 0, 0).channels.push({ kind: 'webhook', url, secret, owner: 'O', verifyBy: '2027-01-01' });

const fieldCases: Case[] = [
  ['an opening time not HH:MM', setHours({ mon: [['9:00', '17:00']] }), `${T}.hours.weekly.mon.0.0`, /HH:MM/],
  [
    'a closing time past 24:00',
    setHours({ mon: [['09:00', '24:30']] }),
    `${T}.hours.weekly.mon.0.1`,
    /HH:MM/,
  ],
  [
    'a range closing before it opens',
    setHours({ tue: [['17:00', '09:00']] }),
    `${T}.hours.weekly.tue.0`,
    /open before/,
  ],
  [
    'a range opening at 24:00',
    setHours({ tue: [['24:00', '24:00']] }),
    `${T}.hours.weekly.tue.0`,
    /open before/,
  ],
  [
    'an unknown weekday',
    setHours({ monday: [['09:00', '17:00']] }),
    `${T}.hours.weekly.monday`,
    /not a known field/,
  ],
  [
    'a misspelt field',
    (f) => void Object.assign(team(f, 0, 0), { opening: {} }),
    `${T}.opening`,
    /not a known field/,
  ],
  [
    'a bank holiday not on the calendar',
    (f) => void (f.bankHolidays[0] = { date: '2026-02-30', name: 'x' }),
    'bankHolidays.0.date',
    /calendar date/,
  ],
  [
    'a verifyBy not on the calendar',
    setFirstChannel('verifyBy', '2027-13-01'),
    `${T}.channels.0.verifyBy`,
    /calendar date/,
  ],
  ['a bad email address', setFirstChannel('address', 'not-an-address'), `${T}.channels.0.address`, /email/],
  [
    'an unknown channel kind',
    setFirstChannel('kind', 'sms'),
    `${T}.channels.0.kind`,
    /email, webhook or mesh/,
  ],
  [
    'a plain-http webhook to a remote host',
    addHook('http://a.example.org/hook'),
    `${T}.channels.2.url`,
    /https/,
  ],
  ['a webhook URL that is not a URL', addHook('not a url'), `${T}.channels.2.url`, /https/],
  ['a short webhook secret', addHook('https://a.example.org/hook', 'short'), `${T}.channels.2.secret`, /16/],
  ['a team without phones', (f) => void (team(f, 0, 0).phones = []), `${T}.phones`, /at least one phone/],
  [
    'a phone that is not a number',
    (f) => void (team(f, 0, 0).phones = [{ label: 'x', number: 'call me' }]),
    `${T}.phones.0.number`,
    /phone/,
  ],
  [
    'an id with capitals and spaces',
    (f) => void (team(f, 0, 0).id = 'Alpha Adults'),
    `${T}.id`,
    /lower-case/,
  ],
];

describe('parseDirectoryFile: field rules, each reported at its path', () => {
  for (const [name, change, path, message] of fieldCases) {
    it(name, () => assertError(change, path, message));
  }

  it('input that is not a directory at all', () => {
    for (const input of [null, [], 'directory', 42, {}]) {
      const result = parseDirectoryFile(input);
      assert.equal(result.ok, false);
      assert.ok(!result.ok && result.errors.length > 0);
    }
  });
});
