import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RelayContext } from '../context.ts';
import { londonLocal, londonToInstant } from '../directory/hours.ts';
import { toError } from '../errors.ts';
import { ATTEMPT_OUTCOMES, CHANNELS } from '../db/codes.ts';
import { DAY } from '../time.ts';
import { REFERRAL_REASONS, SYSTEM_REASONS } from '../db/codes.ts';
import { checkReadiness, type Readiness } from './health.ts';
import { COMPONENTS, liveNodes } from './heartbeat.ts';
import { loadMetricsSnapshot, type MetricsSnapshot, type MetricsWindow } from './metrics.queries.ts';
import { UNSENT_DELIVERY_STATES, OPEN_REFERRAL_STATUSES } from './open-work.ts';
import { sweepMetrics } from './sweep.metrics.ts';
import { pushMetrics } from './pushes/push.metrics.ts';

/*
 * Label values come only from these fixed sets (personal data rule: never an id, reference, name,
 * address or postcode). A database value outside its set is counted under `other`.
 */
const URGENCIES = ['immediate', 'urgent', 'routine'] as const;
const ESCALATION_REASONS = [...REFERRAL_REASONS, ...SYSTEM_REASONS] as const;

export const ACK_BUCKETS = [60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800];
export const ACK_WINDOW_MS = 7 * DAY;

type Snapshot = () => Promise<MetricsSnapshot | undefined>;

export interface MetricsOptions {
  /** Told when the database could not be read; the scrape still answers, without those series. */
  onError?: (error: unknown) => void;
}

/**
 * The daily counters count from London midnight (as the dashboard's days do), so a scrape reads one
 * day of rows, not ten years; the time-to-acknowledge histogram reads the last ACK_WINDOW_MS.
 */
export function metricsWindow(now: Date): MetricsWindow {
  return {
    dayStart: londonToInstant(londonLocal(now).date, '00:00').toISOString(),
    ackSince: new Date(now.getTime() - ACK_WINDOW_MS).toISOString(),
    now: now.toISOString(),
  };
}

function fixed(value: string, allowed: readonly string[]): string {
  return allowed.includes(value) ? value : 'other';
}

/** Runs `load` once for all the metrics collected in one scrape (prom-client collects them together). */
function sharedPerScrape<T>(load: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () =>
    (inFlight ??= load().finally(() => {
      inFlight = undefined;
    }));
}

/**
 * A registry per app, so tests and several apps in one process never collide. Every Relay metric is
 * computed from the database when scraped, so every node reports the same cluster-wide truth:
 * aggregate across nodes with max(), never sum().
 */
export function createMetricsRegistry(ctx: RelayContext, options: MetricsOptions = {}): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const snapshot = sharedPerScrape(async (): Promise<MetricsSnapshot | undefined> => {
    try {
      return await loadMetricsSnapshot(ctx.db.kysely, metricsWindow(ctx.clock.now()));
    } catch (error) {
      options.onError?.(error);
      return undefined;
    }
  });
  const readiness = sharedPerScrape((): Promise<Readiness | undefined> =>
    checkReadiness(ctx).catch((error: unknown) => {
      options.onError?.(error);
      return undefined;
    }),
  );

  referralMetrics(registry, snapshot);
  deliveryMetrics(registry, snapshot);
  acknowledgementMetrics(registry, snapshot, ctx);
  healthMetrics(registry, readiness);
  liveNodeMetrics(registry, ctx, (error) => options.onError?.(error));
  sweepMetrics(registry, ctx, (error) => options.onError?.(error));
  pushMetrics(registry, ctx, (error) => options.onError?.(error));
  return registry;
}

/** Referrals received today (a counter) and now in each open status. */
function referralMetrics(registry: Registry, snapshot: Snapshot): void {
  const registers = [registry];
  // A counter may be set from the database: reset, then add the count. It grows all day and starts
  // again from 0 at London midnight, which Prometheus reads as a counter reset (as after a restart):
  // counting from the first referral ever would read ten years of rows on every scrape.
  new Counter({
    name: 'relay_referrals_received_total',
    help: 'Referrals received since 00:00 London time today, by urgency (cluster-wide, from the database); starts again from 0 each midnight, a counter reset to rate() and increase().',
    labelNames: ['urgency'] as const,
    registers,
    async collect() {
      const s = await snapshot();
      this.reset();
      if (!s) return;
      for (const urgency of URGENCIES) this.inc({ urgency }, 0);
      for (const r of s.receivedToday) this.inc({ urgency: fixed(r.urgency, URGENCIES) }, r.n);
    },
  });

  // Acknowledged and closed referrals are the bulk of ten years and need nobody: not exposed.
  new Gauge({
    name: 'relay_referrals_by_status',
    help: 'Referrals now in each open status (not yet acknowledged or closed), however old.',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const s = await snapshot();
      this.reset();
      if (!s) return;
      for (const status of OPEN_REFERRAL_STATUSES) this.set({ status }, 0);
      for (const r of s.openReferrals) this.inc({ status: fixed(r.status, OPEN_REFERRAL_STATUSES) }, r.n);
    },
  });
}

/** Open deliveries by state and channel, and today's send attempts by outcome. */
function deliveryMetrics(registry: Registry, snapshot: Snapshot): void {
  const registers = [registry];
  // Sent, acknowledged and cancelled deliveries are finished (ten years of them): not exposed.
  new Gauge({
    name: 'relay_deliveries',
    help: 'Deliveries (referrals, reminders, alerts and test alerts) now queued, sending or retrying, however old, and failed or bounced ones of open referrals and test alerts, by channel.',
    labelNames: ['state', 'channel'] as const,
    registers,
    async collect() {
      const s = await snapshot();
      this.reset();
      if (!s) return;
      for (const state of UNSENT_DELIVERY_STATES) {
        for (const channel of CHANNELS) this.set({ state, channel }, 0);
      }
      for (const r of s.openDeliveries) {
        this.inc({ state: fixed(r.state, UNSENT_DELIVERY_STATES), channel: fixed(r.channel, CHANNELS) }, r.n);
      }
    },
  });

  new Counter({
    name: 'relay_delivery_attempts_total',
    help: 'Send attempts finished since 00:00 London time today, by outcome (sent, temporary, permanent); starts again from 0 each midnight, a counter reset to rate() and increase().',
    labelNames: ['outcome'] as const,
    registers,
    async collect() {
      const s = await snapshot();
      this.reset();
      if (!s) return;
      for (const outcome of ATTEMPT_OUTCOMES) this.inc({ outcome }, 0);
      for (const r of s.attemptsToday) this.inc({ outcome: fixed(r.outcome, ATTEMPT_OUTCOMES) }, r.n);
    },
  });
}

/** Unresolved escalations, the oldest unacknowledged route and the time to acknowledge. */
function acknowledgementMetrics(registry: Registry, snapshot: Snapshot, ctx: RelayContext): void {
  const registers = [registry];
  new Gauge({
    name: 'relay_escalations_open',
    help: 'Escalations not yet resolved (open, or claimed but not yet dealt with), by reason.',
    labelNames: ['reason'] as const,
    registers,
    async collect() {
      const s = await snapshot();
      this.reset();
      if (!s) return;
      for (const reason of ESCALATION_REASONS) this.set({ reason }, 0);
      for (const r of s.openEscalations) this.inc({ reason: fixed(r.reason, ESCALATION_REASONS) }, r.n);
    },
  });

  new Gauge({
    name: 'relay_oldest_unacknowledged_seconds',
    help: 'Age of the oldest unacknowledged route of a referral that is not closed; 0 when none.',
    registers,
    async collect() {
      const s = await snapshot();
      this.reset();
      if (!s) return;
      const at = s.oldestUnacknowledgedAt;
      this.set(at ? Math.max(0, (ctx.clock.now().getTime() - Date.parse(at)) / 1000) : 0);
    },
  });

  // Each route's own deadline (1 h, 4 h, the next working day...): an alert on age alone would fire
  // on routine referrals well inside theirs.
  new Gauge({
    name: 'relay_routes_past_ack_deadline',
    help: "Unacknowledged routes (a team's copy) of open referrals whose own acknowledgement deadline has passed.",
    registers,
    async collect() {
      const s = await snapshot();
      this.reset();
      if (s) this.set(s.pastAckDeadline);
    },
  });

  // Computed from the database at scrape time (routes acknowledged in the last 7 days) rather than
  // observed on acknowledgement, so every node reports the same distribution and a restart loses nothing.
  new Histogram({
    name: 'relay_time_to_acknowledge_seconds',
    help: 'Seconds from a route being created to its acknowledgement, for routes acknowledged in the last 7 days.',
    buckets: ACK_BUCKETS,
    registers,
    async collect() {
      const s = await snapshot();
      this.reset();
      if (!s) return;
      this.zero({});
      for (const seconds of s.acknowledgeSeconds) this.observe(seconds);
    },
  });
}

/** Heartbeat ages and this node's readiness, as GET /readyz sees them. */
function healthMetrics(registry: Registry, readiness: () => Promise<Readiness | undefined>): void {
  const registers = [registry];
  new Gauge({
    name: 'relay_heartbeat_age_seconds',
    help: 'Seconds since any node last recorded a heartbeat for the component; -1 when it never has.',
    labelNames: ['component'] as const,
    registers,
    async collect() {
      const r = await readiness();
      this.reset();
      for (const component of COMPONENTS) {
        const health = r?.components[component];
        if (health) this.set({ component }, health.ageMs === null ? -1 : health.ageMs / 1000);
      }
    },
  });

  new Gauge({
    name: 'relay_last_sweep_age_seconds',
    help: "Seconds since the watchdog's last completed sweep anywhere in the cluster (by the database's clock on PostgreSQL); -1 when none has completed. Alert when above three intervals.",
    registers,
    async collect() {
      const r = await readiness();
      this.reset();
      const sweep = r?.components.sweep;
      if (sweep) this.set(sweep.ageMs === null ? -1 : sweep.ageMs / 1000);
    },
  });

  new Gauge({
    name: 'relay_ready',
    help: '1 when this node would answer GET /readyz with 200, else 0.',
    registers,
    async collect() {
      const r = await readiness();
      this.set(r?.ready ? 1 : 0);
    },
  });
}

/**
 * Nodes alive per component across the cluster, from the database heartbeats: a web node's scrape
 * says how many workers are left as truly as a worker's, so "no worker anywhere" is one alert.
 */
function liveNodeMetrics(registry: Registry, ctx: RelayContext, onError: (error: unknown) => void): void {
  new Gauge({
    name: 'relay_live_nodes',
    help: 'Nodes whose dispatcher (live workers) or watchdog (live sweepers) recorded a heartbeat within three watchdog intervals, cluster-wide.',
    labelNames: ['component'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const live = await liveNodes(ctx).catch((error: unknown) => {
        onError(error);
        return undefined;
      });
      if (!live) return;
      for (const component of COMPONENTS) this.set({ component }, live[component]);
    },
  });
}

/** `GET /metrics`: Prometheus text format, no authentication (it carries no personal data). */
export function registerMetricsRoute(app: FastifyInstance, ctx: RelayContext): void {
  const registry = createMetricsRegistry(ctx, {
    onError: (error) => app.log.warn({ err: toError(error).message }, 'metrics: database read failed'),
  });
  app.get('/metrics', async (_request, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
}
