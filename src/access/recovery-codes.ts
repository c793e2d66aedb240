import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { hashPassword, verifyPassword } from './password.ts';

export const RECOVERY_CODE_COUNT = 10;
// No 0/o, 1/l/i: read off paper by someone locked out, often in a hurry.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Ten characters (about 50 bits) shown as two groups of five. */
function newCode(): string {
  const chars = [...randomBytes(10)].map((b) => ALPHABET[b % ALPHABET.length]).join('');
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

/** What a person typed, in the form codes are hashed in: case, spaces and hyphens do not matter. */
export function normaliseRecoveryCode(typed: string): string {
  const bare = typed.toLowerCase().replace(/[\s-]/g, '');
  return bare.length === 10 ? `${bare.slice(0, 5)}-${bare.slice(5)}` : bare;
}

/**
 * Replaces a person's recovery codes with RECOVERY_CODE_COUNT new ones, stored as scrypt hashes like
 * passwords, and returns them in clear to be shown once.
 */
export async function replaceRecoveryCodes(trx: Kysely<Database>, userId: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
  const hashes = [];
  for (const code of codes) hashes.push(await hashPassword(code));
  await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  await trx
    .insertInto('recovery_codes')
    .values(hashes.map((code_hash) => ({ id: randomUUID(), user_id: userId, code_hash, used_at: null })))
    .execute();
  return codes;
}

/**
 * Uses up the unused code that matches, if any, and returns how many remain unused (undefined: no
 * match). The update only takes a code still unused, so two sign-ins racing on one code cannot both win.
 */
export async function useRecoveryCode(
  db: Kysely<Database>,
  userId: string,
  typed: string,
  now: Date,
): Promise<number | undefined> {
  const code = normaliseRecoveryCode(typed);
  if (!/^[a-z0-9]{5}-[a-z0-9]{5}$/.test(code)) return undefined;
  const unused = await db
    .selectFrom('recovery_codes')
    .select(['id', 'code_hash'])
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .execute();
  for (const row of unused) {
    if (!(await verifyPassword(code, row.code_hash))) continue;
    const taken = await db
      .updateTable('recovery_codes')
      .set({ used_at: now.toISOString() })
      .where('id', '=', row.id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(taken.numUpdatedRows) === 1 ? unused.length - 1 : undefined;
  }
  return undefined;
}
