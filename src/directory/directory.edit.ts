import type { Kysely } from 'kysely';
import { canonicalJson } from '../canonical-json.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import { RelayError } from '../errors.ts';
import { latestVersion, loadDirectory } from './directory.repository.ts';
import { parseDirectoryFile, type DirectoryFileInput } from './directory.schema.ts';
import { importDirectory, type ImportResult } from './directory.service.ts';
import type { CoverageEntry, Directory, Team } from './directory.types.ts';

type FileTeam = DirectoryFileInput['authorities'][number]['teams'][number];
type FileCoverage = DirectoryFileInput['coverage'][number];

function teamToFile(team: Team): FileTeam {
  return {
    id: team.id,
    kind: team.kind,
    name: team.name,
    emailDetail: team.emailDetail,
    channels: team.channels.map((c) => ({ ...c })),
    phones: team.phones.map((p) => ({ ...p })),
    hours: team.hours,
  };
}

function coverageToFile(entry: CoverageEntry): FileCoverage {
  return entry.split !== undefined
    ? { prefix: entry.prefix, split: [...entry.split] }
    : { prefix: entry.prefix, authority: entry.authorityId ?? '' };
}

/** The directory in the file shape that `relay directory import` reads, so it can be exported or re-imported. */
export function directoryToFile(directory: Directory): DirectoryFileInput {
  return {
    name: directory.name,
    bankHolidays: directory.bankHolidays.map((h) => ({ ...h })),
    authorities: directory.authorities.map((a) => ({
      id: a.id,
      name: a.name,
      teams: a.teams.map(teamToFile),
    })),
    coverage: directory.coverage.map(coverageToFile),
  };
}

export interface EditOptions {
  /** Recorded on the version and in the audit entry, e.g. `edit team birmingham-adults`. */
  source?: string;
  /** The version the admin's form was built from: a newer one means someone else changed it meanwhile. */
  basedOn?: number;
}

function countsOf(directory: Directory) {
  return {
    authorities: directory.authorities.length,
    teams: directory.authorities.reduce((n, a) => n + a.teams.length, 0),
    coverage: directory.coverage.length,
  };
}

/**
 * Changes the directory by writing a new version: the current one is copied, changed, checked
 * against the same rules as an imported file, and stored through importDirectory, so every version
 * (edited or imported) is made and audited in one place and older versions never change.
 */
export async function editDirectory(
  db: Kysely<Database>,
  clock: Clock,
  mutate: (directory: Directory) => Directory,
  actor: string,
  options: EditOptions = {},
): Promise<ImportResult> {
  const current = await latestVersion(db);
  if (!current) throw new RelayError('state-conflict', 'There is no directory yet: import one first');
  // Checked before the import's transaction, so two saves in the same instant can still both land;
  // the later one then wins whole, and both versions stay in the history.
  if (options.basedOn !== undefined && options.basedOn !== current.id) {
    throw new RelayError(
      'state-conflict',
      `The directory has changed since this page was opened (now version ${current.id}). Reload the page and make the change again.`,
    );
  }
  const before = await loadDirectory(db, current.id);
  const after = mutate(structuredClone(before));
  // The stored checksum is of the file as imported (in its order), so "nothing changed" is judged here.
  if (canonicalJson(after) === canonicalJson(before)) {
    return { versionId: current.id, changed: false, ...countsOf(before), warnings: [], forced: [] };
  }
  const file = directoryToFile(after);
  const parsed = parseDirectoryFile(file);
  if (!parsed.ok) {
    throw new RelayError('validation-failed', 'The change would make the directory invalid', parsed.errors);
  }
  return importDirectory(db, clock, file, { actor, source: options.source ?? 'edit' });
}
