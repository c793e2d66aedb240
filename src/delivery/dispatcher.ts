import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { RelayContext } from '../context.ts';
import { toError } from '../errors.ts';
import type { Transports } from './channels/channel.ts';
import { attemptDelivery, preload, type Preloaded } from './delivery.sender.ts';
import { failureReason } from './failure-reason.ts';
import { OutcomeRecorder } from './outcome.recorder.ts';
import { claimDue, claimDueIn, releaseClaims, type DeliveryRow } from './outbox.repository.ts';
import { decide, DEFAULT_BACKOFF, type AttemptOutcome } from './retry.policy.ts';

export interface DispatcherLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DispatcherOptions {
  /** What the channels send through (the SMTP pool); each delivery's channel is found in the registry. */
  transports: Transports;
  logger: DispatcherLogger;
  workerId?: string;
  /** Injected so tests can pin the jitter. */
  random?: () => number;
  /** Called after every pass, for the heartbeat. */
  onPass?: () => void;
}

/**
 * Claims due deliveries with a lease, sends them with bounded concurrency, and records each
 * outcome through the one transition function. Woken at once by intake in this process; polls as
 * the fallback (for work from other nodes, retries coming due and expired leases).
 */
export class Dispatcher {
  readonly workerId: string;
  private readonly recorder: OutcomeRecorder;
  /** Sends waiting on the SMTP server or webhook. */
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * Claimed ahead of the free slots, started the moment a send's answer frees one: the next
   * message never waits for the commit that records the last (see `room`).
   */
  private readonly ready: { row: DeliveryRow; known: Preloaded | undefined }[] = [];
  /** Outcomes answered but not yet committed. */
  private readonly recording = new Set<Promise<void>>();
  private running = false;
  private wake: (() => void) | undefined;
  /** Set by a signal that came during a pass, so the next sleep is skipped rather than the signal lost. */
  private woken = false;
  private failures = 0;
  private loop: Promise<void> | undefined;
  /** Counts announcements of new deliveries (this node's intake, or another node's); see `drained`. */
  private announced = 0;
  /**
   * `announced` as it stood when a claim last came back with less than it asked for (nothing else
   * was due), and when that was. Until more is announced, or for one poll interval, a slot coming
   * free claims nothing: an empty claim still costs a transaction and a walk of the index, and in a
   * burst most claims came back empty. After the interval it claims as the poll always did, for
   * retries coming due, leases running out and work that no signal announced.
   */
  private drained = { announced: -1, atMs: 0 };
  private readonly onQueued = () => {
    this.announced += 1;
    this.onRoom();
  };
  private readonly onRoom = () => {
    this.woken = true;
    this.wake?.();
  };

  constructor(
    private readonly ctx: RelayContext,
    private readonly options: DispatcherOptions,
  ) {
    this.workerId = options.workerId ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
    // Slots freed by committed outcomes are refilled in the same commit: one fsync, not two.
    this.recorder = new OutcomeRecorder(ctx.db.kysely, this.workerId, ctx.clock, {
      claim: (trx, now) => {
        const room = this.room();
        if (!this.running || this.nothingAnnounced() || !this.worthClaiming(room)) return Promise.resolve([]);
        const { dialect } = this.ctx.db;
        const { leaseMs } = this.ctx.config.delivery;
        return this.noteDrained(room, () => claimDueIn(trx, dialect, this.workerId, now, leaseMs, room));
      },
      claimed: (rows) => rows.length > 0 && this.track(this.begin(rows)),
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.ctx.signals.on('deliveries-queued', this.onQueued);
    this.loop = this.run();
  }

  /** Wakes the loop now: another node announced deliveries (LISTEN/NOTIFY). */
  nudge(): void {
    this.onQueued();
  }

  /**
   * Stops claiming, gives back at once what was claimed but not started (another worker sends it
   * at its next pass), and waits for the sends in flight and their commits, at most SEND_TIMEOUT
   * (each send is bounded by it already; this bounds the whole drain). A send still unanswered then
   * keeps its lease, which runs out: another node sends it again, with the same Message-ID.
   */
  async stop(): Promise<{ released: number; unfinished: number }> {
    this.running = false;
    this.ctx.signals.off('deliveries-queued', this.onQueued);
    this.wake?.();
    await this.loop;
    const released = await this.releaseReady();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'timed-out'>((resolve) => {
      timer = setTimeout(() => resolve('timed-out'), this.ctx.config.delivery.timeoutMs);
    });
    const finished = async () => {
      while (this.inFlight.size > 0 || this.recording.size > 0) {
        await Promise.allSettled([...this.inFlight, ...this.recording]);
      }
      return 'finished' as const;
    };
    const how = await Promise.race([finished(), bound]);
    clearTimeout(timer);
    const unfinished = how === 'timed-out' ? this.inFlight.size + this.recording.size : 0;
    if (unfinished > 0)
      this.options.logger.warn(
        { unfinished },
        'drain: sends still unanswered after SEND_TIMEOUT; their leases run out and another node sends them',
      );
    return { released, unfinished };
  }

  /** Claimed deliveries not yet started go back to the queue (see releaseClaims). */
  private async releaseReady(): Promise<number> {
    const ids = this.ready.splice(0).map((entry) => entry.row.id);
    if (ids.length === 0) return 0;
    try {
      const released = await releaseClaims(this.ctx.db.kysely, this.workerId, ids, this.ctx.clock.now());
      this.options.logger.info({ released }, 'drain: released claimed deliveries that had not started');
      return released;
    } catch (error) {
      // Their leases still run out (DELIVERY_LEASE): later, but never lost.
      this.options.logger.error(
        { err: toError(error).message, claimed: ids.length },
        'drain: could not release claimed deliveries; they return when their lease runs out',
      );
      return 0;
    }
  }

  /**
   * How many more deliveries to claim: enough to fill every slot and to have as many again ready
   * to start, less what is held already.
   */
  private room(): number {
    return 2 * this.ctx.config.delivery.concurrency - this.inFlight.size - this.ready.length;
  }

  /**
   * Whether `room` is worth a claim. While little is free it waits for a quarter of the slots to
   * come free, so that claims are made in batches rather than a few at a time: each claim is an
   * UPDATE, an audit block and a walk of the index to find what it takes, whether it takes 2 or 20
   * (a claim in every outcome commit, about six sends each, was an eighth of the time a burst spent
   * in SQLite). The ready queue holds as many again as the slots, so the sends never wait for it.
   */
  private worthClaiming(room: number): boolean {
    const busy = this.inFlight.size + this.ready.length;
    return room > 0 && (busy === 0 || room >= Math.ceil(this.ctx.config.delivery.concurrency / 4));
  }

  /** Whether a claim found nothing more due within the poll interval and nothing was announced since. */
  private nothingAnnounced(): boolean {
    const { announced, atMs } = this.drained;
    return announced === this.announced && performance.now() - atMs < this.ctx.config.delivery.pollIntervalMs;
  }

  /** Runs a claim of up to `room`, noting when it comes back short (see `drained`). */
  private async noteDrained(room: number, claim: () => Promise<DeliveryRow[]>): Promise<DeliveryRow[]> {
    const announced = this.announced;
    const atMs = performance.now();
    const claimed = await claim();
    if (claimed.length < room) this.drained = { announced, atMs };
    return claimed;
  }

  /**
   * One pass: claim what fits and start what the free slots take. Returns how many were claimed.
   * `always` (tests, `drain()`) claims even just after a drained claim (see `drained`).
   */
  async pass(always = true): Promise<number> {
    const concurrency = this.ctx.config.delivery.concurrency;
    const room = this.room();
    if (!this.worthClaiming(room) || (!always && this.nothingAnnounced())) return 0;
    // When commits fall behind the sends, wait for them rather than pile up answered work.
    if (this.recording.size >= concurrency) return 0;
    const { kysely, dialect } = this.ctx.db;
    const { leaseMs } = this.ctx.config.delivery;
    const now = this.ctx.clock.now();
    const claimed = await this.noteDrained(room, () =>
      claimDue(kysely, dialect, this.workerId, now, leaseMs, room),
    );
    await this.begin(claimed);
    return claimed.length;
  }

  /** Queues what was claimed and starts what the free slots take. */
  private async begin(claimed: DeliveryRow[]): Promise<void> {
    if (claimed.length === 0) return;
    const known = await preload(this.ctx, claimed).catch(() => undefined); // each send reads its own then
    for (const row of claimed) this.ready.push({ row, known });
    this.fill();
  }

  /**
   * Starts ready deliveries in the free slots. One whose lease is more than half gone has waited
   * too long to be sent safely before it runs out (a slow or stalled server): it is left for a
   * later claim, once the lease has expired, rather than risk two sends racing.
   */
  private fill(): void {
    const concurrency = this.ctx.config.delivery.concurrency;
    const now = this.ctx.clock.now().getTime();
    const half = this.ctx.config.delivery.leaseMs / 2;
    while (this.inFlight.size < concurrency) {
      const next = this.ready.shift();
      if (!next) return;
      if (Date.parse(next.row.lease_until ?? '') - now < half) {
        this.options.logger.warn(
          { delivery: next.row.id },
          'claimed delivery waited past half its lease; it is sent again once the lease runs out',
        );
        continue;
      }
      this.track(this.process(next.row, next.known));
    }
  }

  /** Sends everything due now and waits for it: for tests and the benchmark. */
  async drain(): Promise<void> {
    while (
      (await this.pass()) > 0 ||
      this.inFlight.size > 0 ||
      this.recording.size > 0 ||
      this.ready.length > 0
    ) {
      this.fill();
      const busy = [...this.inFlight, ...this.recording];
      if (busy.length > 0) await Promise.race(busy);
    }
  }

  private trackRecording(work: Promise<void>): void {
    this.recording.add(work);
    void work.finally(() => {
      this.recording.delete(work);
      this.onRoom();
    });
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => {
      this.inFlight.delete(work);
      this.fill();
      // Room came free: through onRoom, so that room freed during a pass is not slept through.
      this.onRoom();
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      let claimed = 0;
      try {
        claimed = await this.pass(false);
        this.failures = 0;
        this.options.onPass?.();
      } catch (error) {
        this.failures += 1;
        this.options.logger.error(
          { err: toError(error).message, failures: this.failures },
          'dispatcher pass failed; will retry',
        );
      }
      if (claimed > 0 && this.room() > 0) continue;
      // stop() during the pass found no sleep to cut short: sleeping now would hold it for a poll.
      if (!this.running) break;
      await this.sleep(this.pause());
    }
  }

  /** The poll interval, doubled per consecutive failure up to 5 s: a database that is down is not hammered. */
  private pause(): number {
    const poll = this.ctx.config.delivery.pollIntervalMs;
    if (this.failures === 0) return poll;
    return Math.min(poll * 2 ** Math.min(this.failures, 10), Math.max(poll, 5000));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, this.woken ? 0 : ms);
      this.wake = done;
    });
  }

  private async process(row: DeliveryRow, known?: Preloaded): Promise<void> {
    const startedAt = this.ctx.clock.now();
    const t0 = performance.now();
    let outcome: AttemptOutcome;
    try {
      outcome = await attemptDelivery(this.ctx, this.options.transports, row, known);
    } catch (error) {
      // A fault of ours (bad data, a bug) must still end in a recorded state the watchdog sees.
      this.options.logger.error(
        { delivery: row.id, err: toError(error).message },
        'delivery attempt crashed',
      );
      outcome = { kind: 'temporary', detail: 'internal error while preparing the message' };
    }
    const durationMs = Math.round(performance.now() - t0);
    // The slot is free once the SMTP server has answered; the outcome is committed with others
    // that finish near it (see OutcomeRecorder), and stop() waits for that too.
    this.trackRecording(
      this.record(row, outcome, startedAt, durationMs).catch((error: unknown) => {
        // The lease runs out and another pass resends: at-least-once, with the same Message-ID.
        this.options.logger.error(
          { delivery: row.id, err: toError(error).message },
          'could not record attempt',
        );
      }),
    );
  }

  private async record(row: DeliveryRow, outcome: AttemptOutcome, startedAt: Date, durationMs: number) {
    const now = this.ctx.clock.now();
    const policy = { ...DEFAULT_BACKOFF, windowMs: this.ctx.config.retryWindowMs };
    const decision = decide(
      outcome,
      row.attempts,
      now,
      new Date(row.created_at),
      policy,
      this.options.random,
    );
    const set =
      decision.state === 'sent'
        ? {
            sent_at: now.toISOString(),
            last_error: null,
            ...(outcome.kind === 'sent' && outcome.providerMessageId
              ? { provider_message_id: outcome.providerMessageId }
              : {}),
          }
        : decision.state === 'retrying'
          ? { next_attempt_at: decision.nextAttemptAt.toISOString(), last_error: outcome.detail }
          : { last_error: outcome.detail };
    const result = await this.recorder.record({
      deliveryId: row.id,
      to: decision.state,
      set,
      attempt: {
        worker: this.workerId,
        startedAt,
        durationMs,
        outcome: outcome.kind,
        detail: outcome.detail,
      },
      detail: {
        attempt: row.attempts,
        outcome: outcome.kind,
        ...(decision.state === 'failed' ? { reason: decision.reason } : {}),
      },
    });
    if (result !== 'done')
      this.options.logger.warn({ delivery: row.id, result }, 'attempt outcome not recorded');
    else if (decision.state !== 'sent') {
      // The reason class, never the detail: an SMTP reply may quote the team's address.
      this.options.logger.warn(
        {
          delivery: row.id,
          state: decision.state,
          attempt: row.attempts,
          outcome: outcome.kind,
          reason: failureReason(outcome.detail),
        },
        'delivery not sent',
      );
    }
  }
}
