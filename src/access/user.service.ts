import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import { RelayError, type FieldIssue } from '../errors.ts';
import { appendAudit } from '../records/audit.ts';
import { DUMMY_HASH, generatePassword, hashPassword, verifyPassword } from './password.ts';
import { passwordProblem } from './password.policy.ts';
import { clearFailures, recordFailure, throttleKey, waitFor } from './sign-in.throttle.ts';

import { ROLES, type Role } from '../roles.ts';

export { ROLES, type Role };

export interface User {
  id: string;
  email: string;
  name: string;
  roles: Role[];
  teams: string[];
  /** Set after an admin's reset: every page leads to /account/password until a new one is chosen. */
  mustChangePassword?: true;
}

export function rowToUser(row: Database['users']): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    roles: JSON.parse(row.roles) as Role[],
    teams: JSON.parse(row.teams) as string[],
    ...(row.must_change_password ? { mustChangePassword: true } : {}),
  };
}

export interface NewUser {
  email: string;
  name?: string;
  roles: string[];
  teams?: string[];
  password?: string;
}

/** Every problem with an account's email, roles, teams and (if given) password, by field. */
export function validate(input: NewUser, teamExists: (id: string) => boolean): FieldIssue[] {
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
  const weak = input.password === undefined ? undefined : passwordProblem(input.password, input.email);
  if (weak) issues.push({ path: 'password', message: weak });
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
    must_change_password: 0,
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
  | { kind: 'ok'; user: User; secondFactor: boolean }
  | { kind: 'invalid' }
  | { kind: 'throttled'; retryAfterSeconds: number };

export interface SignInAttempt {
  email: string;
  password: string;
  /** The client's address (request.ip): failures are counted per account and client. */
  client: string;
  /** RELAY_SECRET, which keys the throttle's hashes. */
  secret: string;
  /** Whether this account must follow its password with a code (MFA_LOCAL, or a factor enrolled). */
  needsSecondFactor?: (userId: string) => Promise<boolean>;
}

/**
 * Checks credentials. Wrong passwords are counted per account *and* client, so a stranger's guesses
 * slow the stranger (a wait that doubles from 1 to 15 minutes after FREE_FAILURES) and never lock
 * the real person out from their own machine. Unknown, disabled and known accounts give the same
 * answers after the same work (a password hash is always checked), so nothing tells them apart.
 * Outcomes on real accounts are audited (never the typed password, nor unknown emails).
 */
export async function signIn(
  db: Kysely<Database>,
  clock: Clock,
  attempt: SignInAttempt,
): Promise<SignInResult> {
  const now = clock.now();
  const key = throttleKey(attempt.secret, attempt.email, attempt.client);
  const wait = await waitFor(db, key, now);
  if (wait > 0) return { kind: 'throttled', retryAfterSeconds: Math.ceil(wait / 1000) };
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('email', '=', attempt.email.trim().toLowerCase())
    .executeTakeFirst();
  const valid = await verifyPassword(attempt.password, row?.password_hash ?? DUMMY_HASH);
  const known = row && !row.disabled_at ? row : undefined;
  const audit = (trx: Kysely<Database>, id: string, action: string) =>
    appendAudit(trx, now, { actor: `user:${id}`, action, entityType: 'user', entityId: id });
  if (known && valid) {
    const secondFactor = (await attempt.needsSecondFactor?.(known.id)) ?? false;
    await db.transaction().execute(async (trx) => {
      // With a code to come, the count stays until the code is right: a stolen password must not
      // buy fresh guesses at the code.
      if (!secondFactor) await clearFailures(trx, key);
      await audit(trx, known.id, secondFactor ? 'user.password-accepted' : 'user.signed-in');
    });
    return { kind: 'ok', user: rowToUser(known), secondFactor };
  }
  const waitNow = await db.transaction().execute(async (trx) => {
    const ms = await recordFailure(trx, key, now);
    if (known) await audit(trx, known.id, ms > 0 ? 'user.sign-in-throttled' : 'user.sign-in-failed');
    return ms;
  });
  return waitNow > 0
    ? { kind: 'throttled', retryAfterSeconds: Math.ceil(waitNow / 1000) }
    : { kind: 'invalid' };
}
