import type { TeamView } from './directory.view.ts';

/** The directory page's filter (a GET form, so it works without JavaScript and can be bookmarked). */
export interface DirectoryFilter {
  authority: string;
  /** Part of a team's name or id, any case. */
  team: string;
  channel: '' | 'email' | 'webhook' | 'mesh';
}

export interface DirectoryQuery {
  authority?: string;
  team?: string;
  channel?: string;
}

export function readDirectoryFilter(query: DirectoryQuery): DirectoryFilter {
  const channel = (['email', 'webhook', 'mesh'] as const).find((c) => c === query.channel) ?? '';
  return {
    authority: typeof query.authority === 'string' ? query.authority.slice(0, 100) : '',
    team: typeof query.team === 'string' ? query.team.trim().slice(0, 100) : '',
    channel,
  };
}

export function isFiltered(filter: DirectoryFilter): boolean {
  return filter.authority !== '' || filter.team !== '' || filter.channel !== '';
}

function teamMatches(team: TeamView, filter: DirectoryFilter): boolean {
  const words = filter.team.toLowerCase();
  if (words && !`${team.name} ${team.id}`.toLowerCase().includes(words)) return false;
  if (filter.channel === 'webhook') return team.webhooks.length > 0;
  if (filter.channel === 'mesh') return team.meshes.length > 0;
  if (filter.channel === 'email') return team.addresses.length > 0;
  return true;
}

/** The authorities the filter keeps, each with only its matching teams; none left out when unfiltered. */
export function filterAuthorities<A extends { id: string; teams: TeamView[] }>(
  authorities: A[],
  filter: DirectoryFilter,
): A[] {
  return authorities
    .filter((a) => !filter.authority || a.id === filter.authority)
    .map((a) => ({ ...a, teams: a.teams.filter((t) => teamMatches(t, filter)) }))
    .filter((a) => a.teams.length > 0 || !isFiltered(filter));
}
