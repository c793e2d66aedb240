import { randomUUID } from 'node:crypto';
import type { RelayContext } from '../context.ts';
import { toError } from '../errors.ts';
import { withSweepLock } from '../cluster/sweep-lock.ts';
import { recordHeartbeat } from './heartbeat.ts';
import { countSweepErrors, recordSweepCompleted, recordSweepFailed } from './sweep-status.ts';
import {
  sweep,
  type NamedSweepJob,
  type SweepError,
  type SweepReport,
  type WatchdogLogger,
} from './watchdog.ts';

/**
 * Runs the sweep every WATCHDOG_INTERVAL_MS and records its heartbeat. Nothing stops it: an item,
 * a step or a job that throws is logged and counted and the rest still run, and a sweep that fails
 * as a whole is recorded (readiness shows it) and tried again next interval.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  readonly node = `${process.pid}-${randomUUID().slice(0, 8)}`;

  constructor(
    private readonly ctx: RelayContext,
    private readonly logger: WatchdogLogger,
    private readonly jobs: readonly NamedSweepJob[] = [],
  ) {}

  start(): void {
    const tick = () => {
      this.running = this.runOnce().finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.ctx.config.watchdogIntervalMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  async runOnce(): Promise<void> {
    try {
      // On PostgreSQL one node sweeps at a time; the others skip it but still beat, ready to take over.
      await withSweepLock(this.ctx.db, () => this.sweepAndRunJobs());
      await recordHeartbeat(this.ctx, 'watchdog', this.node);
    } catch (error) {
      await this.failed(`sweep: ${toError(error).message}`, [
        { step: 'sweep', message: toError(error).message },
      ]);
    }
  }

  private async sweepAndRunJobs(): Promise<void> {
    const report = await sweep(this.ctx);
    this.logErrors(report.errors);
    if (report.failedSteps.length > 0) {
      await this.failed(
        `${report.failedSteps.join(', ')}: ${report.errors[0]?.message ?? ''}`,
        report.errors,
      );
    } else {
      await countSweepErrors(this.ctx.db.kysely, report.errors);
      await recordSweepCompleted(this.ctx.db.kysely, this.ctx.clock, this.node, report.errors.length);
    }
    const jobErrors = await this.runJobs();
    await countSweepErrors(this.ctx.db.kysely, jobErrors);
    logReport(this.logger, report);
  }

  /** Each job on its own: one that throws is logged and counted, and the others still run. */
  private async runJobs(): Promise<SweepError[]> {
    const errors: SweepError[] = [];
    for (const job of this.jobs) {
      try {
        await job.run(this.ctx, this.ctx.clock.now());
      } catch (error) {
        const message = toError(error).message;
        this.logger.error({ job: job.name, err: message }, 'assurance job failed; will try again next sweep');
        errors.push({ step: 'job', item: job.name, message });
      }
    }
    return errors;
  }

  private logErrors(errors: readonly SweepError[]): void {
    for (const e of errors) {
      const what = e.item ? 'an item failed' : 'a step could not run';
      this.logger.error(
        { step: e.step, item: e.item, err: e.message },
        `watchdog: ${what}; the rest of the sweep carried on`,
      );
    }
  }

  /** A sweep that failed as a whole is logged, counted and recorded, so readiness can say so. */
  private async failed(reason: string, errors: readonly SweepError[]): Promise<void> {
    this.logger.error({ err: reason }, 'watchdog sweep failed; will try again next interval');
    try {
      await countSweepErrors(this.ctx.db.kysely, errors);
      await recordSweepFailed(this.ctx.db.kysely, this.ctx.clock, this.node, reason);
    } catch (error) {
      // The database itself is what failed, most likely; readiness reports that directly.
      this.logger.error({ err: toError(error).message }, 'watchdog: could not record the failed sweep');
    }
  }
}

function logReport(logger: WatchdogLogger, report: SweepReport): void {
  const { escalations, reminders, alerts } = report;
  if (escalations + reminders + alerts > 0) logger.info({ escalations, reminders, alerts }, 'watchdog sweep');
}
