import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { ReviewCondition } from './review.model.ts';

/** One case of a new review, as it stood when the review was created. */
export interface CohortCase {
  referralId: string | null;
  escalationId: string | null;
  reference: string;
  sourceSystem: string | null;
  sourceReference: string | null;
  /** When Relay received it; for a referral missing from Relay, when the source says it was made. */
  receivedAt: string | null;
  urgency: string | null;
  conditions: ReviewCondition[];
}

export interface Period {
  from: string;
  to: string;
}

type Eb = ExpressionBuilder<Database, 'referrals'>;
type ReferralCondition = Exclude<ReviewCondition, 'missing-in-reconciliation'>;

/**
 * Each condition as a test on one referral. Deadlines are judged as they stand at `now`: a copy
 * still unsent (or unacknowledged) past its deadline has breached it as surely as a late one.
 */
function matches(condition: ReferralCondition, now: string) {
  const deliveries = (eb: Eb) =>
    eb.selectFrom('deliveries as d').select('d.id').whereRef('d.referral_id', '=', 'referrals.id');
  switch (condition) {
    case 'failed':
    case 'bounced':
      return (eb: Eb) => eb.exists(deliveries(eb).where('d.state', '=', condition));
    case 'breached-send-by':
      return (eb: Eb) =>
        eb.exists(
          deliveries(eb).where((d) =>
            d.or([
              d.and([d('d.sent_at', 'is not', null), d('d.sent_at', '>', d.ref('d.send_by'))]),
              d.and([d('d.sent_at', 'is', null), d('d.state', '!=', 'cancelled'), d('d.send_by', '<', now)]),
              // A copy cancelled by a redirect breached only if it was still unsent at its deadline.
              d.and([
                d('d.sent_at', 'is', null),
                d('d.state', '=', 'cancelled'),
                d('d.updated_at', '>', d.ref('d.send_by')),
              ]),
            ]),
          ),
        );
    case 'breached-ack-by':
      return (eb: Eb) =>
        eb.exists(
          eb
            .selectFrom('routes as r')
            .select('r.id')
            .whereRef('r.referral_id', '=', 'referrals.id')
            .where((r) =>
              r.or([
                r.and([
                  r('r.acknowledged_at', 'is not', null),
                  r('r.acknowledged_at', '>', r.ref('r.ack_by')),
                ]),
                r.and([r('r.acknowledged_at', 'is', null), r('r.ack_by', '<', now)]),
              ]),
            ),
        );
    case 'escalated':
      return (eb: Eb) =>
        eb.exists(
          eb.selectFrom('escalations as e').select('e.id').whereRef('e.referral_id', '=', 'referrals.id'),
        );
  }
}

async function referralsMatching(
  db: Kysely<Database>,
  period: Period,
  condition: ReferralCondition,
  now: string,
) {
  return db
    .selectFrom('referrals')
    .select(['id', 'reference', 'source_system', 'source_reference', 'received_at', 'urgency'])
    .where('received_at', '>=', period.from)
    .where('received_at', '<', period.to)
    .where(matches(condition, now))
    .execute();
}

/** A detail field the reconciliation may have named either way; absent or non-text reads as null. */
function textField(detail: Record<string, unknown>, ...names: string[]): string | null {
  for (const name of names) {
    const value = detail[name];
    if (typeof value === 'string' && value.trim()) return value.trim();
  }
  return null;
}

/**
 * Source records a reconciliation found missing from Relay. There is no referral row, so each is
 * its escalation, placed in the period by when the source made it (or, failing that, when the
 * escalation opened). Few enough to filter here rather than parse JSON in two SQL dialects.
 */
async function missingInReconciliation(db: Kysely<Database>, period: Period): Promise<CohortCase[]> {
  const rows = await db
    .selectFrom('escalations')
    .select(['id', 'detail', 'opened_at'])
    .where('reason', '=', 'missing-referral')
    .execute();
  return rows.flatMap((row) => {
    const detail = JSON.parse(row.detail) as Record<string, unknown>;
    const made = textField(detail, 'createdAt', 'created_at', 'sourceCreatedAt');
    const madeAt = made && !Number.isNaN(Date.parse(made)) ? new Date(made).toISOString() : row.opened_at;
    if (madeAt < period.from || madeAt >= period.to) return [];
    const sourceReference = textField(detail, 'sourceReference', 'source_reference', 'reference');
    return [
      {
        referralId: null,
        escalationId: row.id,
        reference: sourceReference ?? `escalation ${row.id}`,
        sourceSystem: textField(detail, 'sourceSystem', 'source_system', 'system'),
        sourceReference,
        receivedAt: madeAt,
        urgency: null,
        conditions: ['missing-in-reconciliation'],
      },
    ];
  });
}

/**
 * The referrals received in [from, to) that match ANY of the conditions, each with every condition
 * it matched, plus (when asked) the source records missing from Relay; ordered by time, then reference.
 */
export async function selectCohort(
  db: Kysely<Database>,
  period: Period,
  conditions: readonly ReviewCondition[],
  now: Date,
): Promise<CohortCase[]> {
  const cases = new Map<string, CohortCase>();
  for (const condition of conditions) {
    if (condition === 'missing-in-reconciliation') {
      for (const c of await missingInReconciliation(db, period)) cases.set(`e:${c.escalationId}`, c);
      continue;
    }
    for (const r of await referralsMatching(db, period, condition, now.toISOString())) {
      const existing = cases.get(`r:${r.id}`);
      if (existing) existing.conditions.push(condition);
      else
        cases.set(`r:${r.id}`, {
          referralId: r.id,
          escalationId: null,
          reference: r.reference,
          sourceSystem: r.source_system,
          sourceReference: r.source_reference,
          receivedAt: r.received_at,
          urgency: r.urgency,
          conditions: [condition],
        });
    }
  }
  return [...cases.values()].sort(
    (a, b) =>
      (a.receivedAt ?? '').localeCompare(b.receivedAt ?? '') || a.reference.localeCompare(b.reference),
  );
}
