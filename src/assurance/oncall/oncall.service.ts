import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { RelayContext } from '../../context.ts';
import { isPostgres } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import { RelayError } from '../../errors.ts';
import { appendAudit } from '../../records/audit.ts';
import { formatLondon } from '../../time.ts';
import {
  findGaps,
  GAP_HORIZON_MS,
  overlaps,
  validateShift,
  type Interval,
  type ShiftInput,
} from './oncall.rules.ts';
import type { OncallShiftTable } from '../../db/tables/oncall.table.ts';

export interface OncallShift {
  id: string;
  email: string;
  from: string;
  to: string;
  createdAt: string;
  createdBy: string;
}

type ShiftRow = Selectable<OncallShiftTable>;

function toShift(row: ShiftRow): OncallShift {
  return {
    id: row.id,
    email: row.email,
    from: row.starts_at,
    to: row.ends_at,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

const interval = (s: OncallShift): Interval => ({ from: new Date(s.from), to: new Date(s.to) });

/** Entries still to come or under way at `now`, in order of their start. */
export async function upcomingShifts(db: Kysely<Database>, now: Date): Promise<OncallShift[]> {
  const rows = await db
    .selectFrom('oncall_shifts')
    .selectAll()
    .where('removed_at', 'is', null)
    .where('ends_at', '>', now.toISOString())
    .orderBy('starts_at')
    .orderBy('id')
    .execute();
  return rows.map(toShift);
}

/** The entry covering `at`, if any (entries never overlap, so there is at most one). */
export async function onCallAt(db: Kysely<Database>, at: Date): Promise<OncallShift | undefined> {
  const iso = at.toISOString();
  const row = await db
    .selectFrom('oncall_shifts')
    .selectAll()
    .where('removed_at', 'is', null)
    .where('starts_at', '<=', iso)
    .where('ends_at', '>', iso)
    .orderBy('starts_at', 'desc')
    .executeTakeFirst();
  return row && toShift(row);
}

/**
 * The rota is in use once it has any entry. Until then the team relies on SAFEGUARDING_EMAIL alone,
 * and an empty week is not a gap; once it is in use, running out is exactly the gap to catch.
 */
export async function rotaInUse(db: Kysely<Database>): Promise<boolean> {
  const row = await db
    .selectFrom('oncall_shifts')
    .select('id')
    .where('removed_at', 'is', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export interface Recipient {
  email: string;
  source: 'rota' | 'fallback';
}

/** Who is told about an escalation at `at`: the person on call, else SAFEGUARDING_EMAIL, else nobody. */
export async function whoIsOnCall(ctx: RelayContext, at: Date): Promise<Recipient | undefined> {
  const shift = await onCallAt(ctx.db.kysely, at);
  if (shift) return { email: shift.email, source: 'rota' };
  const fallback = ctx.config.assurance.safeguardingEmail;
  return fallback ? { email: fallback, source: 'fallback' } : undefined;
}

export interface RotaView {
  shifts: (OncallShift & { current: boolean })[];
  /** Uncovered stretches of the next 7 days, when the rota is in use. */
  gaps: Interval[];
  inUse: boolean;
  fallback: string | undefined;
  horizon: Date;
}

export async function rotaView(ctx: RelayContext, now: Date): Promise<RotaView> {
  const db = ctx.db.kysely;
  const shifts = await upcomingShifts(db, now);
  const horizon = new Date(now.getTime() + GAP_HORIZON_MS);
  const inUse = shifts.length > 0 || (await rotaInUse(db));
  return {
    shifts: shifts.map((s) => ({ ...s, current: Date.parse(s.from) <= now.getTime() })),
    gaps: inUse ? findGaps(shifts.map(interval), now, horizon) : [],
    inUse,
    fallback: ctx.config.assurance.safeguardingEmail,
    horizon,
  };
}

/**
 * Adds a rota entry. Entries may not overlap: at any moment exactly one named person is on call,
 * so who was told is never in doubt. Back-to-back entries (one ends as the next starts) are fine.
 */
export async function addShift(ctx: RelayContext, input: ShiftInput, actor: string): Promise<OncallShift> {
  const now = ctx.clock.now();
  const { shift, issues } = validateShift(input, now);
  if (!shift) throw new RelayError('validation-failed', undefined, issues);
  return ctx.db.kysely.transaction().execute(async (trx) => {
    // Two people adding entries at once on PostgreSQL must not both pass the overlap check.
    if (isPostgres(trx)) await sql`lock table oncall_shifts in share row exclusive mode`.execute(trx);
    const clash = (await upcomingShifts(trx, now)).find((s) => overlaps(interval(s), shift));
    if (clash) {
      throw new RelayError('state-conflict', undefined, [
        {
          path: 'from',
          message: `This overlaps ${clash.email}'s entry from ${formatLondon(clash.from)} to ${formatLondon(clash.to)} (${clash.id}): remove that entry first, or choose times that do not overlap`,
        },
      ]);
    }
    const row: ShiftRow = {
      id: randomUUID(),
      email: shift.email,
      starts_at: shift.from.toISOString(),
      ends_at: shift.to.toISOString(),
      created_at: now.toISOString(),
      created_by: actor,
      removed_at: null,
      removed_by: null,
    };
    await trx.insertInto('oncall_shifts').values(row).execute();
    await appendAudit(trx, now, {
      actor,
      action: 'oncall.added',
      entityType: 'oncall_shift',
      entityId: row.id,
      detail: { email: row.email, from: row.starts_at, to: row.ends_at },
    });
    return toShift(row);
  });
}

/** Takes an entry off the rota; the row stays, marked, as the record of what was planned. */
export async function removeShift(ctx: RelayContext, id: string, actor: string): Promise<OncallShift> {
  const now = ctx.clock.now();
  return ctx.db.kysely.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('oncall_shifts').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new RelayError('not-found', `No rota entry ${id}`);
    if (row.removed_at) throw new RelayError('state-conflict', `Rota entry ${id} was already removed`);
    await trx
      .updateTable('oncall_shifts')
      .set({ removed_at: now.toISOString(), removed_by: actor })
      .where('id', '=', id)
      .execute();
    await appendAudit(trx, now, {
      actor,
      action: 'oncall.removed',
      entityType: 'oncall_shift',
      entityId: id,
      detail: { email: row.email, from: row.starts_at, to: row.ends_at },
    });
    return toShift(row);
  });
}
