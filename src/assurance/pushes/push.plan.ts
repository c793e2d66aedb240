import type { Kysely } from 'kysely';
import type { RelayContext } from '../../context.ts';
import type { Database } from '../../db/schema.ts';
import { appendAudit } from '../../records/audit.ts';
import { insertEvent, refreshStatus } from '../../records/referral.repository.ts';
import { whoIsOnCall } from '../oncall/oncall.service.ts';
import { ladderAddress, queueRungPushes, type PushCause } from './push.queue.ts';

const BATCH = 200;

export interface PlanReport {
  assigned: number;
  climbed: number;
  lapsed: number;
}

/**
 * The first push: the person on call now (the rota, else SAFEGUARDING_EMAIL). With nobody on call
 * the ladder's first address is pushed instead, so an escalation is never left with no one told.
 * Returns the rung and address, or undefined when there is nobody at all (development only: start
 * refuses production with neither a rota nor SAFEGUARDING_EMAIL).
 */
async function firstRung(ctx: RelayContext, now: Date): Promise<{ rung: number; to: string } | undefined> {
  const onCall = await whoIsOnCall(ctx, now);
  if (onCall) return { rung: 0, to: onCall.email };
  const first = ladderAddress(ctx, 1);
  return first ? { rung: 1, to: first } : undefined;
}

/** Pushes one escalation to rung `rung`, if it is still as the caller read it (compare-and-set). */
async function pushRung(
  ctx: RelayContext,
  trx: Kysely<Database>,
  row: { id: string; rung: number; pushed_at: string | null },
  target: { rung: number; to: string | undefined },
  cause: PushCause,
  now: Date,
): Promise<boolean> {
  const at = now.toISOString();
  let update = trx
    .updateTable('escalations')
    .set({ rung: target.rung, pushed_at: at })
    .where('id', '=', row.id)
    .where('rung', '=', row.rung);
  update =
    row.pushed_at === null
      ? update.where('pushed_at', 'is', null)
      : update.where('pushed_at', '=', row.pushed_at);
  const moved = await update.executeTakeFirst();
  if (moved.numUpdatedRows === 0n) return false;
  if (target.to)
    await queueRungPushes(
      trx,
      ctx,
      { escalationId: row.id, rung: target.rung, recipient: target.to, cause },
      now,
    );
  return true;
}

/** Escalations opened (or re-opened) since the last sweep: assigned to the person on call and pushed. */
export async function assignNew(ctx: RelayContext, now: Date): Promise<number> {
  const db = ctx.db.kysely;
  const fresh = await db
    .selectFrom('escalations')
    .select(['id', 'rung', 'pushed_at', 'previous_id'])
    .where('state', '=', 'open')
    .where('pushed_at', 'is', null)
    .orderBy('opened_at')
    .limit(BATCH)
    .execute();
  let assigned = 0;
  for (const row of fresh) {
    const first = await firstRung(ctx, now);
    const cause: PushCause = row.previous_id ? 'reopened' : 'opened';
    const done = await db.transaction().execute(async (trx) => {
      const ok = await pushRung(ctx, trx, row, { rung: first?.rung ?? 0, to: first?.to }, cause, now);
      if (!ok) return false;
      await trx
        .updateTable('escalations')
        .set({ assigned_to: first?.to ?? null })
        .where('id', '=', row.id)
        .execute();
      await appendAudit(trx, now, {
        actor: 'watchdog',
        action: 'escalation.assigned',
        entityType: 'escalation',
        entityId: row.id,
        detail: { to: first?.to ?? null, rung: first?.rung ?? null },
      });
      return true;
    });
    if (done) assigned += 1;
  }
  return assigned;
}

/** How long an escalation may wait unclaimed before the next rung: a third of it for `immediate`. */
export function claimByMs(ctx: RelayContext, urgency: string | null): number {
  const claimBy = ctx.config.escalation.claimByMs;
  return urgency === 'immediate' ? Math.round(claimBy / 3) : claimBy;
}

/** Open escalations nobody claimed within ESCALATION_CLAIM_BY of their last push: the next rung. */
export async function climbLadder(ctx: RelayContext, now: Date): Promise<number> {
  const ladder = ctx.config.escalation.ladder;
  if (ladder.length === 0) return 0;
  const waiting = await ctx.db.kysely
    .selectFrom('escalations')
    .leftJoin('referrals', 'referrals.id', 'escalations.referral_id')
    .select(['escalations.id', 'escalations.rung', 'escalations.pushed_at', 'referrals.urgency'])
    .where('escalations.state', '=', 'open')
    .where('escalations.pushed_at', 'is not', null)
    .where('escalations.rung', '<', ladder.length)
    .orderBy('escalations.pushed_at')
    .limit(BATCH)
    .execute();
  let climbed = 0;
  for (const row of waiting) {
    const due = Date.parse(row.pushed_at ?? '') + claimByMs(ctx, row.urgency);
    if (due > now.getTime()) continue;
    const next = row.rung + 1;
    const ok = await ctx.db.kysely
      .transaction()
      .execute((trx) => pushRung(ctx, trx, row, { rung: next, to: ladderAddress(ctx, next) }, 'ladder', now));
    if (ok) climbed += 1;
  }
  return climbed;
}

/**
 * A claim with no progress for ESCALATION_CLAIM_TTL lapses: the escalation is open again and pushed
 * to the person on call, and the ladder starts again from there. The claim stays in the history
 * (audit and timeline), named.
 */
export async function lapseClaims(ctx: RelayContext, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - ctx.config.escalation.claimTtlMs).toISOString();
  const stale = await ctx.db.kysely
    .selectFrom('escalations')
    .select(['id', 'rung', 'pushed_at', 'claimed_by', 'claimed_at', 'referral_id'])
    .where('state', '=', 'claimed')
    .where('claimed_at', '<=', cutoff)
    .limit(BATCH)
    .execute();
  let lapsed = 0;
  for (const row of stale) {
    const first = await firstRung(ctx, now);
    const ok = await ctx.db.kysely.transaction().execute(async (trx) => {
      const reopened = await trx
        .updateTable('escalations')
        .set({ state: 'open', claimed_by: null, claimed_at: null })
        .where('id', '=', row.id)
        .where('state', '=', 'claimed')
        .where('claimed_at', '=', row.claimed_at)
        .executeTakeFirst();
      if (reopened.numUpdatedRows === 0n) return false;
      const detail = { claimedBy: row.claimed_by, claimedAt: row.claimed_at };
      await appendAudit(trx, now, {
        actor: 'watchdog',
        action: 'escalation.claim-lapsed',
        entityType: 'escalation',
        entityId: row.id,
        detail: { referral: row.referral_id, ...detail },
      });
      if (row.referral_id) {
        await insertEvent(trx, {
          referral_id: row.referral_id,
          at: now.toISOString(),
          kind: 'escalation-claim-lapsed',
          actor: 'watchdog',
          detail: JSON.stringify({ escalation: row.id, ...detail }),
        });
        await refreshStatus(trx, row.referral_id, now);
      }
      const target = { rung: first?.rung ?? 0, to: first?.to };
      return pushRung(ctx, trx, row, target, 'claim-lapsed', now);
    });
    if (ok) lapsed += 1;
  }
  return lapsed;
}
