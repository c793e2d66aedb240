import type { RelayContext } from '../../context.ts';
import type { CurrentDirectory } from '../../directory/directory.service.ts';
import type { Authority, Directory, Team } from '../../directory/directory.types.ts';
import { RelayError } from '../../errors.ts';

export async function currentDirectory(ctx: RelayContext): Promise<CurrentDirectory> {
  const current = await ctx.directories.current();
  if (!current) throw new RelayError('not-found', 'No directory has been imported yet');
  return current;
}

const KIND_NAMES: Record<Team['kind'], string> = {
  adults: 'Adults',
  children: 'Children',
  'out-of-hours': 'Out of hours',
};

export function kindName(kind: Team['kind']): string {
  return KIND_NAMES[kind];
}

/** Select options for every team, labelled by authority, with a blank first option. */
export function teamItems(directory: Directory, selected: string, blank: string) {
  return [
    { value: '', text: blank, selected: selected === '' },
    ...directory.authorities.flatMap((a) =>
      a.teams.map((t) => ({
        value: t.id,
        text: `${a.name} – ${kindName(t.kind)} (${t.id})`,
        selected: t.id === selected,
      })),
    ),
  ];
}

export interface TeamPlace {
  authority: Authority;
  team: Team;
  /** The team's path in the directory file, as parseDirectoryFile names problems. */
  path: string;
}

export function findTeam(directory: Directory, teamId: string): TeamPlace | undefined {
  for (const [a, authority] of directory.authorities.entries()) {
    const t = authority.teams.findIndex((team) => team.id === teamId);
    const team = authority.teams[t];
    if (team) return { authority, team, path: `authorities.${a}.teams.${t}` };
  }
  return undefined;
}

export function teamExistsIn(directory: Directory) {
  const ids = new Set(directory.authorities.flatMap((a) => a.teams.map((t) => t.id)));
  return (id: string) => ids.has(id);
}
