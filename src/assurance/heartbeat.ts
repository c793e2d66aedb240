import { hostname } from 'node:os';
import type { CoreContext } from '../context.ts';
import { judgeAge, skewToleranceMs } from './liveness.ts';

export const COMPONENTS = ['dispatcher', 'watchdog'] as const;
export type Component = (typeof COMPONENTS)[number];

/** Upserts this node's heartbeat for a component. */
export async function recordHeartbeat(ctx: CoreContext, component: Component, node: string): Promise<void> {
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
export async function componentHealth(ctx: CoreContext): Promise<ComponentHealth[]> {
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

/** A node id unique across machines and restarts: process ids repeat from one host to the next. */
export function nodeId(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * How many nodes beat for each component within three watchdog intervals: live workers
 * (`dispatcher`) and live sweepers (`watchdog`) across the cluster, so "no worker anywhere" and "one
 * worker left" are each one alert, whichever node is scraped.
 */
export async function liveNodes(ctx: CoreContext): Promise<Record<Component, number>> {
  const now = ctx.clock.now().getTime();
  const since = new Date(now - 3 * ctx.config.watchdogIntervalMs).toISOString();
  const until = new Date(now + skewToleranceMs(ctx.config)).toISOString();
  const rows = await ctx.db.kysely
    .selectFrom('heartbeats')
    .select(['component', (eb) => eb.fn.count<number>('node').distinct().as('n')])
    .where('component', 'in', [...COMPONENTS])
    .where('beat_at', '>=', since)
    .where('beat_at', '<=', until)
    .groupBy('component')
    .execute();
  const count = (component: Component) => Number(rows.find((r) => r.component === component)?.n ?? 0);
  return { dispatcher: count('dispatcher'), watchdog: count('watchdog') };
}
