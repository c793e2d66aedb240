import { randomUUID } from 'node:crypto';
import type { RelayContext } from '../context.ts';
import { toError } from '../errors.ts';
import { LeaseLost, SweepLease, sweepLeaseHolder } from '../cluster/sweep-lease.ts';
import { checkClockSkew } from './clock-skew.ts';
import { recordHeartbeat } from './heartbeat.ts';
import { pingHeartbeatUrl } from './heartbeat-url.ts';
import { countSweepErrors, recordSweepCompleted, recordSweepFailed } from './sweep-status.ts';
import {
  sweep,
  type NamedSweepJob,
  type SweepError,
  type SweepReport,
  type SweepWriter,
  type WatchdogLogger,
} from './watchdog.ts';

/** A follower retries just after the lease runs out, not exactly at it. */
const EXPIRY_MARGIN_MS = 20;
/** The dead man's switch may not hold up the next sweep for long. */
const HEARTBEAT_URL_TIMEOUT_MS = 10_000;

/**
 * Runs the sweep every WATCHDOG_INTERVAL_MS and records its heartbeat. One node sweeps at a time,
 * under a lease with an expiry that a frozen or partitioned holder loses within two intervals (see
 * SweepLease); every node keeps trying, and one that does not hold the lease tries again the moment
 * it runs out. Nothing stops a sweep: an item, a step or a job that throws is logged and counted
 * and the rest still run, and a sweep that fails as a whole is recorded (readiness shows it) and
 * tried again next interval. After every completed sweep it GETs HEARTBEAT_URL (the dead man's
 * switch), and on every run it compares this node's clock with the database server's.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  readonly node = `${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly lease: SweepLease;
  private nextDelayMs: number;
  private skewed = false;
  private firstRunDone: () => void = () => undefined;
  /** Settles when the first run (sweep or not, success or not) is over: `relay start` waits for it. */
  readonly firstRun = new Promise<void>((resolve) => (this.firstRunDone = resolve));

  constructor(
    private readonly ctx: RelayContext,
    private readonly logger: WatchdogLogger,
    private readonly jobs: readonly NamedSweepJob[] = [],
  ) {
    this.lease = new SweepLease(ctx.db, ctx.clock, this.node, 2 * ctx.config.watchdogIntervalMs);
    this.nextDelayMs = ctx.config.watchdogIntervalMs;
  }

  start(): void {
    const tick = () => {
      this.running = this.runOnce().finally(() => {
        this.firstRunDone();
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.nextDelayMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops ticking, waits for a sweep in progress, and gives the lease up so another node sweeps at once. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.lease.release().catch(() => undefined);
  }

  async runOnce(): Promise<void> {
    this.nextDelayMs = this.ctx.config.watchdogIntervalMs;
    await this.checkClock();
    try {
      if (await this.lease.acquire()) await this.sweepAndRunJobs();
      else this.nextDelayMs = await this.untilLeaseExpires();
      // Every node beats, leader or not: the heartbeat says a watchdog is alive and ready to take over.
      await recordHeartbeat(this.ctx, 'watchdog', this.node);
    } catch (error) {
      if (error instanceof LeaseLost) {
        this.logger.info({}, 'watchdog: lost the sweep lease to another node; stopped before writing more');
        await recordHeartbeat(this.ctx, 'watchdog', this.node).catch(() => undefined);
        return;
      }
      const message = toError(error).message;
      await this.failed(`sweep: ${message}`, [{ step: 'sweep', message }]);
    }
  }

  /** How long until the lease held by another node runs out (at most one interval). */
  private async untilLeaseExpires(): Promise<number> {
    const interval = this.ctx.config.watchdogIntervalMs;
    const held = await sweepLeaseHolder(this.ctx.db.kysely, this.ctx.clock);
    if (!held) return interval;
    return Math.min(interval, Math.max(0, held.expiresMs - held.nowMs + EXPIRY_MARGIN_MS));
  }

  private async sweepAndRunJobs(): Promise<void> {
    // Every read goes through the lease's guard and every write through its transaction.
    const ctx: RelayContext = {
      ...this.ctx,
      db: { ...this.ctx.db, kysely: this.lease.guard(this.ctx.db.kysely) },
    };
    const write: SweepWriter = (work) => this.lease.write(work);
    const isFatal = (error: unknown) => error instanceof LeaseLost || !this.lease.heldLocally();
    const report = await sweep(ctx, { write, isFatal });
    this.logErrors(report.errors);
    if (report.failedSteps.length > 0) {
      const reason = `${report.failedSteps.join(', ')}: ${report.errors[0]?.message ?? ''}`;
      this.logger.error({ err: reason }, 'watchdog sweep failed; will try again next interval');
      await write(async (trx) => {
        await countSweepErrors(trx, report.errors);
        await recordSweepFailed(trx, this.ctx.clock, this.node, reason);
      });
    } else {
      await write(async (trx) => {
        await countSweepErrors(trx, report.errors);
        await recordSweepCompleted(trx, this.ctx.clock, this.node, report.errors.length);
      });
    }
    const jobErrors = await this.runJobs(ctx, isFatal);
    if (jobErrors.length > 0) await write((trx) => countSweepErrors(trx, jobErrors));
    logReport(this.logger, report);
    if (report.failedSteps.length === 0) await this.pingDeadMansSwitch(write);
  }

  /** GETs HEARTBEAT_URL when set; a failure is logged and counted, and never stops the sweep. */
  private async pingDeadMansSwitch(write: SweepWriter): Promise<void> {
    const url = this.ctx.config.liveness.heartbeatUrl;
    if (!url) return;
    try {
      await pingHeartbeatUrl(url, Math.min(HEARTBEAT_URL_TIMEOUT_MS, this.ctx.config.watchdogIntervalMs));
    } catch (error) {
      const message = toError(error).message;
      this.logger.error({ err: message }, "watchdog: the dead man's switch (HEARTBEAT_URL) failed");
      await write((trx) => countSweepErrors(trx, [{ step: 'heartbeat-url', message }])).catch(
        () => undefined,
      );
    }
  }

  /** Every node, leader or not, checks its own clock: a wrong one is logged on each change. */
  private async checkClock(): Promise<void> {
    try {
      const check = await checkClockSkew(this.ctx);
      const skewed = check?.skewed ?? false;
      if (check && skewed !== this.skewed) {
        const seconds = Math.round(check.skewMs / 1000);
        if (skewed)
          this.logger.error(
            { skewSeconds: seconds },
            "watchdog: this node's clock disagrees with the database server's by more than MAX_CLOCK_SKEW; it is unready until fixed",
          );
        else this.logger.info({ skewSeconds: seconds }, "watchdog: this node's clock is right again");
      }
      this.skewed = skewed;
    } catch (error) {
      this.logger.error({ err: toError(error).message }, 'watchdog: could not compare clocks');
    }
  }

  /** Each job on its own: one that throws is logged and counted, and the others still run. */
  private async runJobs(ctx: RelayContext, isFatal: (error: unknown) => boolean): Promise<SweepError[]> {
    const errors: SweepError[] = [];
    for (const job of this.jobs) {
      try {
        await job.run(ctx, ctx.clock.now());
      } catch (error) {
        if (isFatal(error)) throw error;
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

  /** A sweep that threw as a whole (the database, most likely) is logged, counted and recorded if it can be. */
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
