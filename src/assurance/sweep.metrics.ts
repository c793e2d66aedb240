import { Counter, type Registry } from 'prom-client';
import type { RelayContext } from '../context.ts';
import { readSweepErrors } from './sweep-status.ts';
import { ERROR_STEPS } from './watchdog.ts';

/**
 * Errors of the watchdog's sweeps, counted in the database since installation, so every node
 * reports the same cluster-wide total (aggregate with max(), like every relay_* metric).
 */
export function sweepMetrics(registry: Registry, ctx: RelayContext, onError: (error: unknown) => void): void {
  new Counter({
    name: 'relay_sweep_errors_total',
    help: "Errors in the watchdog's sweeps since installation, by step: an item (delivery, route, triage item) or step that threw, a job after the sweep, the sweep as a whole, or the dead man's switch.",
    labelNames: ['step'] as const,
    registers: [registry],
    async collect() {
      let rows: { step: string; total: number }[];
      try {
        rows = await readSweepErrors(ctx.db.kysely);
      } catch (error) {
        onError(error);
        this.reset();
        return;
      }
      this.reset();
      for (const step of ERROR_STEPS) this.inc({ step }, 0);
      for (const r of rows) {
        const step = (ERROR_STEPS as readonly string[]).includes(r.step) ? r.step : 'other';
        this.inc({ step }, Number(r.total));
      }
    },
  });
}
