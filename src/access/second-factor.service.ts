import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { RelayContext } from '../context.ts';
import type { Database } from '../db/schema.ts';
import { RelayError } from '../errors.ts';
import { appendAudit } from '../records/audit.ts';
import { PERSONAL_FIELDS, sealField, unsealField } from '../records/personal-data.ts';
import { MINUTE } from '../time.ts';
import { replaceRecoveryCodes, useRecoveryCode } from './recovery-codes.ts';
import { endAllSessions } from './session.service.ts';
import { clearFailures, recordFailure, throttleKey, waitFor } from './sign-in.throttle.ts';
import { isTotpShaped, newTotpSecret, totpStep } from './totp.ts';

/** Time from a right password to the code: long enough to set up an app, short enough to matter. */
export const CHALLENGE_WINDOW_MS = 10 * MINUTE;

const hash = (token: string) => createHash('sha256').update(token).digest('hex');
const sealedSecret = (ctx: RelayContext, userId: string, secret: string) =>
  sealField(ctx.config.dataKeys, PERSONAL_FIELDS.totpSecret, userId, secret);

/** Whether a person has a second factor that guards their sign-in (one they have proved a code from). */
export async function isEnrolled(db: Kysely<Database>, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('second_factors')
    .select('enrolled_at')
    .where('id', '=', userId)
    .executeTakeFirst();
  return Boolean(row?.enrolled_at);
}

/**
 * Whether a password sign-in must be followed by a code: always once the person has enrolled; before
 * that, only where MFA_LOCAL=required (the default in production), which then enrols them.
 */
export async function needsSecondFactor(ctx: RelayContext, userId: string): Promise<boolean> {
  return ctx.config.mfaLocal === 'required' || (await isEnrolled(ctx.db.kysely, userId));
}

/** A right password, the code still to come: returns the token its cookie carries. */
export async function beginChallenge(ctx: RelayContext, userId: string, next: string): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  const expires = new Date(ctx.clock.now().getTime() + CHALLENGE_WINDOW_MS).toISOString();
  await ctx.db.kysely
    .insertInto('second_factor_challenges')
    .values({ id_hash: hash(token), user_id: userId, next, expires_at: expires })
    .execute();
  return token;
}

export interface Challenge {
  userId: string;
  email: string;
  next: string;
  enrolled: boolean;
  /** After an admin's password reset: the code first, then a new password. */
  mustChangePassword: boolean;
}

/** The challenge this cookie names, if it is still open and its account still active. */
export async function readChallenge(ctx: RelayContext, token: string): Promise<Challenge | undefined> {
  const db = ctx.db.kysely;
  const now = ctx.clock.now().toISOString();
  await db.deleteFrom('second_factor_challenges').where('expires_at', '<=', now).execute();
  const row = await db
    .selectFrom('second_factor_challenges')
    .innerJoin('users', 'users.id', 'second_factor_challenges.user_id')
    .select([
      'users.id',
      'users.email',
      'users.disabled_at',
      'users.must_change_password',
      'second_factor_challenges.next',
    ])
    .where('second_factor_challenges.id_hash', '=', hash(token))
    .executeTakeFirst();
  if (!row || row.disabled_at) return undefined;
  return {
    userId: row.id,
    email: row.email,
    next: row.next,
    enrolled: await isEnrolled(db, row.id),
    mustChangePassword: Boolean(row.must_change_password),
  };
}

export async function endChallenge(db: Kysely<Database>, token: string): Promise<void> {
  await db.deleteFrom('second_factor_challenges').where('id_hash', '=', hash(token)).execute();
}

/**
 * The secret being enrolled: the one already offered if the person comes back to the page (their app
 * may hold it already), otherwise a new one. Stored sealed, and it guards nothing until a code from
 * it has been typed.
 */
export async function enrolmentSecret(ctx: RelayContext, userId: string): Promise<string> {
  const db = ctx.db.kysely;
  const row = await db.selectFrom('second_factors').selectAll().where('id', '=', userId).executeTakeFirst();
  if (row?.enrolled_at) throw new RelayError('state-conflict', 'A second factor is already set up');
  if (row) return unsealField(ctx.config.dataKeys, PERSONAL_FIELDS.totpSecret, userId, row.secret) ?? '';
  const secret = newTotpSecret();
  await db
    .insertInto('second_factors')
    .values({
      id: userId,
      secret: sealedSecret(ctx, userId, secret),
      created_at: ctx.clock.now().toISOString(),
      enrolled_at: null,
      last_step: null,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  // A second tab may have offered one first: the stored secret is the one that counts.
  return enrolmentSecret(ctx, userId);
}

/** Who is answering, and from where: the throttle counts per account and client, as for passwords. */
export interface CodeAttempt {
  userId: string;
  email: string;
  code: string;
  client: string;
}

export type CodeResult =
  | { kind: 'ok'; method: 'totp' | 'recovery-code'; recoveryCodes?: string[] }
  | { kind: 'invalid'; reason: 'wrong' | 'replayed' }
  | { kind: 'throttled'; retryAfterSeconds: number };

/**
 * Checks a code typed after the password: a TOTP code (±1 step, each step good once) or, once
 * enrolled, a recovery code (each good once). On enrolment a right code also makes the ten recovery
 * codes, returned to be shown once. Wrong codes count in the same sign-in throttle as wrong
 * passwords. Every outcome is audited, never the code or the secret.
 */
export async function checkCode(ctx: RelayContext, attempt: CodeAttempt): Promise<CodeResult> {
  const db = ctx.db.kysely;
  const now = ctx.clock.now();
  const key = throttleKey(ctx.config.secret, attempt.email, attempt.client);
  const wait = await waitFor(db, key, now);
  if (wait > 0) return { kind: 'throttled', retryAfterSeconds: Math.ceil(wait / 1000) };
  const code = attempt.code.replace(/\s/g, '');
  const result = await db.transaction().execute(async (trx) => {
    const outcome = await verifyCode(ctx, trx, attempt.userId, code, now);
    if (outcome.kind === 'ok') await clearFailures(trx, key);
    await auditOutcome(trx, now, attempt.userId, outcome);
    return outcome;
  });
  if (result.kind === 'ok') return result;
  const waitNow = await db.transaction().execute(async (trx) => {
    const ms = await recordFailure(trx, key, now);
    if (ms > 0) await audit(trx, now, attempt.userId, 'user.sign-in-throttled');
    return ms;
  });
  return waitNow > 0 ? { kind: 'throttled', retryAfterSeconds: Math.ceil(waitNow / 1000) } : result;
}

type Outcome =
  | { kind: 'ok'; method: 'totp' | 'recovery-code'; recoveryCodes?: string[]; remaining?: number }
  | { kind: 'invalid'; reason: 'wrong' | 'replayed' };

async function verifyCode(
  ctx: RelayContext,
  trx: Kysely<Database>,
  userId: string,
  code: string,
  now: Date,
): Promise<Outcome> {
  const row = await trx.selectFrom('second_factors').selectAll().where('id', '=', userId).executeTakeFirst();
  if (!row) return { kind: 'invalid', reason: 'wrong' };
  const secret = unsealField(ctx.config.dataKeys, PERSONAL_FIELDS.totpSecret, userId, row.secret) ?? '';
  const step = await totpStep(secret, code, now);
  if (step === undefined) {
    // Recovery codes stand in for an app already set up, never for setting one up; six digits are a
    // wrong app code, not worth the scrypt of checking every recovery code.
    const recovery = row.enrolled_at && !isTotpShaped(code);
    const remaining = recovery ? await useRecoveryCode(trx, userId, code, now) : undefined;
    return remaining === undefined
      ? { kind: 'invalid', reason: 'wrong' }
      : { kind: 'ok', method: 'recovery-code', remaining };
  }
  // Only a step later than the last accepted one: a code seen over a shoulder or replayed is refused.
  const taken = await trx
    .updateTable('second_factors')
    .set({ last_step: step, enrolled_at: row.enrolled_at ?? now.toISOString() })
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
    .executeTakeFirst();
  if (Number(taken.numUpdatedRows) !== 1) return { kind: 'invalid', reason: 'replayed' };
  if (row.enrolled_at) return { kind: 'ok', method: 'totp' };
  return { kind: 'ok', method: 'totp', recoveryCodes: await replaceRecoveryCodes(trx, userId) };
}

const audit = (
  trx: Kysely<Database>,
  now: Date,
  userId: string,
  action: string,
  detail?: Record<string, unknown>,
) =>
  appendAudit(trx, now, {
    actor: `user:${userId}`,
    action,
    entityType: 'user',
    entityId: userId,
    ...(detail ? { detail } : {}),
  });

async function auditOutcome(trx: Kysely<Database>, now: Date, userId: string, outcome: Outcome) {
  if (outcome.kind === 'invalid')
    return audit(trx, now, userId, 'user.second-factor-failed', { reason: outcome.reason });
  if (outcome.recoveryCodes) await audit(trx, now, userId, 'user.second-factor-enrolled', { method: 'totp' });
  if (outcome.method === 'recovery-code')
    await audit(trx, now, userId, 'user.recovery-code-used', { remaining: outcome.remaining });
  return audit(trx, now, userId, 'user.signed-in', { secondFactor: outcome.method });
}

/**
 * An admin's reset of a person's second factor (a lost phone, used-up recovery codes): the secret
 * and recovery codes go, their sessions and sign-ins in progress end, and where MFA_LOCAL=required
 * their next sign-in enrols a new one. Audited with the reason.
 */
export async function resetSecondFactor(
  ctx: RelayContext,
  userId: string,
  actor: string,
  reason: string,
): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.kysely.transaction().execute(async (trx) => {
    const user = await trx.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
    if (!user) throw new RelayError('not-found', 'No user with that id');
    const removed = await trx.deleteFrom('second_factors').where('id', '=', userId).executeTakeFirst();
    await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
    await trx.deleteFrom('second_factor_challenges').where('user_id', '=', userId).execute();
    await endAllSessions(trx, userId);
    await appendAudit(trx, now, {
      actor,
      action: 'user.second-factor-reset',
      entityType: 'user',
      entityId: userId,
      detail: { reason, hadFactor: Number(removed.numDeletedRows) > 0 },
    });
  });
}
