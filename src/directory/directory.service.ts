import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { canonicalJson } from '../canonical-json.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import { SharedRead } from '../db/shared-read.ts';
import { RelayError } from '../errors.ts';
import { appendAudit } from '../records/audit.ts';
import {
  describeTeamsInUse,
  importWarnings,
  teamsInUseReplacing,
  type TeamInUse,
} from './directory.guard.ts';
import { parseDirectoryFile } from './directory.schema.ts';
import {
  insertVersion,
  latestVersion,
  loadDirectory,
  type DirectoryVersion,
} from './directory.repository.ts';
import type { Directory } from './directory.types.ts';
import { prepareDirectory, type PreparedDirectory } from './router.ts';

export const DEMO_DIRECTORY_PATH = fileURLToPath(new URL('./demo-directory.json', import.meta.url));

export interface ImportResult {
  versionId: number;
  /** False when the file matched the current version exactly, so no new version was written. */
  changed: boolean;
  authorities: number;
  teams: number;
  coverage: number;
  /** Things a person should know about the new version, e.g. a day team with no opening hours. */
  warnings: string[];
  /** The teams a forced import removed or renamed while still in use. */
  forced: TeamInUse[];
}

export interface ImportMeta {
  actor: string;
  source: string;
  /** Removes or renames teams still in use: the person's reason, audited. */
  force?: { reason: string };
  /** Checks everything and reports what would happen, but writes nothing. */
  dryRun?: boolean;
}

/** Refused: the import would strand open referrals, users or API keys. Each team is named. */
export class TeamsInUseError extends RelayError {
  constructor(readonly teams: TeamInUse[]) {
    super('state-conflict', describeTeamsInUse(teams));
  }
}

/**
 * Validates a directory file and, when it differs from the current version, stores it as a new
 * version. Refuses (TeamsInUseError, nothing written) to remove or rename a team still in use
 * unless forced with a reason, which is audited.
 */
export async function importDirectory(
  db: Kysely<Database>,
  clock: Clock,
  json: unknown,
  meta: ImportMeta,
): Promise<ImportResult> {
  const parsed = parseDirectoryFile(json);
  if (!parsed.ok) throw new RelayError('validation-failed', 'The directory file has errors', parsed.errors);
  const directory = parsed.directory;
  const checksum = createHash('sha256').update(canonicalJson(directory)).digest('hex');
  if (meta.force && !meta.force.reason.trim()) {
    throw new RelayError('validation-failed', 'A forced import needs a reason', [
      { path: 'reason', message: 'Give the reason for forcing the import' },
    ]);
  }
  const counts = {
    authorities: directory.authorities.length,
    teams: directory.authorities.reduce((n, a) => n + a.teams.length, 0),
    coverage: directory.coverage.length,
    warnings: importWarnings(directory),
    forced: [] as TeamInUse[],
  };
  return db.transaction().execute(async (trx) => {
    const current = await latestVersion(trx);
    if (current?.checksum === checksum) return { versionId: current.id, changed: false, ...counts };
    // Checked inside the transaction, against the version it replaces.
    const inUse = current ? await teamsInUseReplacing(trx, current.id, directory) : [];
    if (inUse.length > 0 && !meta.force) throw new TeamsInUseError(inUse);
    if (meta.dryRun) return { versionId: current?.id ?? 0, changed: true, ...counts, forced: inUse };
    const at = clock.now();
    const versionId = await insertVersion(trx, directory, {
      at: at.toISOString(),
      createdBy: meta.actor,
      source: meta.source,
      checksum,
    });
    await appendAudit(trx, at, {
      actor: meta.actor,
      action: 'directory.imported',
      entityType: 'directory',
      entityId: String(versionId),
      detail: {
        source: meta.source,
        checksum,
        authorities: counts.authorities,
        teams: counts.teams,
        coverage: counts.coverage,
      },
    });
    if (inUse.length > 0) await auditForced(trx, at, meta, versionId, inUse);
    return { versionId, changed: true, ...counts, forced: inUse };
  });
}

async function auditForced(
  trx: Kysely<Database>,
  at: Date,
  meta: ImportMeta,
  versionId: number,
  teams: TeamInUse[],
): Promise<void> {
  await appendAudit(trx, at, {
    actor: meta.actor,
    action: 'directory.import-forced',
    entityType: 'directory',
    entityId: String(versionId),
    detail: { source: meta.source, reason: meta.force?.reason ?? '', teams },
  });
}

export async function readDirectoryFile(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new RelayError('malformed-request', `${path} is not valid JSON`);
  }
}

export interface CurrentDirectory {
  versionId: number;
  directory: Directory;
  /** With its coverage index built, for routing. */
  prepared: PreparedDirectory;
}

/**
 * Versions never change once written, so each is loaded once; a cheap look at the newest id per
 * call picks up an import made by an admin or another node. Calls made together share that look
 * (one started after each of them asked: src/db/shared-read.ts), so a burst of intakes does not
 * read it once per referral.
 */
export class DirectoryCache {
  private readonly versions = new Map<number, Promise<PreparedDirectory>>();
  private readonly newest: SharedRead<DirectoryVersion | undefined>;

  constructor(private readonly db: Kysely<Database>) {
    this.newest = new SharedRead(() => latestVersion(db));
  }

  async current(): Promise<CurrentDirectory | undefined> {
    const latest = await this.newest.get();
    if (!latest) return undefined;
    const prepared = await this.prepared(latest.id);
    return { versionId: latest.id, directory: prepared.directory, prepared };
  }

  async version(versionId: number): Promise<Directory> {
    return (await this.prepared(versionId)).directory;
  }

  prepared(versionId: number): Promise<PreparedDirectory> {
    let loaded = this.versions.get(versionId);
    if (!loaded) {
      loaded = loadDirectory(this.db, versionId).then(prepareDirectory);
      loaded.catch(() => this.versions.delete(versionId));
      this.versions.set(versionId, loaded);
    }
    return loaded;
  }
}
