import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import { HOUR, MINUTE } from '../time.ts';
import { rowToUser, type User } from './user.service.ts';

/** Sessions end after 30 minutes without use, and after SESSION_MAX_AGE (12 hours) whatever happens. */
export const SESSION_IDLE_MS = 30 * MINUTE;
export const SESSION_MAX_MS = 12 * HOUR;

export interface SessionOptions {
  /** The absolute lifetime (SESSION_MAX_AGE). */
  maxAgeMs?: number;
  /** The identity provider that signed the person in, and its ID token, for signing out there too. */
  provider?: string;
  idToken?: string;
}

/** What signing out needs to know about the session it ends. */
export interface EndedSession {
  provider: string | null;
  idToken: string | null;
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/** Stored in the database, so every node behind the load balancer shares them. */
export async function createSession(
  db: Kysely<Database>,
  clock: Clock,
  userId: string,
  options: SessionOptions = {},
): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  const now = clock.now();
  await db
    .insertInto('sessions')
    .values({
      id_hash: hash(token),
      user_id: userId,
      created_at: now.toISOString(),
      last_seen_at: now.toISOString(),
      expires_at: new Date(now.getTime() + (options.maxAgeMs ?? SESSION_MAX_MS)).toISOString(),
      provider: options.provider ?? null,
      id_token: options.idToken ?? null,
    })
    .execute();
  return token;
}

export async function resolveSession(
  db: Kysely<Database>,
  clock: Clock,
  token: string,
): Promise<User | undefined> {
  const now = clock.now();
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('users')
    .select(['sessions.last_seen_at', 'sessions.expires_at'])
    .where('sessions.id_hash', '=', hash(token))
    .executeTakeFirst();
  if (!row) return undefined;
  const idleSince = new Date(row.last_seen_at).getTime();
  // A disabled account's sessions end at once, whoever disabled it and however.
  const over = row.expires_at <= now.toISOString() || now.getTime() - idleSince > SESSION_IDLE_MS;
  if (row.disabled_at || over) {
    await endSession(db, token);
    return undefined;
  }
  // Touch at most once a minute: a page view should not always cost a write.
  if (now.getTime() - idleSince > MINUTE) {
    await db
      .updateTable('sessions')
      .set({ last_seen_at: now.toISOString() })
      .where('id_hash', '=', hash(token))
      .execute();
  }
  return rowToUser(row);
}

/** Ends one session, returning how it was signed in (or undefined if it had already ended). */
export async function endSession(db: Kysely<Database>, token: string): Promise<EndedSession | undefined> {
  const row = await db
    .selectFrom('sessions')
    .select(['provider', 'id_token'])
    .where('id_hash', '=', hash(token))
    .executeTakeFirst();
  await db.deleteFrom('sessions').where('id_hash', '=', hash(token)).execute();
  return row && { provider: row.provider, idToken: row.id_token };
}

/** Ends every session of a person (their account disabled or unlinked). */
export async function endAllSessions(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
}

/** Ends every session of a person but the one making the request (after a password change). */
export async function endOtherSessions(
  db: Kysely<Database>,
  userId: string,
  keepToken: string,
): Promise<void> {
  await db
    .deleteFrom('sessions')
    .where('user_id', '=', userId)
    .where('id_hash', '!=', hash(keepToken))
    .execute();
}
