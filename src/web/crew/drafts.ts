/**
 * Crew form drafts on the server: saved as the crew member types (the form's script) and on every
 * Continue, so a timed-out session or a lost signal never loses a referral. The answers are sealed
 * like any personal data; a draft belongs to the crew member who saved it, and goes when the
 * referral is sent or, unsaved for 72 hours, by the retention job.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { RelayContext } from '../../context.ts';
import { PERSONAL_FIELDS, sealField, unsealField } from '../../records/personal-data.ts';
import { DRAFT_RETENTION_MS } from '../../governance/retention.ts';
import type { FormValues } from './referral-form.fields.ts';
import { readForm } from './referral-form.ts';

export interface Draft {
  id: string;
  values: FormValues;
  createdAt: string;
  updatedAt: string;
  /** When retention deletes it, unless it is saved again first. */
  expiresAt: string;
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

function seal(ctx: RelayContext, id: string, values: FormValues): string {
  return sealField(ctx.config.dataKeys, PERSONAL_FIELDS.draftAnswers, id, JSON.stringify(values));
}

function toDraft(
  ctx: RelayContext,
  row: { id: string; answers: string; created_at: string; updated_at: string },
): Draft {
  const json = unsealField(ctx.config.dataKeys, PERSONAL_FIELDS.draftAnswers, row.id, row.answers) ?? '{}';
  return {
    id: row.id,
    // Read back through the form's own reader, so a draft is never more than the form's controls.
    values: readForm(JSON.parse(json)),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: new Date(new Date(row.updated_at).getTime() + DRAFT_RETENTION_MS).toISOString(),
  };
}

/**
 * Saves the answers under their source reference for this crew member. False when that reference
 * is another person's draft: the caller then starts a fresh one rather than touch theirs.
 */
export async function saveDraft(ctx: RelayContext, userId: string, values: FormValues): Promise<boolean> {
  const now = ctx.clock.now().toISOString();
  const id = values.sourceReference;
  const answers = seal(ctx, id, values);
  const updated = await ctx.db.kysely
    .updateTable('referral_drafts')
    .set({ answers, updated_at: now })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) > 0) return true;
  await ctx.db.kysely
    .insertInto('referral_drafts')
    .values({ id, user_id: userId, claim_hash: null, answers, created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  // Whether it is ours now: the insert does nothing when the reference is someone else's.
  const owner = await ctx.db.kysely
    .selectFrom('referral_drafts')
    .select('user_id')
    .where('id', '=', id)
    .executeTakeFirst();
  return owner?.user_id === userId;
}

/** This crew member's draft, or undefined (another person's draft reads as no draft). */
export async function findDraft(ctx: RelayContext, userId: string, id: string): Promise<Draft | undefined> {
  const row = await ctx.db.kysely
    .selectFrom('referral_drafts')
    .select(['id', 'answers', 'created_at', 'updated_at'])
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row ? toDraft(ctx, row) : undefined;
}

/** The crew member's unsent drafts, most recently saved first. */
export async function listDrafts(ctx: RelayContext, userId: string): Promise<Draft[]> {
  const rows = await ctx.db.kysely
    .selectFrom('referral_drafts')
    .select(['id', 'answers', 'created_at', 'updated_at'])
    .where('user_id', '=', userId)
    .orderBy('updated_at', 'desc')
    .limit(50)
    .execute();
  return rows.map((row) => toDraft(ctx, row));
}

export async function deleteDraft(ctx: RelayContext, userId: string, id: string): Promise<void> {
  await ctx.db.kysely
    .deleteFrom('referral_drafts')
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .execute();
}

/**
 * A form posted after its session ended: kept, sealed, with no owner, until the person signs in
 * again and follows the link holding the returned one-time token. Only the token's hash is stored.
 */
export async function holdOrphanDraft(ctx: RelayContext, values: FormValues): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  const now = ctx.clock.now().toISOString();
  // A fresh id: the posted reference may already be a draft, and an unsigned post must not touch it.
  const id = readForm({}).sourceReference;
  const held = { ...values, sourceReference: id };
  await ctx.db.kysely
    .insertInto('referral_drafts')
    .values({
      id,
      user_id: null,
      claim_hash: hash(token),
      answers: seal(ctx, id, held),
      created_at: now,
      updated_at: now,
    })
    .execute();
  return token;
}

/** Gives a held draft to the signed-in crew member who has its token; its id, or undefined. */
export async function claimDraft(
  ctx: RelayContext,
  userId: string,
  token: string,
): Promise<string | undefined> {
  const row = await ctx.db.kysely
    .selectFrom('referral_drafts')
    .select('id')
    .where('claim_hash', '=', hash(token))
    .where('user_id', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  const claimed = await ctx.db.kysely
    .updateTable('referral_drafts')
    .set({ user_id: userId, claim_hash: null })
    .where('id', '=', row.id)
    .where('user_id', 'is', null)
    .executeTakeFirst();
  return Number(claimed.numUpdatedRows) > 0 ? row.id : undefined;
}
