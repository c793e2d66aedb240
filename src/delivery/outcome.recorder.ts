import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import type { DeliveryRow } from './outbox.repository.ts';
import { transitionClaimed, type TransitionResult, type WorkerOutcome } from './delivery.transitions.ts';

interface Pending {
  outcome: WorkerOutcome;
  resolve(result: TransitionResult): void;
  reject(error: unknown): void;
}

/**
 * Group commit for the dispatcher. Each durable commit costs an fsync, and one per message capped
 * the dispatcher at a fraction of what the SMTP server takes; so outcomes that finish together are
 * recorded together, in one transaction. Nothing waits on a timer: the first outcome is written on
 * the next turn of the event loop, and the ones that arrive while a commit is in progress go in
 * the next. A caller's promise settles only once its outcome is committed, so a sent message is
 * never reported sent before it is durable, and a crash before then leaves the delivery `sending`
 * under a lease that runs out (the message goes again, with the same Message-ID).
 */
export class OutcomeRecorder {
  private pending: Pending[] = [];
  private busy = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly worker: string,
    private readonly clock: Clock,
    /** Optional: more work claimed in the same commit (one fsync for both), handed over after it. */
    private readonly refill?: Refill,
    private readonly maxBatch = 64,
  ) {}

  record(outcome: WorkerOutcome): Promise<TransitionResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ outcome, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.busy) return;
    this.busy = true;
    // setImmediate runs after the event loop has handled every reply already in, so replies that
    // came in together share a commit even on SQLite, whose statements never yield.
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) await this.commit(this.pending.splice(0, this.maxBatch));
    this.busy = false;
  }

  private async commit(batch: Pending[]): Promise<void> {
    let claimed: DeliveryRow[] = [];
    try {
      const results = await this.db.transaction().execute(async (trx) => {
        const now = this.clock.now();
        const done = await transitionClaimed(
          trx,
          this.worker,
          now,
          batch.map((p) => p.outcome),
        );
        claimed = this.refill ? await this.refill.claim(trx, now) : [];
        return done;
      });
      for (const p of batch) p.resolve(results.get(p.outcome.deliveryId) ?? 'lease-lost');
    } catch (error) {
      claimed = [];
      const [only] = batch;
      if (batch.length === 1 && only) return only.reject(error);
      // One outcome that cannot be written must not cost the others theirs: one by one, each in
      // its own transaction, so only the bad one is left to its lease.
      for (const p of batch) await this.commit([p]);
    } finally {
      this.refill?.claimed(claimed);
    }
  }
}

/** How the dispatcher claims its next work in the outcome's transaction. */
export interface Refill {
  /** Claims in the transaction; must not start anything (the commit may still fail). */
  claim(trx: Kysely<Database>, now: Date): Promise<DeliveryRow[]>;
  /** Called after the commit (or its failure, with nothing) with what was claimed. */
  claimed(rows: DeliveryRow[]): void;
}
