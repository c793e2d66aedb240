import type { RelayContext } from '../context.ts';
import { pingDatabase } from '../db/database.ts';
import { componentHealth, type ComponentHealth } from './heartbeat.ts';

export interface Readiness {
  ready: boolean;
  status: 'ready' | 'unavailable' | 'draining';
  components: {
    database: 'ok' | 'unreachable';
    dispatcher?: ComponentHealth;
    watchdog?: ComponentHealth;
  };
  /** Where webhooks may connect: `private-allowed` when WEBHOOK_ALLOW_PRIVATE=on lets them into internal networks. */
  webhooks: 'public-only' | 'private-allowed';
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
  const health = await componentHealth(ctx);
  const components = Object.fromEntries(health.map((h) => [h.component, h]));
  const ready = !ctx.lifecycle.draining && health.every((h) => !h.stale);
  return {
    ready,
    status: ctx.lifecycle.draining ? 'draining' : ready ? 'ready' : 'unavailable',
    components: { database: 'ok', ...components },
    webhooks,
  };
}
