import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.ts';
import type { Database } from '../../db/schema.ts';
import { RelayError, type FieldIssue } from '../../errors.ts';
import { appendAudit } from '../../governance/audit.ts';
import { MINUTE } from '../../time.ts';
import { DUMMY_HASH, generatePassword, hashPassword, verifyPassword } from './password.ts';

export const ROLES = ['crew', 'safeguarding', 'recipient', 'admin', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: string;
  email: string;
  name: string;
  roles: Role[];
  teams: string[];
}

export const MAX_FAILED_ATTEMPTS = 5;
export const LOCKOUT_MS = 15 * MINUTE;

export function rowToUser(row: Database['users']): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    roles: JSON.parse(row.roles) as Role[],
    teams: JSON.parse(row.teams) as string[],
  };
}

export interface NewUser {
  email: string;
  name?: string;
  roles: string[];
  teams?: string[];
  password?: string;
}

function validate(input: NewUser, teamExists: (id: string) => boolean): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(input.email))
    issues.push({ path: 'email', message: 'Enter a valid email address' });
  if (input.roles.length === 0)
    issues.push({ path: 'role', message: `Give at least one role: ${ROLES.join(', ')}` });
  for (const role of input.roles) {
    if (!(ROLES as readonly string[]).includes(role))
      issues.push({ path: 'role', message: `Unknown role; use ${ROLES.join(', ')}` });
  }
  if (input.roles.includes('recipient') && (input.teams ?? []).length === 0) {
    issues.push({ path: 'team', message: 'A recipient must belong to at least one team' });
  }
  for (const team of input.teams ?? []) {
    if (!teamExists(team))
      issues.push({ path: 'team', message: 'No team with that id in the current directory' });
  }
  if (input.password !== undefined && input.password.length < 12) {
    issues.push({ path: 'password', message: 'Use at least 12 characters' });
  }
  return issues;
}

/** Creates an account; when no password is given, generates one to hand over once. */
export async function createUser(
  db: Kysely<Database>,
  clock: Clock,
  input: NewUser,
  actor: string,
  teamExists: (id: string) => boolean,
): Promise<{ user: User; password: string }> {
  const issues = validate(input, teamExists);
  if (issues.length > 0) throw new RelayError('validation-failed', 'The account is not valid', issues);
  const password = input.password ?? generatePassword();
  const now = clock.now();
  const row = {
    id: randomUUID(),
    email: input.email.trim().toLowerCase(),
    name: input.name?.trim() || input.email.split('@')[0] || input.email,
    roles: JSON.stringify([...new Set(input.roles)]),
    teams: JSON.stringify([...new Set(input.teams ?? [])]),
    password_hash: await hashPassword(password),
    failed_attempts: 0,
    locked_until: null,
    created_at: now.toISOString(),
    disabled_at: null,
  };
  const existing = await db
    .selectFrom('users')
    .select('id')
    .where('email', '=', row.email)
    .executeTakeFirst();
  if (existing)
    throw new RelayError('validation-failed', 'The account is not valid', [
      { path: 'email', message: 'An account with that email already exists' },
    ]);
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('users').values(row).execute();
    await appendAudit(trx, now, {
      actor,
      action: 'user.created',
      entityType: 'user',
      entityId: row.id,
      detail: { roles: input.roles, teams: input.teams ?? [] },
    });
  });
  return { user: rowToUser(row), password };
}

export type SignInResult =
  { kind: 'ok'; user: User } | { kind: 'invalid' } | { kind: 'locked'; until: string };

/**
 * Checks credentials; after MAX_FAILED_ATTEMPTS wrong passwords the account locks for LOCKOUT_MS.
 * Every outcome is audited against the account (never the typed password or unknown emails).
 */
export async function signIn(
  db: Kysely<Database>,
  clock: Clock,
  email: string,
  password: string,
): Promise<SignInResult> {
  const now = clock.now();
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('email', '=', email.trim().toLowerCase())
    .executeTakeFirst();
  const valid = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
  if (!row || row.disabled_at) return { kind: 'invalid' };
  if (row.locked_until && row.locked_until > now.toISOString())
    return { kind: 'locked', until: row.locked_until };
  const audit = (action: string) => (trx: Kysely<Database>) =>
    appendAudit(trx, now, { actor: `user:${row.id}`, action, entityType: 'user', entityId: row.id });
  if (valid) {
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set({ failed_attempts: 0, locked_until: null })
        .where('id', '=', row.id)
        .execute();
      await audit('user.signed-in')(trx);
    });
    return { kind: 'ok', user: rowToUser(row) };
  }
  const attempts = row.failed_attempts + 1;
  const lock = attempts >= MAX_FAILED_ATTEMPTS ? new Date(now.getTime() + LOCKOUT_MS).toISOString() : null;
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('users')
      .set({ failed_attempts: lock ? 0 : attempts, locked_until: lock })
      .where('id', '=', row.id)
      .execute();
    await audit(lock ? 'user.locked' : 'user.sign-in-failed')(trx);
  });
  return lock ? { kind: 'locked', until: lock } : { kind: 'invalid' };
}
