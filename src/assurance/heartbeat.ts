import type { RelayContext } from '../context.ts';
import { judgeAge, skewToleranceMs } from './liveness.ts';

export const COMPONENTS = ['dispatcher', 'watchdog'] as const;
export type Component = (typeof COMPONENTS)[number];

/** Upserts this node's heartbeat for a component. */
export async function recordHeartbeat(ctx: RelayContext, component: Component, node: string): Promise<void> {
  const beat_at = ctx.clock.now().toISOString();
  await ctx.db.kysely
    .insertInto('heartbeats')
    .values({ component, node, beat_at })
    .onConflict((oc) => oc.columns(['component', 'node']).doUpdateSet({ beat_at }))
    .execute();
}

export interface ComponentHealth {
  component: Component;
  /** The newest heartbeat from any node, or null when none has ever beaten. */
  lastBeat: string | null;
  ageMs: number | null;
  stale: boolean;
}

/**
 * A component is stale when no node has beaten for it within three watchdog intervals, or its last
 * beat is in the future by more than nodes' clocks may differ (a clock was moved back).
 */
export async function componentHealth(ctx: RelayContext): Promise<ComponentHealth[]> {
  const rows = await ctx.db.kysely
    .selectFrom('heartbeats')
    .select(['component', (eb) => eb.fn.max('beat_at').as('last')])
    .groupBy('component')
    .execute();
  const now = ctx.clock.now().getTime();
  const limit = 3 * ctx.config.watchdogIntervalMs;
  const tolerance = skewToleranceMs(ctx.config);
  return COMPONENTS.map((component) => {
    const last = rows.find((r) => r.component === component)?.last ?? null;
    const ageMs = last ? now - new Date(last).getTime() : null;
    return { component, lastBeat: last, ageMs, stale: judgeAge(ageMs, limit, tolerance) !== 'fresh' };
  });
}
