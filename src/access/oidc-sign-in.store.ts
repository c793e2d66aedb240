import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import { MINUTE } from '../time.ts';

/** Long enough to sign in at the provider with a smartcard; short enough that old states die. */
export const SIGN_IN_WINDOW_MS = 10 * MINUTE;

export interface PendingSignIn {
  provider: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  next: string;
}

const hash = (state: string) => createHash('sha256').update(state).digest('hex');

/** Stored in the database, so the callback may reach any node behind the load balancer. */
export async function savePendingSignIn(
  db: Kysely<Database>,
  clock: Clock,
  pending: PendingSignIn,
): Promise<void> {
  const now = clock.now();
  await db.deleteFrom('oidc_sign_ins').where('expires_at', '<=', now.toISOString()).execute();
  await db
    .insertInto('oidc_sign_ins')
    .values({
      state_hash: hash(pending.state),
      provider: pending.provider,
      nonce: pending.nonce,
      code_verifier: pending.codeVerifier,
      next: pending.next,
      expires_at: new Date(now.getTime() + SIGN_IN_WINDOW_MS).toISOString(),
    })
    .execute();
}

/**
 * Takes the sign-in this state began, once: a replayed or forged state, one begun for another
 * provider, or one older than the window finds nothing.
 */
export async function takePendingSignIn(
  db: Kysely<Database>,
  clock: Clock,
  provider: string,
  state: string,
): Promise<PendingSignIn | undefined> {
  const row = await db
    .deleteFrom('oidc_sign_ins')
    .where('state_hash', '=', hash(state))
    .returningAll()
    .executeTakeFirst();
  if (!row || row.provider !== provider || row.expires_at <= clock.now().toISOString()) return undefined;
  return { provider, state, nonce: row.nonce, codeVerifier: row.code_verifier, next: row.next };
}
