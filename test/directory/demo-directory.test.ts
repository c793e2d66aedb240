import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { findAuthority, findTeam, type Directory } from '../../src/directory/directory.types.ts';
import { lookupCoverage } from '../../src/directory/coverage.ts';
import { parseDirectoryFile } from '../../src/directory/directory.schema.ts';
import { prepareDirectory, routeReferral } from '../../src/directory/router.ts';

const raw: unknown = JSON.parse(
  readFileSync(new URL('../../src/directory/demo-directory.json', import.meta.url), 'utf8'),
);

function load(): Directory {
  const result = parseDirectoryFile(raw);
  assert.deepEqual(result.ok ? [] : result.errors, []);
  assert.ok(result.ok);
  return result.directory;
}

const directory = load();
const teams = directory.authorities.flatMap((a) => a.teams);

const AUTHORITIES = [
  'birmingham',
  'coventry',
  'dudley',
  'sandwell',
  'solihull',
  'walsall',
  'wolverhampton',
  'herefordshire',
  'shropshire',
  'telford-and-wrekin',
  'stoke-on-trent',
  'staffordshire',
  'warwickshire',
  'worcestershire',
];

const SPLIT = [
  ...['WV4', 'WV5', 'WV6', 'WV7', 'WV8', 'WV9', 'WV10', 'WV11', 'WV12'],
  ...['DY3', 'DY4', 'DY6', 'DY8', 'DY9', 'WS5', 'WS9', 'WS10', 'CV3', 'CV7'],
  ...['ST2', 'ST3', 'ST4', 'ST6', 'ST8', 'ST9', 'ST12', 'SY7', 'SY8'],
];

const SAMPLES: Record<string, string[]> = {
  birmingham: ['B1 1BB', 'B15 2TH', 'b5 4tr', 'B73 6AA', 'B45 9AA'],
  coventry: ['CV1 5FB', 'CV2 2DX', 'CV6 3AA'],
  dudley: ['DY1 1HF', 'DY5 1AA', 'B63 3AA', 'DY9 8AA'],
  sandwell: ['B70 7PL', 'B66 1AA', 'B69 4AA'],
  solihull: ['B91 3QB', 'B40 1NT', 'CV7 7AA'],
  walsall: ['WS1 1TP', 'WS2 9PS', 'WV13 1AA'],
  wolverhampton: ['WV1 1RL', 'WV3 0AA', 'WV10 0QP', 'WV14 6AA'],
  herefordshire: ['HR1 2ER', 'HR4 0AA', 'HR9 5AA'],
  shropshire: ['SY1 1AA', 'SY11 1AA', 'TF9 3AA', 'WV16 4AA'],
  'telford-and-wrekin': ['TF1 6TF', 'TF3 4AA', 'TF10 7AA'],
  'stoke-on-trent': ['ST1 1AA', 'ST1 5NB'],
  staffordshire: ['ST16 2AA', 'ST5 1AA', 'WS13 6AA', 'B79 7AA', 'WV10 7AA'],
  warwickshire: ['CV34 4AA', 'CV37 6AA', 'CV21 2AA', 'CV11 4AA', 'B49 5AA'],
  worcestershire: ['WR1 2AA', 'WR11 4AA', 'B97 4AA', 'B60 1AA', 'DY10 1AA', 'DY9 0AA'],
};

describe('demo directory', () => {
  it('parses with no errors', () => {
    assert.equal(parseDirectoryFile(raw).ok, true);
  });

  it('has the 14 authorities of the West Midlands Ambulance Service area, each with all three teams', () => {
    assert.deepEqual(directory.authorities.map((a) => a.id).sort(), [...AUTHORITIES].sort());
    for (const a of directory.authorities) {
      assert.deepEqual(a.teams.map((t) => t.kind).sort(), ['adults', 'children', 'out-of-hours'], a.id);
      for (const t of a.teams) assert.equal(t.id, `${a.id}-${t.kind}`);
    }
  });

  it('marks exactly the districts docs/operations.md lists as split, each between existing authorities', () => {
    const splits = directory.coverage.filter((c) => c.split !== undefined);
    assert.deepEqual(splits.map((c) => c.prefix).sort(), [...SPLIT].sort());
    for (const entry of splits) {
      assert.ok((entry.split ?? []).length >= 2, entry.prefix);
      for (const id of entry.split ?? []) assert.ok(AUTHORITIES.includes(id), `${entry.prefix}: ${id}`);
    }
  });

  it('settles some splits with sector entries, so longest-prefix matters', () => {
    assert.deepEqual(lookupCoverage(directory, 'WV10 0QP'), {
      kind: 'match',
      authorityId: 'wolverhampton',
      prefix: 'WV10 0',
    });
    assert.deepEqual(lookupCoverage(directory, 'WV10 7AA'), {
      kind: 'match',
      authorityId: 'staffordshire',
      prefix: 'WV10 7',
    });
    assert.equal(lookupCoverage(directory, 'WV10 9AA').kind, 'ambiguous');
    assert.equal(lookupCoverage(directory, 'CV7 8AA').kind, 'ambiguous');
  });

  it('routes real-feeling postcodes to each authority', () => {
    const prepared = prepareDirectory(directory);
    const receivedAt = new Date('2026-01-14T11:00:00Z');
    for (const [authorityId, postcodes] of Object.entries(SAMPLES)) {
      for (const homePostcode of postcodes) {
        const decision = routeReferral(
          {
            subjectType: 'adult',
            urgency: 'routine',
            homePostcode,
            incidentPostcode: 'SW1A 1AA',
            receivedAt,
          },
          prepared,
        );
        assert.equal(
          decision.kind === 'routed' ? decision.authorityId : decision.detail,
          authorityId,
          homePostcode,
        );
      }
    }
    assert.deepEqual(Object.keys(SAMPLES).sort(), [...AUTHORITIES].sort());
  });

  it('triages split districts, and leaves Wales, London and Bath uncovered', () => {
    assert.equal(lookupCoverage(directory, 'WV6 8AA').kind, 'ambiguous');
    assert.equal(lookupCoverage(directory, 'ST4 7AA').kind, 'ambiguous');
    for (let district = 14; district <= 25; district++) {
      assert.deepEqual(lookupCoverage(directory, `SY${district} 1AA`), { kind: 'none' }, `SY${district}`);
    }
    for (const pc of ['SW1A 1AA', 'BA1 1AA', 'CV13 0AA', 'LL11 1AA'])
      assert.deepEqual(lookupCoverage(directory, pc), { kind: 'none' }, pc);
  });

  it('gives every team unique phone numbers from the Ofcom drama range 01632 960000–960999', () => {
    const numbers = teams.flatMap((t) => t.phones.map((p) => p.number));
    assert.equal(new Set(numbers).size, numbers.length);
    for (const n of numbers) assert.match(n, /^01632 960[0-9]{3}$/);
    for (const t of teams) assert.ok(t.phones.length > 0, t.id);
  });

  it('uses only example.org addresses, each with an owner and a 2027 re-verification date', () => {
    for (const t of teams) {
      for (const c of t.channels) {
        if (c.kind === 'email') assert.match(c.address, /@example\.org$/, t.id);
        else if (c.kind === 'webhook') assert.match(new URL(c.url).hostname, /\.example\.org$/, t.id);
        assert.ok(c.owner.length > 0);
        assert.match(c.verifyBy, /^2027-/);
      }
      const primary = t.channels.filter((c) => c.kind === 'email' && c.role === 'primary');
      assert.equal(primary.length, 1, t.id);
    }
  });

  it('has full-detail email for a few teams and a webhook for Solihull adults', () => {
    const full = teams.filter((t) => t.emailDetail === 'full').map((t) => t.id);
    assert.deepEqual(full.sort(), ['birmingham-adults', 'coventry-children']);
    const hooks = teams.filter((t) => t.channels.some((c) => c.kind === 'webhook')).map((t) => t.id);
    assert.deepEqual(hooks, ['solihull-adults']);
  });

  it('keeps day teams to weekday office hours and out-of-hours teams always open', () => {
    for (const t of teams) {
      if (t.kind === 'out-of-hours') {
        assert.equal(t.hours.always, true, t.id);
        continue;
      }
      for (const day of ['mon', 'tue', 'wed', 'thu', 'fri'] as const)
        assert.ok((t.hours.weekly?.[day] ?? []).length > 0, t.id);
      assert.equal(t.hours.weekly?.sun, undefined, t.id);
    }
  });

  it('lists the England and Wales bank holidays for 2025–2027, all on weekdays', () => {
    for (const year of ['2025', '2026', '2027']) {
      assert.equal(directory.bankHolidays.filter((h) => h.date.startsWith(year)).length, 8, year);
    }
    for (const h of directory.bankHolidays) {
      const day = new Date(`${h.date}T00:00:00Z`).getUTCDay();
      assert.ok(day >= 1 && day <= 5, h.date);
    }
    assert.ok(directory.bankHolidays.some((h) => h.date === '2026-12-28'));
  });

  it('gives every authority some coverage', () => {
    const covered = new Set(directory.coverage.flatMap((c) => (c.split ?? []).concat(c.authorityId ?? [])));
    for (const id of AUTHORITIES) assert.ok(covered.has(id), id);
  });
});

describe('finding a team or an authority by id', () => {
  it('finds every team and authority of the demo directory, and nothing for an unknown id', () => {
    for (const authority of directory.authorities) {
      assert.equal(findAuthority(directory, authority.id), authority);
      for (const team of authority.teams) assert.equal(findTeam(directory, team.id), team);
    }
    assert.equal(findTeam(directory, 'no-such-team'), undefined);
    assert.equal(findAuthority(directory, 'no-such-authority'), undefined);
    assert.equal(findTeam(undefined, teams[0]!.id), undefined);
  });

  it('looks in each directory it is given, not in one it saw before', () => {
    const copy = structuredClone(directory);
    copy.authorities[0]!.teams[0]!.name = 'Renamed in the copy';
    const id = copy.authorities[0]!.teams[0]!.id;
    assert.equal(findTeam(copy, id)?.name, 'Renamed in the copy');
    assert.notEqual(findTeam(directory, id)?.name, 'Renamed in the copy');
  });
});
