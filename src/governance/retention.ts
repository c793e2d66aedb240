import type { Kysely } from 'kysely';
import type { DataKey } from '../config.ts';
import type { RelayContext } from '../context.ts';
import type { Database } from '../db/schema.ts';
import { insertEvent } from '../records/referral.repository.ts';
import { appendAudit } from '../records/audit.ts';
import { PERSONAL_FIELDS, sealField } from '../records/personal-data.ts';
import { deleteSearchRows } from '../records/search-index.ts';
import { HOUR } from '../time.ts';

/**
 * Retention (docs/operations.md, Personal data): once a referral has been closed for the retention period and is
 * not on legal hold, its personal data is blanked. Nothing else is deleted: the row, routes, deliveries,
 * deadlines, states, timeline and audit entries stay, so what happened can still be proven; only its
 * search index rows (digests of its personal data) go.
 */

export interface PurgeReport {
  /** Referrals whose personal data was removed by this call. */
  purged: number;
  /** True when the batch was full, so more may be due. */
  more: boolean;
}

interface Due {
  id: string;
  reference: string;
  closed_at: string | null;
}

export function retentionCutoff(ctx: RelayContext, now: Date): string {
  return new Date(now.getTime() - ctx.config.retentionPeriodMs).toISOString();
}

/** Closed before the cut-off, not held, not yet purged. An unfinished referral (closed_at null) never is. */
function dueQuery(db: Kysely<Database>, cutoff: string) {
  return db
    .selectFrom('referrals')
    .where('purged_at', 'is', null)
    .where('closed_at', 'is not', null)
    .where('closed_at', '<', cutoff)
    .where('legal_hold', '=', 0);
}

/** Purges up to `limit` due referrals, each in its own transaction so one failure loses no others. */
export async function purgeExpired(ctx: RelayContext, now: Date, limit: number): Promise<PurgeReport> {
  const cutoff = retentionCutoff(ctx, now);
  const due = await dueQuery(ctx.db.kysely, cutoff)
    .select(['id', 'reference', 'closed_at'])
    .orderBy('closed_at')
    .limit(limit)
    .execute();
  let purged = 0;
  for (const referral of due) {
    const done = await ctx.db.kysely
      .transaction()
      .execute((trx) => purgeReferral(trx, ctx.config.dataKeys, referral, cutoff, now));
    if (done) purged += 1;
  }
  return { purged, more: due.length === limit };
}

/** Referrals past the cut-off kept only because of a legal hold, for the run record. */
export async function heldPastRetention(ctx: RelayContext, now: Date): Promise<number> {
  const row = await ctx.db.kysely
    .selectFrom('referrals')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('purged_at', 'is', null)
    .where('closed_at', '<', retentionCutoff(ctx, now))
    .where('legal_hold', '=', 1)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function purgeReferral(
  trx: Kysely<Database>,
  keys: readonly DataKey[],
  referral: Due,
  cutoff: string,
  now: Date,
): Promise<boolean> {
  const at = now.toISOString();
  // The tombstone is encrypted like any payload, so every value in the column has one shape.
  const tombstone = JSON.stringify({ purged: true, purgedAt: at });
  // The conditions are checked again in the update: a legal hold set since the query wins.
  const updated = await trx
    .updateTable('referrals')
    .set({
      payload: sealField(keys, PERSONAL_FIELDS.payload, referral.id, tombstone),
      close_reason: null,
      purged_at: at,
      updated_at: at,
    })
    .where('id', '=', referral.id)
    .where('purged_at', 'is', null)
    .where('closed_at', 'is not', null)
    .where('closed_at', '<', cutoff)
    .where('legal_hold', '=', 0)
    .executeTakeFirst();
  if (updated.numUpdatedRows === 0n) return false;
  const notes = await blankNotes(trx, referral.id);
  // The blind indexes are personal data too (a digest of a name can be matched by anyone with the key).
  const searchTerms = await deleteSearchRows(trx, [referral.id]);
  await insertEvent(trx, {
    referral_id: referral.id,
    at,
    kind: 'personal-data-removed',
    actor: 'system',
    detail: JSON.stringify({ policy: 'retention' }),
  });
  await appendAudit(trx, now, {
    actor: 'system',
    action: 'referral.purged',
    entityType: 'referral',
    entityId: referral.id,
    detail: {
      reference: referral.reference,
      closedAt: referral.closed_at,
      payload: 'removed',
      ...notes,
      searchTerms,
    },
  });
  return true;
}

async function blankNotes(trx: Kysely<Database>, referralId: string) {
  const routes = await trx
    .updateTable('routes')
    .set({ outcome_note: null })
    .where('referral_id', '=', referralId)
    .where('outcome_note', 'is not', null)
    .executeTakeFirst();
  const escalations = await trx
    .updateTable('escalations')
    .set({ note: null, team_note: null })
    .where('referral_id', '=', referralId)
    .where((eb) => eb.or([eb('note', 'is not', null), eb('team_note', 'is not', null)]))
    .executeTakeFirst();
  return {
    outcomeNotes: Number(routes.numUpdatedRows),
    escalationNotes: Number(escalations.numUpdatedRows),
  };
}

/**
 * Escalations tied to no referral (a dispute of an unknown reference, a silent address) may still
 * carry a team's note; they follow the same period, counted from when they were resolved.
 */
export async function purgeSystemEscalationNotes(ctx: RelayContext, now: Date): Promise<number> {
  return ctx.db.kysely.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('escalations')
      .set({ note: null, team_note: null })
      .where('referral_id', 'is', null)
      .where('resolved_at', '<', retentionCutoff(ctx, now))
      .where((eb) => eb.or([eb('note', 'is not', null), eb('team_note', 'is not', null)]))
      .executeTakeFirst();
    const count = Number(result.numUpdatedRows);
    if (count > 0) {
      await appendAudit(trx, now, {
        actor: 'system',
        action: 'escalations.notes-purged',
        entityType: 'escalation',
        entityId: '*',
        detail: { count, policy: 'retention' },
      });
    }
    return count;
  });
}

/**
 * Incident-review notes follow the referral they are about: once its personal data is removed, so
 * are the notes on its cases (including notes written after). A case without a referral (a source
 * record Relay never had) keeps its notes for the retention period from when each was written.
 * The text becomes a sealed empty string, so every value in the column keeps one shape.
 */
export async function purgeReviewNotes(ctx: RelayContext, now: Date, batchSize = 500): Promise<number> {
  const cutoff = retentionCutoff(ctx, now);
  let total = 0;
  for (;;) {
    const due = await ctx.db.kysely
      .selectFrom('review_notes')
      .innerJoin('review_cases', 'review_cases.id', 'review_notes.case_id')
      .leftJoin('referrals', 'referrals.id', 'review_cases.referral_id')
      .select('review_notes.id')
      .where('review_notes.purged_at', 'is', null)
      .where((eb) =>
        eb.or([
          eb('referrals.purged_at', 'is not', null),
          eb.and([eb('review_cases.referral_id', 'is', null), eb('review_notes.at', '<', cutoff)]),
        ]),
      )
      .orderBy('review_notes.id')
      .limit(batchSize)
      .execute();
    if (due.length === 0) return total;
    await ctx.db.kysely.transaction().execute(async (trx) => {
      const at = now.toISOString();
      for (const { id } of due) {
        await trx
          .updateTable('review_notes')
          .set({
            text: sealField(ctx.config.dataKeys, PERSONAL_FIELDS.reviewNote, String(id), ''),
            purged_at: at,
          })
          .where('id', '=', id)
          .where('purged_at', 'is', null)
          .execute();
      }
      await appendAudit(trx, now, {
        actor: 'system',
        action: 'review-notes.purged',
        entityType: 'review_note',
        entityId: '*',
        detail: { count: due.length, policy: 'retention' },
      });
    });
    total += due.length;
    if (due.length < batchSize) return total;
  }
}

/** Unsent crew drafts are kept this long after they were last saved. */
export const DRAFT_RETENTION_MS = 72 * HOUR;

/**
 * Deletes crew form drafts not saved for 72 hours. A draft is not a referral: nothing was sent, so
 * nothing needs proving, and the row goes with its sealed answers. Returns how many went.
 */
export async function purgeStaleDrafts(ctx: RelayContext, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - DRAFT_RETENTION_MS).toISOString();
  const result = await ctx.db.kysely
    .deleteFrom('referral_drafts')
    .where('updated_at', '<', cutoff)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
