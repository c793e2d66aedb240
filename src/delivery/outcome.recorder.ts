import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import { GroupCommit } from '../db/group-commit.ts';
import type { Database } from '../db/schema.ts';
import type { DeliveryRow } from './outbox.repository.ts';
import {
  transitionClaimed,
  type TransitionResult,
  type WorkerOutcome,
} from '../records/delivery.transitions.ts';

/**
 * Group commit for the dispatcher (src/db/group-commit.ts). One durable commit per message capped
 * the dispatcher at a fraction of what the SMTP server takes; so outcomes that finish together are
 * recorded together. A caller's promise settles only once its outcome is committed, so a sent
 * message is never reported sent before it is durable, and a crash before then leaves the delivery
 * `sending` under a lease that runs out (the message goes again, with the same Message-ID).
 */
export class OutcomeRecorder extends GroupCommit<WorkerOutcome, TransitionResult> {
  /** What the batch being written claimed; handed over only once its commit is through. */
  private claimed: DeliveryRow[] = [];

  constructor(
    db: Kysely<Database>,
    private readonly worker: string,
    private readonly clock: Clock,
    /** Optional: more work claimed in the same commit (one fsync for both), handed over after it. */
    private readonly refill?: Refill,
    maxBatch = 64,
  ) {
    super(db, maxBatch);
  }

  record(outcome: WorkerOutcome): Promise<TransitionResult> {
    return this.submit(outcome);
  }

  protected async writeBatch(trx: Kysely<Database>, outcomes: WorkerOutcome[]): Promise<TransitionResult[]> {
    const now = this.clock.now();
    const done = await transitionClaimed(trx, this.worker, now, outcomes);
    this.claimed = this.refill ? await this.refill.claim(trx, now) : [];
    return outcomes.map((o) => done.get(o.deliveryId) ?? 'lease-lost');
  }

  protected override afterBatch(committed: boolean): void {
    // What a rolled-back transaction claimed is not claimed: it must never be started.
    const claimed = committed ? this.claimed : [];
    this.claimed = [];
    this.refill?.claimed(claimed);
  }
}

/** How the dispatcher claims its next work in the outcome's transaction. */
export interface Refill {
  /** Claims in the transaction; must not start anything (the commit may still fail). */
  claim(trx: Kysely<Database>, now: Date): Promise<DeliveryRow[]>;
  /** Called after the commit (or its failure, with nothing) with what was claimed. */
  claimed(rows: DeliveryRow[]): void;
}
