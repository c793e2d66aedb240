import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.ts';
import type { Database } from '../../db/schema.ts';
import { RelayError } from '../../errors.ts';
import { appendAudit } from '../../records/audit.ts';
import { hashPassword, generatePassword } from '../../access/password.ts';
import { accountKey, clearAccount, waitingAccounts } from '../../access/sign-in.throttle.ts';
import { rowToUser, validate, type User } from '../../access/user.service.ts';

export interface UserListing extends User {
  createdAt: string;
  disabled: boolean;
  locked: boolean;
  /** They have set up an authenticator app for their password sign-in (an admin may reset it). */
  secondFactor: boolean;
}

/** `locked`: some client must wait before trying this account again (an admin may clear it). */
export async function listUsers(db: Kysely<Database>, clock: Clock, secret: string): Promise<UserListing[]> {
  const now = clock.now();
  const rows = await db.selectFrom('users').selectAll().orderBy('email').execute();
  const waiting = await waitingAccounts(db, now);
  const enrolled = await db
    .selectFrom('second_factors')
    .select('id')
    .where('enrolled_at', 'is not', null)
    .execute();
  const withFactor = new Set(enrolled.map((r) => r.id));
  return rows.map((row) => ({
    ...rowToUser(row),
    createdAt: row.created_at,
    disabled: row.disabled_at !== null,
    locked: waiting.has(accountKey(secret, row.email)),
    secondFactor: withFactor.has(row.id),
  }));
}

export type UserAction = 'disable' | 'enable' | 'unlock';

const AUDIT_ACTIONS: Record<UserAction, string> = {
  disable: 'user.disabled',
  enable: 'user.enabled',
  unlock: 'user.unlocked',
};

function changesFor(action: UserAction, at: string) {
  if (action === 'disable') return { disabled_at: at };
  if (action === 'enable') return { disabled_at: null };
  return {};
}

/**
 * Disables, re-enables or unlocks an account, audited in the same transaction. Disabling also ends
 * the account's sessions, so a person leaving loses access at once rather than at the idle timeout.
 */
export async function changeUser(
  db: Kysely<Database>,
  clock: Clock,
  userId: string,
  action: UserAction,
  actor: string,
  secret: string,
  reason?: string,
): Promise<void> {
  // An admin who disables their own account can lock every admin out; another admin must do it.
  if (action === 'disable' && actor === `user:${userId}`) {
    throw new RelayError('state-conflict', 'You cannot disable your own account');
  }
  const at = clock.now();
  await db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirst();
    if (!row) throw new RelayError('not-found', 'No user with that id');
    const changes = changesFor(action, at.toISOString());
    if (Object.keys(changes).length > 0)
      await trx.updateTable('users').set(changes).where('id', '=', userId).execute();
    if (action === 'unlock') await clearAccount(trx, accountKey(secret, row.email));
    if (action === 'disable') await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
    await appendAudit(trx, at, {
      actor,
      action: AUDIT_ACTIONS[action],
      entityType: 'user',
      entityId: userId,
      ...(reason ? { detail: { reason } } : {}),
    });
  });
}

/**
 * An admin's password reset: a new generated password, shown to the admin once, that the person
 * must replace at their next sign-in. Their sessions end and any sign-in waits are cleared.
 */
export async function resetPassword(
  db: Kysely<Database>,
  clock: Clock,
  userId: string,
  actor: string,
  secret: string,
  reason?: string,
): Promise<{ user: User; password: string }> {
  const password = generatePassword();
  const hash = await hashPassword(password);
  const at = clock.now();
  const user = await db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
    if (!row) throw new RelayError('not-found', 'No user with that id');
    await trx
      .updateTable('users')
      .set({ password_hash: hash, must_change_password: 1 })
      .where('id', '=', userId)
      .execute();
    await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
    await clearAccount(trx, accountKey(secret, row.email));
    await appendAudit(trx, at, {
      actor,
      action: 'user.password-reset',
      entityType: 'user',
      entityId: userId,
      ...(reason ? { detail: { reason } } : {}),
    });
    return rowToUser(row);
  });
  return { user, password };
}

export interface AccessChange {
  roles: string[];
  teams: string[];
}

/**
 * An admin changes what an account may do: its roles and teams, checked as at creation, audited
 * with what they were and what they became. Sessions read the account on every request, so the
 * change takes effect at the person's next page. An admin cannot take their own admin role away:
 * the last admin could lock everyone out.
 */
export async function changeAccess(
  db: Kysely<Database>,
  clock: Clock,
  userId: string,
  change: AccessChange,
  actor: string,
  teamExists: (id: string) => boolean,
): Promise<User> {
  const at = clock.now();
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
    if (!row) throw new RelayError('not-found', 'No user with that id');
    const issues = validate({ email: row.email, ...change }, teamExists);
    if (actor === `user:${userId}` && !change.roles.includes('admin'))
      issues.push({ path: 'role', message: 'You cannot take away your own admin role' });
    if (issues.length > 0) throw new RelayError('validation-failed', undefined, issues);
    const before = rowToUser(row);
    await trx
      .updateTable('users')
      .set({ roles: JSON.stringify(change.roles), teams: JSON.stringify(change.teams) })
      .where('id', '=', userId)
      .execute();
    await appendAudit(trx, at, {
      actor,
      action: 'user.access-changed',
      entityType: 'user',
      entityId: userId,
      detail: {
        roles: { from: before.roles, to: change.roles },
        teams: { from: before.teams, to: change.teams },
      },
    });
    return { ...before, roles: change.roles as User['roles'], teams: change.teams };
  });
}
