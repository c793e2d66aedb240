import { Gauge, type Registry } from 'prom-client';
import type { RelayContext } from '../../context.ts';

const UNDELIVERED = ['queued', 'failed'] as const;
const CHANNELS = ['email', 'pager'] as const;

/**
 * Escalation pushes not (yet) delivered: queued (waiting or retrying) and failed (attempts spent). A
 * failed push means a person may not know: alert on it. Read from the database, so every node
 * reports the same (aggregate with max()).
 */
export function pushMetrics(registry: Registry, ctx: RelayContext, onError: (error: unknown) => void): void {
  new Gauge({
    name: 'relay_escalation_pushes_undelivered',
    help: 'Escalation pushes (email or pager) not delivered: queued (waiting or retrying) or failed (attempts spent), by channel.',
    labelNames: ['state', 'channel'] as const,
    registers: [registry],
    async collect() {
      let rows: { state: string; channel: string; n: number | string | bigint }[];
      try {
        rows = await ctx.db.kysely
          .selectFrom('escalation_pushes')
          .select(['state', 'channel', (eb) => eb.fn.countAll<number>().as('n')])
          .where('state', 'in', UNDELIVERED)
          .groupBy(['state', 'channel'])
          .execute();
      } catch (error) {
        onError(error);
        this.reset();
        return;
      }
      this.reset();
      for (const state of UNDELIVERED) for (const channel of CHANNELS) this.set({ state, channel }, 0);
      for (const r of rows) this.inc({ state: r.state, channel: r.channel }, Number(r.n));
    },
  });
}
