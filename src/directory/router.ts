import type { Authority, BankHoliday, Directory, Team, TeamKind } from './directory.types.ts';
import type { CoverageIndex, CoverageResult } from './coverage.ts';
import { buildCoverageIndex, lookupCoverage } from './coverage.ts';
import { isTeamOpen } from './hours.ts';
import { classifyPrefix } from './postcode.ts';

export type Urgency = 'immediate' | 'urgent' | 'routine';

/**
 * A route's urgency as a number that sorts (the most urgent highest), kept on the route so that a
 * team's inbox can be read most urgent first from an index, without joining every referral.
 */
export function urgencyRank(urgency: string): number {
  return urgency === 'immediate' ? 2 : urgency === 'urgent' ? 1 : 0;
}

export interface RouteInput {
  subjectType: 'adult' | 'child';
  householdChildren?: number;
  urgency: Urgency;
  /** Absent for no fixed abode. */
  homePostcode?: string;
  incidentPostcode: string;
  receivedAt: Date;
}

export type RouteReason = 'subject-type' | 'household-children' | 'out-of-hours';

export interface PlannedRoute {
  authorityId: string;
  teamId: string;
  teamKind: TeamKind;
  reason: RouteReason;
}

export type TriageReason = 'no-coverage' | 'ambiguous-postcode' | 'no-team';

export type TriageDecision = {
  kind: 'triage';
  reason: TriageReason;
  /** Shown to staff and logged, so it never contains a full postcode. */
  detail: string;
  authorityId?: string;
};

export type RouteDecision =
  | {
      kind: 'routed';
      authorityId: string;
      locationSource: 'home' | 'incident';
      matchedPrefix: string;
      routes: PlannedRoute[];
    }
  | TriageDecision;

/** A directory with its lookups built, for routing many referrals against one directory version. */
export interface PreparedDirectory {
  readonly directory: Directory;
  readonly coverageIndex: CoverageIndex;
  readonly authorities: ReadonlyMap<string, Authority>;
}

export function prepareDirectory(directory: Directory): PreparedDirectory {
  return {
    directory,
    coverageIndex: buildCoverageIndex(directory.coverage),
    authorities: new Map(directory.authorities.map((a) => [a.id, a])),
  };
}

interface Location {
  kind: 'located';
  authorityId: string;
  source: 'home' | 'incident';
  prefix: string;
}

function triage(reason: TriageReason, detail: string, authorityId?: string): TriageDecision {
  return authorityId === undefined
    ? { kind: 'triage', reason, detail }
    : { kind: 'triage', reason, detail, authorityId };
}

function ambiguous(which: 'home' | 'incident', result: CoverageResult & { kind: 'ambiguous' }) {
  const between = result.candidates.join(', ');
  const where =
    classifyPrefix(result.prefix)?.kind === 'full'
      ? 'matches a full-postcode entry'
      : `prefix ${result.prefix} is`;
  return triage('ambiguous-postcode', `${which} postcode ${where} split between ${between}`);
}

function located(match: CoverageResult & { kind: 'match' }, source: 'home' | 'incident'): Location {
  return { kind: 'located', authorityId: match.authorityId, prefix: match.prefix, source };
}

/** Responsibility follows residence, so an ambiguous home is triaged rather than routed by incident. */
function locate(input: RouteInput, index: CoverageIndex): Location | TriageDecision {
  if (input.homePostcode !== undefined) {
    const home = lookupCoverage(index, input.homePostcode);
    if (home.kind === 'match') return located(home, 'home');
    if (home.kind === 'ambiguous') return ambiguous('home', home);
  }
  const incident = lookupCoverage(index, input.incidentPostcode);
  if (incident.kind === 'match') return located(incident, 'incident');
  if (incident.kind === 'ambiguous') return ambiguous('incident', incident);
  const detail =
    input.homePostcode === undefined
      ? 'no fixed abode, and the incident postcode is not in coverage'
      : 'neither the home nor the incident postcode is in coverage';
  return triage('no-coverage', detail);
}

function neededTeams(input: RouteInput): { kind: TeamKind; reason: RouteReason }[] {
  if (input.subjectType === 'child') return [{ kind: 'children', reason: 'subject-type' }];
  const needs: { kind: TeamKind; reason: RouteReason }[] = [{ kind: 'adults', reason: 'subject-type' }];
  if ((input.householdChildren ?? 0) > 0) needs.push({ kind: 'children', reason: 'household-children' });
  return needs;
}

export type Cover =
  { kind: 'not-needed' } | { kind: 'cover'; team: Team } | { kind: 'no-cover-team'; closed: TeamKind[] };

/**
 * The hours rule: when a day team is closed at that moment and the referral is immediate or urgent,
 * the authority's out-of-hours team also receives it. Intake, routing by hand and redirects all ask
 * it here, so a referral reaches someone awake whichever way it was routed.
 */
export function outOfHoursCover(
  authority: Authority,
  teams: readonly Team[],
  urgency: Urgency,
  bankHolidays: readonly BankHoliday[],
  at: Date,
): Cover {
  if (urgency === 'routine') return { kind: 'not-needed' };
  const closed = teams
    .filter((t) => t.kind !== 'out-of-hours' && !isTeamOpen(t, bankHolidays, at))
    .map((t) => t.kind);
  if (closed.length === 0) return { kind: 'not-needed' };
  // The duty team is the last resort, so its own schedule does not stop it receiving.
  const duty = authority.teams.find((t) => t.kind === 'out-of-hours');
  return duty ? { kind: 'cover', team: duty } : { kind: 'no-cover-team', closed };
}

/** Why an authority without an out-of-hours team cannot take a referral for its closed teams. */
export function noCoverDetail(authorityId: string, closed: readonly TeamKind[]): string {
  const teams = closed.length > 1 ? 'teams are' : 'team is';
  return `${authorityId} has no out-of-hours team, needed because its ${closed.join(' and ')} ${teams} closed`;
}

function planRoutes(
  input: RouteInput,
  authority: Authority,
  bankHolidays: readonly BankHoliday[],
): PlannedRoute[] | TriageDecision {
  const routes: PlannedRoute[] = [];
  const teams: Team[] = [];
  for (const need of neededTeams(input)) {
    const team = authority.teams.find((t) => t.kind === need.kind);
    if (!team) return triage('no-team', `${authority.id} has no ${need.kind} team`, authority.id);
    routes.push({ authorityId: authority.id, teamId: team.id, teamKind: team.kind, reason: need.reason });
    teams.push(team);
  }
  const cover = outOfHoursCover(authority, teams, input.urgency, bankHolidays, input.receivedAt);
  if (cover.kind === 'no-cover-team')
    return triage('no-team', noCoverDetail(authority.id, cover.closed), authority.id);
  if (cover.kind === 'cover') {
    const duty = cover.team;
    routes.push({ authorityId: authority.id, teamId: duty.id, teamKind: duty.kind, reason: 'out-of-hours' });
  }
  return routes;
}

/** The routing rules (docs/architecture.md, Routing), in order: location, team by subject, out-of-hours cover, else triage. Never throws on bad postcodes. */
export function routeReferral(input: RouteInput, source: Directory | PreparedDirectory): RouteDecision {
  const prepared = 'coverageIndex' in source ? source : prepareDirectory(source);
  const location = locate(input, prepared.coverageIndex);
  if (location.kind === 'triage') return location;
  const authority = prepared.authorities.get(location.authorityId);
  if (!authority) {
    const detail = `authority ${location.authorityId} is in coverage but not in the directory`;
    return triage('no-team', detail, location.authorityId);
  }
  const routes = planRoutes(input, authority, prepared.directory.bankHolidays);
  if (!Array.isArray(routes)) return routes;
  return {
    kind: 'routed',
    authorityId: authority.id,
    locationSource: location.source,
    matchedPrefix: location.prefix,
    routes,
  };
}
