import type { RelayContext } from '../context.ts';
import { RelayError } from '../errors.ts';
import { PERSONAL_FIELDS, sealField } from '../records/personal-data.ts';
import { acknowledgeRouteIn, type AckResult } from '../response/acknowledgement.service.ts';
import { resolveEscalationIn, type Resolver } from '../records/escalation.service.ts';
import { followUpTime } from './pushes/follow-up.ts';

export interface Resolution {
  note: string;
  by: Resolver;
  /** "Receipt confirmed by phone": the named person at the team who confirmed it. */
  confirmedByPhone?: { name: string; userId?: string; keyId?: string };
  /** When to look again whether the condition still stands; ESCALATION_REOPEN_AFTER when not named. */
  followUpAt?: Date;
}

/**
 * Resolves an escalation with its note and, when receipt was confirmed by phone, records the
 * acknowledgement on the team's behalf in the same transaction: either both happen or neither, so a
 * resolved escalation can never leave its team's copy silently unacknowledged.
 */
export async function resolveEscalation(
  ctx: RelayContext,
  id: string,
  resolution: Resolution,
): Promise<AckResult | undefined> {
  const now = ctx.clock.now();
  return ctx.db.kysely.transaction().execute(async (trx) => {
    const seal = (note: string, escalationId: string) =>
      sealField(ctx.config.dataKeys, PERSONAL_FIELDS.escalationNote, escalationId, note);
    const row = await trx.selectFrom('escalations').select('reason').where('id', '=', id).executeTakeFirst();
    const followUpAt = row ? followUpTime(ctx, row.reason, now, resolution.followUpAt) : null;
    const resolved = await resolveEscalationIn(
      trx,
      id,
      resolution.note,
      resolution.by,
      now,
      seal,
      followUpAt,
    );
    const phone = resolution.confirmedByPhone;
    if (!phone) return undefined;
    const route =
      resolved.referralId && resolved.teamId
        ? await trx
            .selectFrom('routes')
            .select('id')
            .where('referral_id', '=', resolved.referralId)
            .where('team_id', '=', resolved.teamId)
            .executeTakeFirst()
        : undefined;
    if (!route) {
      throw new RelayError('validation-failed', undefined, [
        {
          path: 'receiptConfirmedByPhone',
          message:
            'This escalation is not about a referral routed to a team, so there is no receipt to confirm',
        },
      ]);
    }
    return acknowledgeRouteIn(
      trx,
      route.id,
      {
        method: 'phone',
        name: phone.name,
        actor: resolution.by.actor,
        userId: phone.userId,
        keyId: phone.keyId,
      },
      now,
    );
  });
}
