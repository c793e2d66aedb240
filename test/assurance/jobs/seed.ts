import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../../src/db/schema.ts';
import { exampleReferral } from '../../../src/referrals/referral.example.ts';
import { HOUR } from '../../../src/time.ts';
import type { EscalationReason } from '../../../src/db/codes.ts';
import type { TestRelay } from '../../helpers/relay.ts';
import { raise } from '../../helpers/referrals.ts';

export interface SeedRoute {
  receivedAt: string;
  teamId?: string;
  ackBy?: string;
  acknowledgedAt?: string | null;
}

let sequence = 0;

/**
 * History written straight into the tables (a referral and one route each), in batches: jobs read
 * only these columns, and going through intake for hundreds of past days would only slow the tests.
 */
export async function seedRoutes(db: Kysely<Database>, seeds: SeedRoute[]): Promise<string[]> {
  const referrals = [];
  const routes = [];
  for (const s of seeds) {
    sequence += 1;
    const id = randomUUID();
    const teamId = s.teamId ?? 'dudley-adults';
    referrals.push({
      id,
      reference: `SR-2025-${String(sequence).padStart(6, '0')}`,
      source_system: 'seed',
      source_reference: `SEED-${sequence}-${id.slice(0, 8)}`,
      body_hash: 'seed',
      payload: '{}',
      subject_type: 'adult',
      referral_type: 'safeguarding',
      urgency: 'routine',
      categories: '["neglect"]',
      status: s.acknowledgedAt ? 'acknowledged' : 'sent',
      received_at: s.receivedAt,
      updated_at: s.receivedAt,
      directory_version: null,
      raised_by_key: null,
      closed_at: null,
    });
    const ackBy = s.ackBy ?? new Date(Date.parse(s.receivedAt) + 4 * HOUR).toISOString();
    routes.push({
      id: randomUUID(),
      referral_id: id,
      authority_id: teamId.split('-')[0] ?? 'x',
      team_id: teamId,
      team_kind: 'adults',
      reason: 'subject-type',
      position: 0,
      urgency_rank: 0,
      ack_by: ackBy,
      reminder_at: ackBy,
      reminded_at: null,
      alerted_at: null,
      acknowledged_at: s.acknowledgedAt ?? null,
      outcome: null,
      outcome_note: null,
      outcome_at: null,
      created_at: s.receivedAt,
    });
  }
  for (let i = 0; i < referrals.length; i += 200) {
    await db
      .insertInto('referrals')
      .values(referrals.slice(i, i + 200))
      .execute();
    await db
      .insertInto('routes')
      .values(routes.slice(i, i + 200))
      .execute();
  }
  return referrals.map((r) => r.id);
}

/** Raises a real referral through the API at the relay's current time (Birmingham adults, urgent). */
export async function raiseReferral(relay: TestRelay, reference: string, overrides = {}) {
  const now = relay.clock.now();
  const base = exampleReferral();
  return raise(relay, {
    source: { system: 'test-epcr', reference },
    incident: { ...base.incident, occurredAt: new Date(now.getTime() - HOUR).toISOString() },
    ...overrides,
  });
}

export async function escalationsOf(db: Kysely<Database>, reason: EscalationReason) {
  return db.selectFrom('escalations').selectAll().where('reason', '=', reason).orderBy('opened_at').execute();
}
