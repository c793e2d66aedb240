import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { RelayContext } from '../context.ts';
import type { Database } from '../db/schema.ts';
import { RelayError } from '../errors.ts';
import type { EscalationReason, SystemReason } from '../db/codes.ts';
import { appendAudit } from './audit.ts';
import { insertEvent, refreshStatus } from './referral.repository.ts';

export interface NewEscalation {
  referralId: string | null;
  teamId: string | null;
  reason: EscalationReason;
  /** Ids, codes and counts; never personal data. */
  detail?: Record<string, unknown>;
  /** For system escalations that may recur: what makes one distinct, e.g. the date or address. */
  occasion?: string;
  /** The resolved escalation this one re-opens because its condition still stood. */
  previousId?: string;
}

export function dedupeKey(e: NewEscalation): string {
  return [e.referralId ?? '-', e.teamId ?? '-', e.reason, e.occasion ?? ''].join(':');
}

/**
 * Opens the escalation unless one already exists for (referral, team, reason): the unique key makes
 * repeated and concurrent sweeps harmless. Returns true when this call opened it.
 */
export async function openEscalation(trx: Kysely<Database>, e: NewEscalation, now: Date): Promise<boolean> {
  const id = randomUUID();
  const at = now.toISOString();
  const inserted = await trx
    .insertInto('escalations')
    .values({
      id,
      dedupe_key: dedupeKey(e),
      referral_id: e.referralId,
      team_id: e.teamId,
      reason: e.reason,
      state: 'open',
      detail: JSON.stringify(e.detail ?? {}),
      opened_at: at,
      claimed_by: null,
      claimed_at: null,
      resolved_by: null,
      resolved_at: null,
      note: null,
      previous_id: e.previousId ?? null,
    })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) return false;
  const detail = { escalation: id, team: e.teamId, reason: e.reason, ...e.detail };
  // The audit head before the referral row, in the order a delivery transition takes them: a sweep
  // and a worker recording a send of the same referral would otherwise deadlock on PostgreSQL.
  await appendAudit(trx, now, {
    actor: 'watchdog',
    action: 'escalation.opened',
    entityType: 'escalation',
    entityId: id,
    detail: { referral: e.referralId, ...detail },
  });
  if (e.referralId) {
    await insertEvent(trx, {
      referral_id: e.referralId,
      at,
      kind: 'escalated',
      actor: 'watchdog',
      detail: JSON.stringify(detail),
    });
    await refreshStatus(trx, e.referralId, now);
  }
  return true;
}

export interface Resolver {
  /** The named person, shown on the escalation. */
  name: string;
  actor: string;
}

export async function claimEscalation(ctx: RelayContext, id: string, by: Resolver): Promise<void> {
  if (!by.name.trim())
    throw new RelayError('validation-failed', undefined, [{ path: 'by', message: 'Say who is claiming it' }]);
  const now = ctx.clock.now();
  await ctx.db.kysely.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('escalations').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new RelayError('not-found', 'No escalation with that id');
    if (row.state !== 'open') {
      throw new RelayError(
        'state-conflict',
        `The escalation is already ${row.state}${row.claimed_by ? ` by ${row.claimed_by}` : ''}`,
      );
    }
    const claimed = await trx
      .updateTable('escalations')
      .set({ state: 'claimed', claimed_by: by.name.trim(), claimed_at: now.toISOString() })
      .where('id', '=', id)
      .where('state', '=', 'open')
      .executeTakeFirst();
    // On PostgreSQL a concurrent claim can pass the read above; only one update finds it still open.
    if (claimed.numUpdatedRows === 0n)
      throw new RelayError('state-conflict', 'The escalation was claimed just now');
    await recordChange(trx, row.referral_id, id, 'escalation.claimed', by, now, {});
  });
}

/** Relay itself, as the resolver of a system escalation whose condition has cleared. */
export const RELAY_RESOLVER: Resolver = { name: 'Relay', actor: 'system' };

/**
 * Resolves every unresolved escalation of a system reason once its condition has cleared (the rota
 * is whole again, the bank-holiday list extended), each in its own transaction. Returns how many.
 */
export async function resolveCleared(
  db: Kysely<Database>,
  reason: SystemReason,
  note: string,
  now: Date,
): Promise<number> {
  const open = await db
    .selectFrom('escalations')
    .select('id')
    .where('reason', '=', reason)
    .where('state', '!=', 'resolved')
    .execute();
  for (const { id } of open) {
    await db.transaction().execute((trx) => resolveEscalationIn(trx, id, note, RELAY_RESOLVER, now));
  }
  return open.length;
}

/**
 * Closes an escalation with the note that says what was done; none closes without one. Resolving
 * an escalation does not by itself acknowledge anything: the caller records an acknowledgement
 * (e.g. receipt confirmed by phone) separately.
 */
export async function resolveEscalationIn(
  trx: Kysely<Database>,
  id: string,
  note: string,
  by: Resolver,
  now: Date,
  // A person's note may name the subject, so their callers encrypt it; Relay's own notes hold ids
  // and staff names only, and stay readable where no keys are to hand.
  seal: (note: string, escalationId: string) => string = (text) => text,
  /** When to look again whether the condition still stands (a person's resolution of a referral's escalation). */
  followUpAt: string | null = null,
): Promise<{ referralId: string | null; teamId: string | null; reason: string }> {
  if (!note.trim()) {
    throw new RelayError('validation-failed', 'A note is required to resolve an escalation', [
      { path: 'note', message: 'Say what was done' },
    ]);
  }
  const row = await trx.selectFrom('escalations').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new RelayError('not-found', 'No escalation with that id');
  if (row.state === 'resolved') throw new RelayError('state-conflict', 'The escalation is already resolved');
  await trx
    .updateTable('escalations')
    .set({
      state: 'resolved',
      resolved_by: by.name,
      resolved_at: now.toISOString(),
      note: seal(note.trim(), id),
      follow_up_at: followUpAt,
    })
    .where('id', '=', id)
    .execute();
  const followUp = followUpAt ? { followUpAt } : {};
  await recordChange(trx, row.referral_id, id, 'escalation.resolved', by, now, {
    reason: row.reason,
    ...followUp,
  });
  if (row.referral_id) await refreshStatus(trx, row.referral_id, now);
  return { referralId: row.referral_id, teamId: row.team_id, reason: row.reason };
}

/** Resolves every open escalation of a referral for a team once the team has acknowledged it. */
export async function resolveForAcknowledgement(
  trx: Kysely<Database>,
  referralId: string,
  teamId: string,
  note: string,
  now: Date,
): Promise<number> {
  const open = await trx
    .selectFrom('escalations')
    .select('id')
    .where('referral_id', '=', referralId)
    .where('team_id', '=', teamId)
    .where('state', '!=', 'resolved')
    .execute();
  for (const { id } of open)
    await resolveEscalationIn(trx, id, note, { name: 'Relay', actor: 'system' }, now);
  return open.length;
}

async function recordChange(
  trx: Kysely<Database>,
  referralId: string | null,
  id: string,
  action: string,
  by: Resolver,
  now: Date,
  extra: Record<string, unknown>,
): Promise<void> {
  if (referralId) {
    await insertEvent(trx, {
      referral_id: referralId,
      at: now.toISOString(),
      kind: action.replace('.', '-'),
      actor: by.actor,
      detail: JSON.stringify({ escalation: id, by: by.name, ...extra }),
    });
  }
  await appendAudit(trx, now, {
    actor: by.actor,
    action,
    entityType: 'escalation',
    entityId: id,
    detail: { referral: referralId, ...extra },
  });
}
