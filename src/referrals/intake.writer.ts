import type { Insertable, Kysely } from 'kysely';
import { GroupCommit } from '../db/group-commit.ts';
import { isPostgres, isUniqueViolation } from '../db/database.ts';
import { reserveNumbers, writeFolded, type IntakeRows } from './intake.folded.ts';
import type { Database } from '../db/schema.ts';
import { insertDeliveries } from '../records/delivery.repository.ts';
import { appendAuditEntries, type AuditEntry } from '../records/audit.ts';
import { insertSearchRows, type SearchTermRow } from '../records/search-index.ts';
import type { IntakePlan } from './intake.plan.ts';
import { nextReferences } from './reference.ts';
import {
  findBySources,
  insertEvents,
  insertReferrals,
  insertRoutes,
  insertTriageItems,
  type NewEvent,
  type SourceMatch,
} from '../records/referral.repository.ts';
import { deriveStatus } from '../records/referral.status.ts';
import type { ReferralTable } from '../db/tables/referral.table.ts';

/** One accepted referral, ready to write: everything but its reference, which is taken in the commit. */
export interface PreparedIntake {
  referral: Omit<Insertable<ReferralTable>, 'reference' | 'status'>;
  plan: IntakePlan;
  receivedAt: Date;
  /** For the audit log and timeline: `apikey:<id>` or `user:<id>`. */
  actor: string;
  decisionKind: string;
  /** The referral's keyed blind indexes (search-index.ts), written in the same transaction. */
  searchRows: SearchTermRow[];
}

/**
 * Intake's group commit (src/db/group-commit.ts). Every intake appends to the audit chain, whose
 * head row serialises them; one commit per referral held a burst of 10,000 (a major incident) to
 * about a hundred a second. Referrals that arrive together are written with one statement per
 * table and one commit, and each request is answered only once its referral is on disk.
 */
export class IntakeWriter extends GroupCommit<PreparedIntake, IntakeOutcome> {
  constructor(db: Kysely<Database>, maxBatch = 64) {
    super(db, maxBatch);
  }

  /**
   * Settles once the referral is on disk, with what was written (the answer is built from it), or
   * with the referral already accepted under its source reference, which it did not write again.
   */
  write(intake: PreparedIntake): Promise<IntakeOutcome> {
    return this.submit(intake);
  }

  protected writeBatch(trx: Kysely<Database>, intakes: PreparedIntake[]): Promise<IntakeOutcome[]> {
    return writeIntakes(trx, intakes);
  }

  /**
   * Only a repeated source reference is one referral's own fault; the others alone would fail as
   * the batch did (the database gone), and one by one would only make every caller wait longer.
   */
  protected override retryAlone(error: unknown): boolean {
    return isUniqueViolation(error);
  }
}

/** One referral as written: its row (with the number it took) and its timeline, in order. */
export interface WrittenIntake {
  referral: Insertable<ReferralTable> & { reference: string; status: string };
  events: NewEvent[];
}

/** A referral whose source reference was already accepted: nothing was written for it. */
export interface RepeatedIntake {
  repeatOf: Pick<SourceMatch, 'id' | 'body_hash' | 'reference'>;
}

export type IntakeOutcome = WrittenIntake | RepeatedIntake;

/**
 * Settles the batch's idempotency in one read, then writes the new referrals. A source reference
 * accepted before, or earlier in the same batch (a sender's retry that overtook its first answer),
 * is answered with the referral it names and writes nothing. A concurrent node can still accept
 * one between this read and the insert: the unique index refuses it, the batch rolls back and is
 * retried one by one, and that one's own read then finds the winner.
 */
export async function writeIntakes(
  trx: Kysely<Database>,
  intakes: PreparedIntake[],
): Promise<IntakeOutcome[]> {
  const sources = intakes.map((i) => ({
    system: i.referral.source_system,
    reference: i.referral.source_reference,
  }));
  const found = await findBySources(trx, sources);
  const accepted = new Map(found.map((row) => [sourceKey(row.source_system, row.source_reference), row]));
  const firstInBatch = new Map<string, number>();
  const fresh: PreparedIntake[] = [];
  // Each intake is new (its index among those written), or a repeat of a referral accepted before
  // or of an earlier intake in this batch.
  const slots = sources.map(({ system, reference }, i): number | SourceMatch | { sameAs: number } => {
    const source = sourceKey(system, reference);
    const before = accepted.get(source);
    if (before) return before;
    const earlier = firstInBatch.get(source);
    if (earlier !== undefined) return { sameAs: earlier };
    firstInBatch.set(source, fresh.length);
    return fresh.push(intakes[i] as PreparedIntake) - 1;
  });
  const written = fresh.length > 0 ? await writeNew(trx, fresh) : [];
  return slots.map((slot): IntakeOutcome => {
    if (typeof slot === 'number') return written[slot] as WrittenIntake;
    if (!('sameAs' in slot)) return { repeatOf: slot };
    const { referral } = written[slot.sameAs] as WrittenIntake;
    return { repeatOf: { id: referral.id, body_hash: referral.body_hash, reference: referral.reference } };
  });
}

/** A source system and its reference as one map key (NUL cannot occur in either). */
function sourceKey(system: string, reference: string): string {
  return `${system}\u0000${reference}`;
}

/**
 * Writes the referrals with their routes, triage items, outbox deliveries, timeline events and
 * audit entries: a fixed number of statements whatever their count (on PostgreSQL two, see
 * intake.folded.ts; on SQLite, in-process, one per table).
 */
async function writeNew(trx: Kysely<Database>, intakes: PreparedIntake[]): Promise<WrittenIntake[]> {
  const years = new Set(intakes.map((i) => i.receivedAt.getUTCFullYear()));
  // Each entry carries its own time; the block's is only a fallback.
  const at = intakes[0]?.receivedAt ?? new Date();
  const [year] = years;
  if (isPostgres(trx) && years.size === 1 && year !== undefined) {
    const { references, head } = await reserveNumbers(trx, year, intakes.length);
    const { rows, written } = batchRows(intakes, references);
    await writeFolded(trx, rows, head, at, auditOf(intakes, references));
    return written;
  }
  const references = await takeReferences(trx, intakes);
  const { rows, written } = batchRows(intakes, references);
  await insertReferrals(trx, rows.referrals);
  await insertRoutes(trx, rows.routes);
  await insertTriageItems(trx, rows.triage);
  await insertDeliveries(trx, rows.deliveries);
  await insertSearchRows(trx, rows.searchRows);
  await insertEvents(trx, rows.events);
  await appendAuditEntries(trx, at, auditOf(intakes, references));
  return written;
}

/** The batch's rows, table by table, and each referral as written. */
function batchRows(
  intakes: PreparedIntake[],
  references: string[],
): { rows: IntakeRows; written: WrittenIntake[] } {
  const referrals = intakes.map((intake, i) => ({
    ...intake.referral,
    reference: references[i] as string,
    status: statusAt(intake),
  }));
  const events = intakes.map(receiptEvents);
  return {
    rows: {
      referrals,
      routes: intakes.flatMap((i) => i.plan.routes),
      triage: intakes.flatMap((i) => (i.plan.triage ? [i.plan.triage] : [])),
      deliveries: intakes.flatMap((i) => i.plan.deliveries),
      searchRows: intakes.flatMap((i) => i.searchRows),
      events: events.flat(),
    },
    written: referrals.map((referral, i) => ({ referral, events: events[i] as NewEvent[] })),
  };
}

function auditOf(intakes: PreparedIntake[], references: string[]): AuditEntry[] {
  return intakes.map((intake, i) => receiptAudit(intake, references[i] as string));
}

/** Numbers in order of arrival, one upsert per year (a batch spans two only at New Year). */
async function takeReferences(trx: Kysely<Database>, intakes: PreparedIntake[]): Promise<string[]> {
  const years = intakes.map((i) => i.receivedAt.getUTCFullYear());
  const byYear = new Map<number, string[]>();
  for (const year of new Set(years)) {
    byYear.set(year, await nextReferences(trx, year, years.filter((y) => y === year).length));
  }
  return years.map((year) => byYear.get(year)?.shift() as string);
}

/** A new referral's status, from the same rule as every later one: its parts, all just queued. */
function statusAt(intake: PreparedIntake): string {
  return deriveStatus({
    closed: false,
    openEscalations: 0,
    openTriage: intake.plan.triage !== undefined,
    routes: intake.plan.routes.map((r) => ({ id: r.id, acknowledged: false })),
    deliveries: intake.plan.deliveries.map((d) => ({ routeId: d.route_id ?? null, state: d.state })),
  });
}

function routedTo(intake: PreparedIntake) {
  return intake.plan.routes.map((route) => ({ team: route.team_id, reason: route.reason }));
}

function receiptEvents(intake: PreparedIntake): NewEvent[] {
  const base = { referral_id: intake.referral.id, at: intake.receivedAt.toISOString() };
  const { triage } = intake.plan;
  return [
    { ...base, kind: 'received', actor: intake.actor, detail: '{}' },
    triage
      ? {
          ...base,
          kind: 'triage',
          actor: 'system',
          detail: JSON.stringify({ reason: triage.reason, detail: triage.detail }),
        }
      : { ...base, kind: 'routed', actor: 'system', detail: JSON.stringify({ routes: routedTo(intake) }) },
  ];
}

function receiptAudit(intake: PreparedIntake, reference: string): AuditEntry {
  return {
    actor: intake.actor,
    action: 'referral.received',
    entityType: 'referral',
    entityId: intake.referral.id,
    at: intake.receivedAt,
    detail: {
      reference,
      outcome: intake.decisionKind,
      routes: routedTo(intake),
      triage: intake.plan.triage?.reason ?? null,
      deliveries: intake.plan.deliveries.map((d) => d.id),
    },
  };
}
