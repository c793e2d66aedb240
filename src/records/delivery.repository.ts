import type { Insertable, Kysely } from 'kysely';
import { newRowId } from './row-id.ts';
import type { Database } from '../db/schema.ts';
import type { Channel, DeliveryState, FollowUpPurpose, Purpose } from '../db/codes.ts';
import type { DeliveryTable } from '../db/tables/delivery.table.ts';
import { insertRows } from '../db/insert-rows.ts';

export type NewDelivery = Insertable<DeliveryTable>;

/** Writes outbox rows inside the intake transaction, so an accepted referral always has its deliveries. */
export async function insertDeliveries(trx: Kysely<Database>, rows: NewDelivery[]): Promise<void> {
  await insertRows(trx, 'deliveries', rows);
}

export interface FollowUp {
  referralId: string | null;
  routeId: string | null;
  teamId: string;
  channel: Channel;
  address: string;
  purpose: FollowUpPurpose;
  now: Date;
  sendBy: Date;
  messageDomain: string;
}

/** Queues a reminder, alert or test alert; a second call for the same one does nothing. */
export async function queueFollowUp(trx: Kysely<Database>, f: FollowUp): Promise<string | undefined> {
  const id = newRowId(f.now);
  const at = f.now.toISOString();
  const result = await trx
    .insertInto('deliveries')
    .values({
      id,
      referral_id: f.referralId,
      route_id: f.routeId,
      team_id: f.teamId,
      channel: f.channel,
      address: f.address,
      purpose: f.purpose,
      state: 'queued',
      attempts: 0,
      next_attempt_at: at,
      locked_by: null,
      lease_until: null,
      last_error: null,
      send_by: f.sendBy.toISOString(),
      message_id: `<${id}@${f.messageDomain}>`,
      created_at: at,
      updated_at: at,
      sent_at: null,
      acknowledged_at: null,
    })
    .onConflict((oc) => oc.columns(['referral_id', 'team_id', 'channel', 'address', 'purpose']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0 ? id : undefined;
}

export interface DeliverySummary {
  id: string;
  routeId: string | null;
  teamId: string;
  channel: Channel;
  address: string;
  purpose: Purpose;
  state: DeliveryState;
  attempts: number;
  lastError: string | null;
  sendBy: string;
  sentAt: string | null;
  acknowledgedAt: string | null;
}

export async function deliveriesOfReferral(
  db: Kysely<Database>,
  referralId: string,
): Promise<DeliverySummary[]> {
  const rows = await db
    .selectFrom('deliveries')
    .select([
      'id',
      'route_id',
      'team_id',
      'channel',
      'address',
      'purpose',
      'state',
      'attempts',
      'last_error',
      'send_by',
      'sent_at',
      'acknowledged_at',
    ])
    .where('referral_id', '=', referralId)
    .orderBy('created_at')
    .orderBy('team_id')
    .orderBy('channel')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    routeId: r.route_id,
    teamId: r.team_id,
    channel: r.channel,
    address: r.address,
    purpose: r.purpose,
    state: r.state,
    attempts: r.attempts,
    lastError: r.last_error,
    sendBy: r.send_by,
    sentAt: r.sent_at,
    acknowledgedAt: r.acknowledged_at,
  }));
}
