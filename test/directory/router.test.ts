import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Directory, OpeningHours, Team, TeamKind } from '../../src/directory/directory.types.ts';
import type { RouteDecision, RouteInput } from '../../src/directory/router.ts';
import { prepareDirectory, routeReferral } from '../../src/directory/router.ts';

const weekdays = (close = '17:00'): OpeningHours => ({
  weekly: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [['09:00', close]]])),
});

function team(authorityId: string, kind: TeamKind, hours: OpeningHours = weekdays()): Team {
  const address = `${kind}.${authorityId}@example.org`;
  return {
    id: `${authorityId}-${kind}`,
    authorityId,
    kind,
    name: `${authorityId} ${kind}`,
    emailDetail: 'minimal',
    channels: [{ kind: 'email', role: 'primary', address, owner: 'O', verifyBy: '2027-01-01' }],
    phones: [{ label: 'Duty', number: '01632 960001' }],
    hours,
  };
}

/** north has every team (children open until 17:30); south has no out-of-hours team; east no children team. */
const directory: Directory = {
  name: 'router test',
  bankHolidays: [{ date: '2026-05-04', name: 'Early May bank holiday' }],
  authorities: [
    {
      id: 'north',
      name: 'North',
      teams: [
        team('north', 'adults'),
        team('north', 'children', weekdays('17:30')),
        team('north', 'out-of-hours', {}),
      ],
    },
    { id: 'south', name: 'South', teams: [team('south', 'adults'), team('south', 'children')] },
    {
      id: 'east',
      name: 'East',
      teams: [team('east', 'adults'), team('east', 'out-of-hours', { always: true })],
    },
  ],
  coverage: [
    { prefix: 'WV', authorityId: 'north' },
    { prefix: 'WV4', split: ['north', 'south'] },
    { prefix: 'WV4 6', authorityId: 'north' },
    { prefix: 'DY', authorityId: 'south' },
    { prefix: 'DY1 1AA', split: ['north', 'south'] },
    { prefix: 'CV', authorityId: 'east' },
    { prefix: 'TF', authorityId: 'ghost' },
  ],
};

// Wednesday 14 January 2026: at 11:00 GMT every day team is open, at 20:00 every one is closed.
const OPEN = new Date('2026-01-14T11:00:00Z');
const NIGHT = new Date('2026-01-14T20:00:00Z');

function input(overrides: Partial<RouteInput> = {}): RouteInput {
  const base: RouteInput = {
    subjectType: 'adult',
    urgency: 'urgent',
    incidentPostcode: 'DY2 2AA',
    receivedAt: OPEN,
  };
  return { ...base, homePostcode: 'WV1 1AA', ...overrides };
}

/** One line per decision, so each rule reads as input → outcome. */
function summary(decision: RouteDecision): string {
  if (decision.kind === 'triage') {
    return `triage ${decision.reason}${decision.authorityId ? ` ${decision.authorityId}` : ''}: ${decision.detail}`;
  }
  const teams = decision.routes.map((r) => `${r.teamId} (${r.reason})`).join(', ');
  return `${decision.authorityId} by ${decision.locationSource} ${decision.matchedPrefix}: ${teams}`;
}

const route = (overrides: Partial<RouteInput> = {}, d: Directory = directory) =>
  summary(routeReferral(input(overrides), d));

describe('routeReferral: location (docs/architecture.md, Routing, rule 1)', () => {
  it('routes by the home postcode when it is covered', () => {
    assert.deepEqual(routeReferral(input(), directory), {
      kind: 'routed',
      authorityId: 'north',
      locationSource: 'home',
      matchedPrefix: 'WV',
      routes: [{ authorityId: 'north', teamId: 'north-adults', teamKind: 'adults', reason: 'subject-type' }],
    });
  });

  it('routes by the incident postcode for no fixed abode', () => {
    assert.equal(route({ homePostcode: undefined }), 'south by incident DY: south-adults (subject-type)');
  });

  it('routes by the incident postcode when the home is outside coverage or unreadable', () => {
    for (const home of ['SW1A 1AA', 'SY23 1AA', 'not a postcode', '']) {
      assert.equal(route({ homePostcode: home }), 'south by incident DY: south-adults (subject-type)', home);
    }
  });

  it('triages an ambiguous home rather than falling back to the incident: responsibility follows residence', () => {
    assert.equal(
      route({ homePostcode: 'wv4 5aa' }),
      'triage ambiguous-postcode: home postcode prefix WV4 is split between north, south',
    );
  });

  it('routes by a sector that settles a split district', () => {
    assert.equal(route({ homePostcode: 'WV4 6AB' }), 'north by home WV4 6: north-adults (subject-type)');
  });

  it('triages an ambiguous incident postcode for no fixed abode', () => {
    assert.equal(
      route({ homePostcode: undefined, incidentPostcode: 'WV4 5AA' }),
      'triage ambiguous-postcode: incident postcode prefix WV4 is split between north, south',
    );
  });

  it('never names a full postcode in the detail, even when a full-postcode entry is split', () => {
    assert.equal(
      route({ homePostcode: 'dy1 1aa' }),
      'triage ambiguous-postcode: home postcode matches a full-postcode entry split between north, south',
    );
  });

  it('triages when neither home nor incident is covered', () => {
    const neither = 'triage no-coverage: neither the home nor the incident postcode is in coverage';
    assert.equal(route({ homePostcode: 'SW1A 1AA', incidentPostcode: 'SY23 1AA' }), neither);
    assert.equal(route({ homePostcode: 'junk', incidentPostcode: 'junk' }), neither);
    assert.equal(
      route({ homePostcode: undefined, incidentPostcode: 'SW1A 1AA' }),
      'triage no-coverage: no fixed abode, and the incident postcode is not in coverage',
    );
  });

  it('triages an authority that coverage names but the directory lacks', () => {
    assert.equal(
      route({ homePostcode: 'TF1 1AA' }),
      'triage no-team ghost: authority ghost is in coverage but not in the directory',
    );
  });
});

describe('routeReferral: teams (docs/architecture.md, Routing, rule 2)', () => {
  it('sends a child to the children team only, whatever the household', () => {
    const children = 'north by home WV: north-children (subject-type)';
    assert.equal(route({ subjectType: 'child' }), children);
    assert.equal(route({ subjectType: 'child', householdChildren: 3 }), children);
  });

  it('sends an adult to the adults team, and also to children when the household has children', () => {
    assert.equal(route({ householdChildren: 0 }), 'north by home WV: north-adults (subject-type)');
    assert.equal(
      route({ householdChildren: 2 }),
      'north by home WV: north-adults (subject-type), north-children (household-children)',
    );
  });

  it('triages when the authority lacks the needed team', () => {
    const noChildren = 'triage no-team east: east has no children team';
    assert.equal(route({ subjectType: 'child', homePostcode: 'CV1 1AA' }), noChildren);
    assert.equal(route({ homePostcode: 'CV1 1AA', householdChildren: 1 }), noChildren);
    assert.equal(route({ homePostcode: 'CV1 1AA' }), 'east by home CV: east-adults (subject-type)');
  });
});

describe('routeReferral: out of hours (docs/architecture.md, Routing, rule 3)', () => {
  const withDuty = 'north by home WV: north-adults (subject-type), north-out-of-hours (out-of-hours)';
  const dayOnly = 'north by home WV: north-adults (subject-type)';

  it('adds the out-of-hours team after a closed day team for urgent and immediate referrals', () => {
    assert.equal(route({ urgency: 'urgent', receivedAt: NIGHT }), withDuty);
    assert.equal(route({ urgency: 'immediate', receivedAt: NIGHT }), withDuty);
  });

  it('leaves routine referrals with the closed day team alone', () => {
    assert.equal(route({ urgency: 'routine', receivedAt: NIGHT }), dayOnly);
  });

  it('does not involve out-of-hours while the day team is open', () => {
    assert.equal(route({ urgency: 'immediate' }), dayOnly);
  });

  it('adds out-of-hours once when both day teams are closed, and when only one is', () => {
    const both =
      'north by home WV: north-adults (subject-type), north-children (household-children), north-out-of-hours (out-of-hours)';
    assert.equal(route({ householdChildren: 1, receivedAt: NIGHT }), both);
    const quarterPast5 = new Date('2026-01-14T17:15:00Z');
    assert.equal(route({ householdChildren: 1, receivedAt: quarterPast5 }), both);
    assert.equal(
      route({ subjectType: 'child', receivedAt: quarterPast5 }),
      'north by home WV: north-children (subject-type)',
    );
  });

  it('treats weekends and bank holidays as closed', () => {
    assert.equal(route({ receivedAt: new Date('2026-01-17T11:00:00Z') }), withDuty);
    assert.equal(route({ receivedAt: new Date('2026-05-04T10:00:00Z') }), withDuty);
    assert.equal(route({ receivedAt: new Date('2026-05-05T10:00:00Z') }), dayOnly);
  });

  it('reads hours in London time across the 2026 clock changes', () => {
    const at = (iso: string) => route({ receivedAt: new Date(iso) });
    assert.equal(at('2026-03-27T16:30:00Z'), dayOnly, 'Friday before spring forward: 16:30 GMT is open');
    assert.equal(at('2026-03-30T15:59:00Z'), dayOnly, 'Monday after: 16:59 BST is open');
    assert.equal(at('2026-03-30T16:00:00Z'), withDuty, 'Monday after: 17:00 BST is closed');
    assert.equal(at('2026-03-30T08:30:00Z'), dayOnly, 'Monday after: 09:30 BST is open');
    assert.equal(at('2026-10-23T16:00:00Z'), withDuty, 'Friday before fall back: 17:00 BST is closed');
    assert.equal(at('2026-10-26T16:00:00Z'), dayOnly, 'Monday after: 16:00 GMT is open');
    assert.equal(at('2026-10-26T08:30:00Z'), withDuty, 'Monday after: 08:30 GMT is closed');
  });

  it('triages when the out-of-hours team is needed but missing', () => {
    assert.equal(
      route({ homePostcode: 'DY2 1AA', receivedAt: NIGHT, householdChildren: 1 }),
      'triage no-team south: south has no out-of-hours team, needed because its adults and children teams are closed',
    );
    assert.match(route({ homePostcode: 'DY2 1AA', receivedAt: NIGHT, urgency: 'routine' }), /^south by home/);
    assert.match(route({ homePostcode: 'DY2 1AA' }), /^south by home/);
  });

  it('sends to the out-of-hours team even when its own schedule says closed: it is the last resort', () => {
    const saturdayDuty = team('north', 'out-of-hours', { weekly: { sat: [['00:00', '24:00']] } });
    const limited: Directory = {
      ...directory,
      authorities: [{ id: 'north', name: 'North', teams: [team('north', 'adults'), saturdayDuty] }],
    };
    assert.equal(route({ receivedAt: NIGHT }, limited), withDuty);
  });
});

describe('routeReferral: properties', () => {
  const prepared = prepareDirectory(directory);
  const postcodes = fc.constantFrom(
    'WV1 1AA',
    'WV4 6AB',
    'WV4 5AA',
    'DY2 2AA',
    'DY1 1AA',
    'CV1 1AA',
    'TF1 1AA',
    'SW1A 1AA',
  );
  const messy = (pc: string) =>
    fc
      .tuple(
        fc.array(fc.boolean(), { minLength: pc.length, maxLength: pc.length }),
        fc.constantFrom('', ' ', '  ', '\t'),
      )
      .map(([lower, pad]) => {
        const cased = pc.split('').map((c, i) => (lower[i] ? c.toLowerCase() : c));
        return pad + cased.join('').replace(' ', pad) + pad;
      });

  it('routes any case or spacing variant the same', () => {
    fc.assert(
      fc.property(
        postcodes.chain((pc) => fc.tuple(fc.constant(pc), messy(pc))),
        fc.constantFrom(OPEN, NIGHT),
        ([pc, variant], receivedAt) => {
          assert.deepEqual(
            routeReferral(input({ homePostcode: variant, receivedAt }), prepared),
            routeReferral(input({ homePostcode: pc, receivedAt }), prepared),
          );
        },
      ),
    );
  });

  it('gives the same decision from a prepared directory as from the plain one', () => {
    fc.assert(
      fc.property(
        postcodes,
        fc.option(postcodes, { nil: undefined }),
        fc.nat(3),
        (incident, home, children) => {
          const i = input({
            homePostcode: home,
            incidentPostcode: incident,
            householdChildren: children,
            receivedAt: NIGHT,
          });
          assert.deepEqual(routeReferral(i, prepared), routeReferral(i, directory));
        },
      ),
    );
  });

  it('never throws for any string postcode, and never puts a full postcode in a triage detail', () => {
    const anyString = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), postcodes);
    fc.assert(
      fc.property(anyString, fc.option(anyString, { nil: undefined }), (incident, home) => {
        const decision = routeReferral(input({ homePostcode: home, incidentPostcode: incident }), prepared);
        assert.ok(decision.kind === 'routed' || decision.kind === 'triage');
        if (decision.kind === 'triage')
          assert.doesNotMatch(decision.detail, /[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}/);
      }),
      { numRuns: 500 },
    );
  });
});
