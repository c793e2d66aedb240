import { createHmac } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { DAY, MINUTE } from '../time.ts';

/** Wrong passwords allowed from one client for one account before it must wait. */
export const FREE_FAILURES = 5;
/** The first wait; each further failure doubles it, up to MAX_WAIT_MS. */
export const FIRST_WAIT_MS = 1 * MINUTE;
export const MAX_WAIT_MS = 15 * MINUTE;
/** A count left alone this long starts again. */
const FORGET_AFTER_MS = 1 * DAY;

/**
 * Who is trying which account: keyed hashes of the typed email (known or not, so the answer cannot
 * tell them apart) and of the client address, so the table holds neither.
 */
export interface ThrottleKey {
  account: string;
  client: string;
}

export function throttleKey(secret: string, email: string, client: string): ThrottleKey {
  const mac = (label: string, value: string) =>
    createHmac('sha256', secret).update(`${label}:${value}`).digest('base64url');
  return { account: accountKey(secret, email), client: mac('sign-in-client', client) };
}

export function accountKey(secret: string, email: string): string {
  return createHmac('sha256', secret)
    .update(`sign-in-account:${email.trim().toLowerCase()}`)
    .digest('base64url');
}

/** How long this client must wait before trying this account again, in ms (0: it may try now). */
export async function waitFor(db: Kysely<Database>, key: ThrottleKey, now: Date): Promise<number> {
  const row = await db
    .selectFrom('sign_in_throttles')
    .select('locked_until')
    .where('account', '=', key.account)
    .where('client', '=', key.client)
    .executeTakeFirst();
  if (!row?.locked_until) return 0;
  return Math.max(0, new Date(row.locked_until).getTime() - now.getTime());
}

/** The wait after the nth failure: none for the first FREE_FAILURES - 1, then 1, 2, 4, 8, 15 minutes. */
export function waitAfter(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  return Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** (failures - FREE_FAILURES));
}

/**
 * Counts one failure and returns the wait it brings (0 while the client still has tries). One
 * upsert, so concurrent guesses from the same client are all counted.
 */
export async function recordFailure(db: Kysely<Database>, key: ThrottleKey, now: Date): Promise<number> {
  const at = now.toISOString();
  const stale = new Date(now.getTime() - FORGET_AFTER_MS).toISOString();
  const row = await db
    .insertInto('sign_in_throttles')
    .values({ ...key, failures: 1, locked_until: null, updated_at: at })
    .onConflict((oc) =>
      oc.columns(['account', 'client']).doUpdateSet({
        failures: sql<number>`case when sign_in_throttles.updated_at < ${stale} then 1 else sign_in_throttles.failures + 1 end`,
        updated_at: at,
      }),
    )
    .returning('failures')
    .executeTakeFirstOrThrow();
  const wait = waitAfter(Number(row.failures));
  if (wait > 0) {
    await db
      .updateTable('sign_in_throttles')
      .set({ locked_until: new Date(now.getTime() + wait).toISOString() })
      .where('account', '=', key.account)
      .where('client', '=', key.client)
      .execute();
  }
  // Rows nobody has touched for a day say nothing any more; clearing them keeps the table small.
  await db.deleteFrom('sign_in_throttles').where('updated_at', '<', stale).execute();
  return wait;
}

/** A right password clears this client's count for the account (others' counts stay). */
export async function clearFailures(db: Kysely<Database>, key: ThrottleKey): Promise<void> {
  await db
    .deleteFrom('sign_in_throttles')
    .where('account', '=', key.account)
    .where('client', '=', key.client)
    .execute();
}

/** An admin's unlock: every client may try this account again. */
export async function clearAccount(db: Kysely<Database>, account: string): Promise<void> {
  await db.deleteFrom('sign_in_throttles').where('account', '=', account).execute();
}

/** Whether any client is waiting on this account, for the admin's user list. */
export async function waitingAccounts(db: Kysely<Database>, now: Date): Promise<Set<string>> {
  const rows = await db
    .selectFrom('sign_in_throttles')
    .select('account')
    .where('locked_until', '>', now.toISOString())
    .execute();
  return new Set(rows.map((r) => r.account));
}
