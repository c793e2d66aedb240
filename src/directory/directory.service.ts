import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { canonicalJson } from '../canonical-json.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import { RelayError } from '../errors.ts';
import { appendAudit } from '../governance/audit.ts';
import { parseDirectoryFile } from './directory.schema.ts';
import { insertVersion, latestVersion, loadDirectory } from './directory.repository.ts';
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
}

/** Validates a directory file and, when it differs from the current version, stores it as a new version. */
export async function importDirectory(
  db: Kysely<Database>,
  clock: Clock,
  json: unknown,
  meta: { actor: string; source: string },
): Promise<ImportResult> {
  const parsed = parseDirectoryFile(json);
  if (!parsed.ok) throw new RelayError('validation-failed', 'The directory file has errors', parsed.errors);
  const directory = parsed.directory;
  const checksum = createHash('sha256').update(canonicalJson(directory)).digest('hex');
  const counts = {
    authorities: directory.authorities.length,
    teams: directory.authorities.reduce((n, a) => n + a.teams.length, 0),
    coverage: directory.coverage.length,
  };
  return db.transaction().execute(async (trx) => {
    const current = await latestVersion(trx);
    if (current?.checksum === checksum) return { versionId: current.id, changed: false, ...counts };
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
      detail: { source: meta.source, checksum, ...counts },
    });
    return { versionId, changed: true, ...counts };
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
 * call picks up an import made by an admin or another node.
 */
export class DirectoryCache {
  private readonly versions = new Map<number, Promise<PreparedDirectory>>();

  constructor(private readonly db: Kysely<Database>) {}

  async current(): Promise<CurrentDirectory | undefined> {
    const latest = await latestVersion(this.db);
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
