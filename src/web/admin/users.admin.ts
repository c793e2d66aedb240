import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.ts';
import type { Database } from '../../db/schema.ts';
import { RelayError } from '../../errors.ts';
import { appendAudit } from '../../governance/audit.ts';
import { rowToUser, type User } from '../auth/user.service.ts';

export interface UserListing extends User {
  createdAt: string;
  disabled: boolean;
  locked: boolean;
}

export async function listUsers(db: Kysely<Database>, clock: Clock): Promise<UserListing[]> {
  const now = clock.now().toISOString();
  const rows = await db.selectFrom('users').selectAll().orderBy('email').execute();
  return rows.map((row) => ({
    ...rowToUser(row),
    createdAt: row.created_at,
    disabled: row.disabled_at !== null,
    locked: row.locked_until !== null && row.locked_until > now,
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
  return { locked_until: null, failed_attempts: 0 };
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
): Promise<void> {
  // An admin who disables their own account can lock every admin out; another admin must do it.
  if (action === 'disable' && actor === `user:${userId}`) {
    throw new RelayError('state-conflict', 'You cannot disable your own account');
  }
  const at = clock.now();
  await db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('users')
      .set(changesFor(action, at.toISOString()))
      .where('id', '=', userId)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new RelayError('not-found', 'No user with that id');
    if (action === 'disable') await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
    await appendAudit(trx, at, {
      actor,
      action: AUDIT_ACTIONS[action],
      entityType: 'user',
      entityId: userId,
    });
  });
}
