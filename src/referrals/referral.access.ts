import type { Kysely } from 'kysely';
import type { DataKey } from '../config.ts';
import type { RelayContext } from '../context.ts';
import type { Database } from '../db/schema.ts';
import { RelayError } from '../errors.ts';
import { appendAudit } from '../records/audit.ts';
import { PERSONAL_FIELDS, unsealField } from '../records/personal-data.ts';
import type { ApiKey } from '../access/apikey.service.ts';
import type { User } from '../access/user.service.ts';
import { findReferral, isRoutedTo, type ReferralRow } from '../records/referral.repository.ts';
import type { ReferralInputType } from './referral.schema.ts';

/**
 * Who may see a referral's content: the safeguarding team sees every referral; a crew member the
 * ones they raised; a recipient those routed to one of their teams. Admins and auditors see no
 * referral content (unless they also hold one of those roles).
 */
export async function maySee(db: Kysely<Database>, user: User, referral: ReferralRow): Promise<boolean> {
  if (user.roles.includes('safeguarding')) return true;
  if (user.roles.includes('crew') && referral.raised_by_user === user.id) return true;
  if (user.roles.includes('recipient') && user.teams.length > 0) {
    const routed = await db
      .selectFrom('routes')
      .select('id')
      .where('referral_id', '=', referral.id)
      .where('team_id', 'in', user.teams)
      .executeTakeFirst();
    return routed !== undefined;
  }
  return false;
}

/**
 * What an API key may read (the JSON status document, the FHIR Task): a source system sees what it
 * raised; a team sees what was routed to it. Anything else is "not found".
 */
export async function keyMayRead(ctx: RelayContext, key: ApiKey, referral: ReferralRow): Promise<boolean> {
  if (key.scope === 'referrals:write') {
    return (
      referral.raised_by_key === key.id ||
      (key.sourceSystem !== null && referral.source_system === key.sourceSystem)
    );
  }
  return key.teamId !== null && (await isRoutedTo(ctx.db.kysely, referral.id, key.teamId));
}

/** What is left of a referral's content once retention has removed its personal data. */
export interface PurgedPayload {
  purged: true;
  purgedAt: string;
}

export type ReferralPayload = ReferralInputType | PurgedPayload;

export function isPurged(payload: ReferralPayload): payload is PurgedPayload {
  return 'purged' in payload && payload.purged === true;
}

/**
 * The referral as received: the subject's personal data. The one reader of `payload`: it decrypts
 * (a row from before encryption reads as plain JSON), and after retention it returns the marker.
 */
export function readPayload(keys: readonly DataKey[], referral: ReferralRow): ReferralPayload {
  const json = unsealField(keys, PERSONAL_FIELDS.payload, referral.id, referral.payload) ?? '{}';
  const payload = JSON.parse(json) as ReferralInputType | { purged?: unknown; purgedAt?: unknown };
  if ('purged' in payload && payload.purged === true) {
    const at = typeof payload.purgedAt === 'string' ? payload.purgedAt : referral.purged_at;
    return { purged: true, purgedAt: at ?? '' };
  }
  return payload as ReferralInputType;
}

/**
 * Opens a referral's personal data for a person, or fails as "not found" (so ids cannot be probed).
 * Every successful view is written to the audit log: who, when, which referral.
 */
export async function viewReferral(
  ctx: RelayContext,
  user: User,
  idOrReference: string,
  purpose: string,
): Promise<{ referral: ReferralRow; payload: ReferralPayload }> {
  const referral = await findReferral(ctx.db.kysely, idOrReference);
  if (!referral || !(await maySee(ctx.db.kysely, user, referral))) {
    throw new RelayError('not-found', 'No referral with that reference is visible to you');
  }
  await ctx.db.kysely.transaction().execute((trx) =>
    appendAudit(trx, ctx.clock.now(), {
      actor: `user:${user.id}`,
      action: 'referral.viewed',
      entityType: 'referral',
      entityId: referral.id,
      detail: { reference: referral.reference, purpose },
    }),
  );
  return { referral, payload: readPayload(ctx.config.dataKeys, referral) };
}
