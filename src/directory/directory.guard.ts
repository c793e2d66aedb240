import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { DirectoryDiff } from './directory.diff.ts';
import type { Directory, Team } from './directory.types.ts';

/*
 * What an import must not do in silence. Removing or renaming a team that open referrals, users or
 * API keys still point at strands them: routes chase a team nobody can find, people sign in to an
 * inbox that is gone, a team's system acknowledges with a key for a team that no longer exists.
 * A day team with no opening hours is never open, so every urgent referral goes out of hours.
 */

/** A team an import would remove or rename while something still points at it. Ids and counts only. */
export interface TeamInUse {
  teamId: string;
  name: string;
  change: 'removed' | 'renamed';
  openReferrals: number;
  users: number;
  apiKeys: number;
}

function changedTeams(diff: DirectoryDiff): ChangedTeam[] {
  const removed = diff.teams.removed.map((t) => ({ teamId: t.id, name: t.name, change: 'removed' as const }));
  const renamed = diff.teams.changed.flatMap((t) => {
    const name = t.changes.find((c) => c.field === 'name');
    return name ? [{ teamId: t.id, name: name.before, change: 'renamed' as const }] : [];
  });
  return [...removed, ...renamed];
}

async function openReferralCounts(db: Kysely<Database>, teamIds: string[]): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('routes')
    .innerJoin('referrals', 'referrals.id', 'routes.referral_id')
    .select(['routes.team_id', (eb) => eb.fn.count<number | string>('routes.referral_id').as('n')])
    .where('routes.team_id', 'in', teamIds)
    .where('referrals.closed_at', 'is', null)
    .groupBy('routes.team_id')
    .execute();
  return new Map(rows.map((r) => [r.team_id, Number(r.n)]));
}

async function userCounts(db: Kysely<Database>, teamIds: string[]): Promise<Map<string, number>> {
  // A user's teams are a JSON array; the users table is small, so it is read whole.
  const rows = await db.selectFrom('users').select('teams').where('disabled_at', 'is', null).execute();
  const counts = new Map<string, number>();
  for (const row of rows) {
    const teams = JSON.parse(row.teams) as string[];
    for (const id of teamIds) if (teams.includes(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

async function apiKeyCounts(db: Kysely<Database>, teamIds: string[]): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('api_keys')
    .select(['team_id', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('team_id', 'in', teamIds)
    .where('revoked_at', 'is', null)
    .groupBy('team_id')
    .execute();
  return new Map(rows.map((r) => [r.team_id ?? '', Number(r.n)]));
}

type ChangedTeam = { teamId: string; name: string; change: TeamInUse['change'] };

async function withUses(db: Kysely<Database>, changed: ChangedTeam[]): Promise<TeamInUse[]> {
  if (changed.length === 0) return [];
  const ids = changed.map((t) => t.teamId);
  const [referrals, users, keys] = await Promise.all([
    openReferralCounts(db, ids),
    userCounts(db, ids),
    apiKeyCounts(db, ids),
  ]);
  return changed
    .map((t) => ({
      ...t,
      openReferrals: referrals.get(t.teamId) ?? 0,
      users: users.get(t.teamId) ?? 0,
      apiKeys: keys.get(t.teamId) ?? 0,
    }))
    .filter((t) => t.openReferrals + t.users + t.apiKeys > 0);
}

/** The teams the diff removes or renames that still have open referrals, users or live API keys. */
export async function teamsInUse(db: Kysely<Database>, diff: DirectoryDiff): Promise<TeamInUse[]> {
  return withUses(db, changedTeams(diff));
}

/**
 * The same, against a stored version's teams: only their ids and names are read, so a version
 * whose other fields cannot be loaded does not stop the next import.
 */
export async function teamsInUseReplacing(
  db: Kysely<Database>,
  versionId: number,
  next: Directory,
): Promise<TeamInUse[]> {
  const stored = await db
    .selectFrom('teams')
    .select(['id', 'name'])
    .where('version_id', '=', versionId)
    .orderBy('id')
    .execute();
  const names = new Map(next.authorities.flatMap((a) => a.teams.map((t) => [t.id, t.name])));
  const changed = stored.flatMap((t): ChangedTeam[] => {
    const name = names.get(t.id);
    if (name === undefined) return [{ teamId: t.id, name: t.name, change: 'removed' }];
    return name === t.name ? [] : [{ teamId: t.id, name: t.name, change: 'renamed' }];
  });
  return withUses(db, changed);
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "birmingham-adults (removed: 2 open referrals, 1 user)". */
export function describeTeamInUse(team: TeamInUse): string {
  const uses = [
    team.openReferrals > 0 ? plural(team.openReferrals, 'open referral', 'open referrals') : '',
    team.users > 0 ? plural(team.users, 'user', 'users') : '',
    team.apiKeys > 0 ? plural(team.apiKeys, 'API key', 'API keys') : '',
  ].filter(Boolean);
  return `${team.teamId} (${team.change}: ${uses.join(', ')})`;
}

/** One sentence naming every team in use, for the CLI's one-line refusal and the page. */
export function describeTeamsInUse(teams: readonly TeamInUse[]): string {
  return `The import would remove or rename teams still in use: ${teams.map(describeTeamInUse).join('; ')}`;
}

function hasNoHours(team: Team): boolean {
  if (team.kind === 'out-of-hours' || team.hours.always) return false;
  return Object.values(team.hours.weekly ?? {}).every((slots) => slots.length === 0);
}

/** Warnings an import is allowed to go ahead with, but a person should read first. */
export function importWarnings(directory: Directory): string[] {
  return directory.authorities.flatMap((a) =>
    a.teams
      .filter(hasNoHours)
      .map(
        (t) =>
          `${t.id} is a day team with no opening hours: it is never open, so urgent referrals to it also go to the out-of-hours team`,
      ),
  );
}
