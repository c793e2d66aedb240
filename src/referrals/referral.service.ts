import { createHash } from 'node:crypto';
import { newRowId } from '../records/row-id.ts';
import { canonicalJson } from '../canonical-json.ts';
import type { RelayContext } from '../context.ts';
import { isUniqueViolation } from '../db/database.ts';
import { routeReferral } from '../directory/router.ts';
import { RelayError } from '../errors.ts';
import { searchRowsOf } from '../records/search-index.ts';
import { PERSONAL_FIELDS, sealField } from '../records/personal-data.ts';
import { planIntake } from './intake.plan.ts';
import { receiptDocument } from './intake.receipt.ts';
import type { PreparedIntake, RepeatedIntake } from './intake.writer.ts';
import type { StatusDocument } from './referral.document.schema.ts';
import { formatIssues } from '../http/request-body.ts';
import { findBySource } from '../records/referral.repository.ts';
import {
  checkAgainstClock,
  deriveSubjectType,
  ReferralInput,
  type ReferralInputType,
} from './referral.schema.ts';

export interface IntakeActor {
  /** For the audit log: `apikey:<id>` or `user:<id>`. */
  actor: string;
  keyId?: string;
  userId?: string;
  /**
   * The source system the caller may raise referrals for: an API key's bound system, or
   * `relay-web` for the web form (null: a key bound to none, refused). A body naming another is
   * refused (403) before anything is read. Left out only by Relay's own code (benchmarks, seeding).
   */
  sourceSystem?: string | null;
}

export interface IntakeResult {
  id: string;
  created: boolean;
  /** A new referral's status document, from what was written (no read back); absent on a repeat. */
  receipt?: () => StatusDocument;
}

/** Validates the whole body first: any problem rejects it with every field named, and writes nothing. */
export function validateReferral(body: unknown, now: Date): ReferralInputType {
  const parsed = ReferralInput.safeParse(body);
  if (!parsed.success) {
    throw new RelayError('validation-failed', 'The referral has invalid fields', formatIssues(parsed.error));
  }
  const issues = checkAgainstClock(parsed.data, now);
  if (issues.length > 0) throw new RelayError('validation-failed', 'The referral has invalid fields', issues);
  return parsed.data;
}

/**
 * Accepts a referral: validation, idempotency on source system + reference, routing, and one
 * transaction that writes the referral, its routes or triage item, its outbox deliveries and the
 * audit entry, shared with the referrals that arrived with it (src/referrals/intake.writer.ts).
 * A returned result means all of it is on disk.
 */
export async function intakeReferral(
  ctx: RelayContext,
  body: unknown,
  by: IntakeActor,
): Promise<IntakeResult> {
  const receivedAt = ctx.clock.now();
  const input = validateReferral(body, receivedAt);
  if (by.sourceSystem !== undefined && input.source.system !== by.sourceSystem) {
    throw new RelayError(
      'forbidden',
      by.sourceSystem
        ? `This key raises referrals for source system ${by.sourceSystem} only`
        : 'This key is bound to no source system: issue a new one with `relay apikey create --system`',
      [{ path: 'source.system', message: 'Must be the source system this key is bound to' }],
    );
  }
  const bodyHash = createHash('sha256').update(canonicalJson(input)).digest('hex');
  try {
    // The writer settles idempotency for the whole batch in one read (intake.writer.ts).
    const written = await writeReferral(ctx, input, bodyHash, receivedAt, by);
    if ('repeatOf' in written) return sameOrConflict(written.repeatOf, bodyHash);
    ctx.signals.emit('deliveries-queued');
    return { id: written.id, created: true, receipt: written.receipt };
  } catch (error) {
    // Another node accepted the same source reference between the writer's read and its insert,
    // and again in the retry alone: the loser answers as a repeat would.
    if (!isUniqueViolation(error)) throw error;
    const winner = await findBySource(ctx.db.kysely, input.source.system, input.source.reference);
    if (!winner) throw error;
    return sameOrConflict(winner, bodyHash);
  }
}

function sameOrConflict(existing: { id: string; body_hash: string; reference: string }, bodyHash: string) {
  if (existing.body_hash === bodyHash) return { id: existing.id, created: false };
  throw new RelayError(
    'idempotency-conflict',
    `Referral ${existing.reference} was already accepted for this source reference with a different body`,
  );
}

async function writeReferral(
  ctx: RelayContext,
  input: ReferralInputType,
  bodyHash: string,
  receivedAt: Date,
  by: IntakeActor,
): Promise<{ id: string; receipt: () => StatusDocument } | RepeatedIntake> {
  const id = newRowId(receivedAt);
  const subjectType = input.subjectType ?? deriveSubjectType(input);
  const current = await ctx.directories.current();
  const home = 'postcode' in input.subject.address ? input.subject.address.postcode : undefined;
  const decision = current
    ? routeReferral(
        {
          subjectType,
          householdChildren: input.householdChildren,
          urgency: input.urgency,
          homePostcode: home,
          incidentPostcode: input.incident.location.postcode,
          receivedAt,
        },
        current.prepared,
      )
    : ({ kind: 'triage', reason: 'no-directory', detail: 'No directory has been loaded' } as const);
  const plan = planIntake({
    referralId: id,
    urgency: input.urgency,
    receivedAt,
    decision,
    directory: current?.directory,
    policy: ctx.config.deadlines,
    messageDomain: ctx.config.bounceDomain,
  });
  const at = receivedAt.toISOString();
  const stored = { ...input, subjectType };
  const prepared: PreparedIntake = {
    referral: {
      id,
      source_system: input.source.system,
      source_reference: input.source.reference,
      body_hash: bodyHash,
      // Every personal field is in here, so this one encrypted column covers the subject's data.
      payload: sealField(ctx.config.dataKeys, PERSONAL_FIELDS.payload, id, JSON.stringify(stored)),
      subject_type: subjectType,
      referral_type: input.referralType,
      urgency: input.urgency,
      categories: JSON.stringify(input.categories),
      received_at: at,
      updated_at: at,
      directory_version: current?.versionId ?? null,
      raised_by_key: by.keyId ?? null,
      raised_by_user: by.userId ?? null,
      closed_at: null,
    },
    plan,
    receivedAt,
    actor: by.actor,
    decisionKind: decision.kind,
    searchRows: searchRowsOf(ctx.config.dataKeys, { id, received_at: at }, stored),
  };
  const written = await ctx.intake.write(prepared);
  if ('repeatOf' in written) return written;
  return { id, receipt: () => receiptDocument(prepared, written, current?.directory) };
}
