import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import { RelayError } from '../errors.ts';
import { appendAudit } from '../records/audit.ts';

/**
 * `referrals:write`: a source system (ePCR); `acknowledgements:write`: one receiving team's system;
 * `escalations:write`: the ambulance service's safeguarding team tooling, which works escalations.
 */
export const API_SCOPES = ['referrals:write', 'acknowledgements:write', 'escalations:write'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export interface ApiKey {
  id: string;
  name: string;
  scope: ApiScope;
  teamId: string | null;
  sourceSystem: string | null;
  createdAt: string;
  revokedAt: string | null;
}

export interface NewApiKey {
  name: string;
  scope: string;
  teamId?: string;
  sourceSystem?: string;
}

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function rowToApiKey(row: Database['api_keys']): ApiKey {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope as ApiScope,
    teamId: row.team_id,
    sourceSystem: row.source_system,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

/** The source system of Relay's own web form: no key may raise referrals as it. */
export const WEB_SOURCE_SYSTEM = 'relay-web';

/**
 * A referrals:write key raises referrals for exactly one source system (docs/operations.md, API keys and
 * source systems), so one
 * ePCR cannot raise as another, or take another's references first; other scopes have none.
 */
function systemProblems(input: NewApiKey): { path: string; message: string }[] {
  const system = input.sourceSystem?.trim();
  if (input.scope !== 'referrals:write') {
    return system ? [{ path: 'system', message: 'Only a referrals:write key names a source system' }] : [];
  }
  if (!system)
    return [{ path: 'system', message: 'A referrals:write key must name its source system (--system)' }];
  if (system === WEB_SOURCE_SYSTEM)
    return [
      { path: 'system', message: `${WEB_SOURCE_SYSTEM} is Relay's own web form; name the ePCR's system` },
    ];
  if (system.length > 100 || /[\s\p{Cc}]/u.test(system))
    return [
      { path: 'system', message: 'Use the source.system the ePCR sends: up to 100 characters, no spaces' },
    ];
  return [];
}

/** Creates a key and returns it once: only its hash is stored, so it cannot be shown again. */
export async function createApiKey(
  db: Kysely<Database>,
  clock: Clock,
  input: NewApiKey,
  actor: string,
  teamExists: (teamId: string) => Promise<boolean>,
): Promise<{ apiKey: ApiKey; key: string }> {
  const problems = [];
  if (!input.name.trim()) problems.push({ path: 'name', message: 'Enter a name for the key' });
  if (!(API_SCOPES as readonly string[]).includes(input.scope)) {
    problems.push({ path: 'scope', message: `Scope must be one of ${API_SCOPES.join(', ')}` });
  }
  if (input.scope === 'acknowledgements:write' && !input.teamId) {
    problems.push({ path: 'team', message: 'An acknowledgements:write key must be bound to a team' });
  } else if (input.scope === 'escalations:write' && input.teamId) {
    // Escalations span every team; binding the key to one would suggest a limit it does not have.
    problems.push({ path: 'team', message: 'An escalations:write key is not bound to a team' });
  } else if (input.teamId && !(await teamExists(input.teamId))) {
    problems.push({ path: 'team', message: 'No team with that id in the current directory' });
  }
  problems.push(...systemProblems(input));
  if (problems.length > 0) throw new RelayError('validation-failed', 'The API key is not valid', problems);

  const id = randomUUID();
  const secret = randomBytes(32).toString('base64url');
  const key = `srk_${secret}`;
  const at = clock.now();
  const row = {
    id,
    name: input.name.trim(),
    scope: input.scope,
    team_id: input.teamId ?? null,
    source_system: input.sourceSystem?.trim() || null,
    key_hash: hashKey(key),
    key_prefix: key.slice(0, 10),
    created_at: at.toISOString(),
    revoked_at: null,
    last_used_at: null,
  };
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('api_keys').values(row).execute();
    await appendAudit(trx, at, {
      actor,
      action: 'apikey.created',
      entityType: 'api_key',
      entityId: id,
      detail: { scope: row.scope, team: row.team_id, sourceSystem: row.source_system },
    });
  });
  return { apiKey: rowToApiKey(row), key };
}

/** The key's record when it exists and is not revoked. */
export async function authenticateApiKey(db: Kysely<Database>, key: string): Promise<ApiKey | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('key_hash', '=', hashKey(key))
    .executeTakeFirst();
  if (!row || row.revoked_at) return undefined;
  return rowToApiKey(row);
}

export async function revokeApiKey(
  db: Kysely<Database>,
  clock: Clock,
  id: string,
  actor: string,
  reason?: string,
): Promise<void> {
  const at = clock.now();
  await db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('api_keys')
      .set({ revoked_at: at.toISOString() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new RelayError('not-found', 'No active API key with that id');
    await appendAudit(trx, at, {
      actor,
      action: 'apikey.revoked',
      entityType: 'api_key',
      entityId: id,
      ...(reason ? { detail: { reason } } : {}),
    });
  });
}

export async function listApiKeys(db: Kysely<Database>): Promise<ApiKey[]> {
  const rows = await db.selectFrom('api_keys').selectAll().orderBy('created_at').execute();
  return rows.map(rowToApiKey);
}
