import { MeshClient } from '../../delivery/channels/mesh.client.ts';
import { trackMeshDeliveries } from '../../delivery/channels/mesh.tracking.ts';
import { toError } from '../../errors.ts';
import { MINUTE } from '../../time.ts';
import type { SweepJob } from '../watchdog.ts';
import { claimRun, fail, finish } from './schedule.ts';

export const MESH_TRACKING_JOB = 'mesh-tracking';
/** How often MESH is asked: a non-delivery report comes days after sending, not seconds. */
export const MESH_TRACKING_EVERY_MS = 5 * MINUTE;

/**
 * Every five minutes, on one node (a scheduled_runs claim per five-minute slot): reads MESH's
 * reports and tracking for sent MESH deliveries (src/delivery/channels/mesh.tracking.ts). Does
 * nothing when MESH is not configured. A MESH that cannot be reached throws, which the watchdog
 * logs and counts as a failed job; the next slot tries again.
 */
export function meshTrackingJob(): SweepJob {
  return async (ctx, now) => {
    const config = ctx.config.mesh;
    if (!config) return false;
    const slot = Math.floor(now.getTime() / MESH_TRACKING_EVERY_MS) * MESH_TRACKING_EVERY_MS;
    const period = new Date(slot).toISOString();
    const db = ctx.db.kysely;
    const attempt = await claimRun(db, MESH_TRACKING_JOB, period, now);
    if (attempt === undefined) return false;
    try {
      const result = await trackMeshDeliveries(ctx, new MeshClient(config, ctx.config.delivery.timeoutMs));
      await finish(db, MESH_TRACKING_JOB, period, { ...result });
      return result;
    } catch (error) {
      await fail(db, MESH_TRACKING_JOB, period, attempt, toError(error).message);
      throw error;
    }
  };
}
