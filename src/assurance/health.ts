import type { RelayContext } from '../context.ts';
import { pingDatabase } from '../db/database.ts';
import { componentHealth, type ComponentHealth } from './heartbeat.ts';
import { readSweepStatus, type SweepStatus } from './sweep-status.ts';

/** The cluster's sweeps as the database records them. */
export interface SweepHealth {
  lastCompletedAt: string | null;
  lastCompletedBy: string | null;
  /** Items that threw in the last completed sweep (it carried on past them). */
  errors: number;
  /** When a sweep last failed as a whole, and why; null when none ever has. */
  lastFailedAt: string | null;
  lastFailure: string | null;
}

export interface Readiness {
  ready: boolean;
  status: 'ready' | 'unavailable' | 'draining';
  components: {
    database: 'ok' | 'unreachable';
    dispatcher?: ComponentHealth;
    watchdog?: ComponentHealth;
    /** Whether late bounces are listened for; `off` only when BOUNCES=off says so on purpose. */
    bounces?: BouncesState;
    sweep?: SweepHealth;
  };
  /** Where webhooks may connect: `private-allowed` when WEBHOOK_ALLOW_PRIVATE=on lets them into internal networks. */
  webhooks: 'public-only' | 'private-allowed';
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function sweepHealth(status: SweepStatus): SweepHealth {
  return {
    lastCompletedAt: iso(status.completedMs),
    lastCompletedBy: status.completedBy,
    errors: status.completedErrors,
    lastFailedAt: iso(status.failedMs),
    lastFailure: status.failure,
  };
}

/**
 * Ready means referrals can be taken and will be worked: the database answers and, somewhere in
 * the cluster, a dispatcher and a watchdog have beaten within three intervals.
 */
export async function checkReadiness(ctx: RelayContext): Promise<Readiness> {
  const webhooks = ctx.config.delivery.webhookAllowPrivate ? 'private-allowed' : 'public-only';
  if (!(await pingDatabase(ctx.db))) {
    return { ready: false, status: 'unavailable', components: { database: 'unreachable' }, webhooks };
  }
  const [health, sweep] = await Promise.all([
    componentHealth(ctx),
    readSweepStatus(ctx.db.kysely, ctx.clock),
  ]);
  const components = Object.fromEntries(health.map((h) => [h.component, h]));
  const ready = !ctx.lifecycle.draining && health.every((h) => !h.stale);
  return {
    ready,
    status: ctx.lifecycle.draining ? 'draining' : ready ? 'ready' : 'unavailable',
    components: { database: 'ok', ...components, bounces: bouncesState(ctx), sweep: sweepHealth(sweep) },
    webhooks,
  };
}

export type BouncesState = 'on' | 'off' | 'not-configured';

function bouncesState(ctx: RelayContext): BouncesState {
  if (ctx.config.bounces === 'off') return 'off';
  return ctx.config.bounceSmtpPort === undefined ? 'not-configured' : 'on';
}
