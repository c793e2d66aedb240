import type { RelayContext } from '../../context.ts';
import { markBounced, type BounceOutcome } from '../bounce/bounce.service.ts';
import type { MeshClient, MeshReport } from './mesh.client.ts';

export const MESH_TRACKING_ACTOR = 'mesh-tracking';
/** Sent MESH deliveries whose tracking is read per run, oldest first (reports cover the rest). */
export const TRACKED_PER_RUN = 200;

export interface MeshTrackingResult {
  /** Sent deliveries whose tracking was read. */
  tracked: number;
  /** Reports found in Relay's inbox. */
  reports: number;
  /** Deliveries marked `bounced` by either. */
  bounced: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What MESH knows of Relay's sent messages, as a MESH client learns it: the non-delivery reports in
 * Relay's own inbox (MESH puts one there when the recipient never downloads a message), then the
 * tracking of each `sent` delivery not yet acknowledged (a status of undeliverable or error). Either
 * marks the delivery `bounced` through the same path as an email's DSN, which the watchdog escalates.
 * A report is acknowledged (taken out of the inbox) only once it has been applied.
 */
export async function trackMeshDeliveries(
  ctx: RelayContext,
  client: MeshClient,
): Promise<MeshTrackingResult> {
  const result: MeshTrackingResult = { tracked: 0, reports: 0, bounced: 0 };
  for (const id of await client.inbox()) {
    const report = await client.report(id);
    if (!report) continue; // A data message someone sent Relay: not a report, left for a person.
    result.reports += 1;
    if ((await applyReport(ctx, report)) === 'bounced') result.bounced += 1;
    await client.acknowledge(id);
  }
  const sent = await ctx.db.kysely
    .selectFrom('deliveries')
    .select(['id', 'provider_message_id'])
    .where('channel', '=', 'mesh')
    .where('state', '=', 'sent')
    .where('provider_message_id', 'is not', null)
    .orderBy('sent_at')
    .limit(TRACKED_PER_RUN)
    .execute();
  for (const row of sent) {
    const tracking = await client.tracking(row.provider_message_id ?? '');
    result.tracked += 1;
    if (!tracking || tracking.success) continue;
    const outcome = await markBounced(ctx, {
      deliveryId: row.id,
      channel: 'mesh',
      actor: MESH_TRACKING_ACTOR,
      error: `bounced: MESH ${tracking.status}${tracking.diagnostic ? ` ${tracking.diagnostic}` : ''}`,
      detail: { meshStatus: tracking.status },
    });
    if (outcome === 'bounced') result.bounced += 1;
  }
  return result;
}

/** The delivery a report names: by the local id Relay sent (the delivery id), else by MESH's id. */
async function applyReport(ctx: RelayContext, report: MeshReport): Promise<BounceOutcome> {
  let deliveryId = report.localId && UUID.test(report.localId) ? report.localId : undefined;
  if (!deliveryId && report.linkedMessageId) {
    const row = await ctx.db.kysely
      .selectFrom('deliveries')
      .select('id')
      .where('provider_message_id', '=', report.linkedMessageId)
      .executeTakeFirst();
    deliveryId = row?.id;
  }
  if (!deliveryId) return 'ignored-unknown';
  const words = [report.statusCode, report.description].filter(Boolean).join(' ');
  return markBounced(ctx, {
    deliveryId,
    channel: 'mesh',
    actor: MESH_TRACKING_ACTOR,
    error: `bounced: MESH non-delivery report${words ? ` ${words}` : ''}`,
    detail: { meshReport: report.messageId, ...(report.statusCode ? { meshStatus: report.statusCode } : {}) },
  });
}
