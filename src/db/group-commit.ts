import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

interface Pending<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * Group commit: each durable commit costs an fsync (and, on PostgreSQL, a round trip holding the
 * audit head's lock), so work that arrives together is written together, in one transaction.
 * Nothing waits on a timer: the first item is written on the next turn of the event loop, and the
 * ones that arrive while a commit is in progress go in the next. A caller's promise settles only
 * once its item is committed, so nothing is reported done before it is durable.
 *
 * If a batch fails, each of its items is retried in a transaction of its own (unless `retryAlone`
 * says the failure is not one item's), so one bad item fails alone and the others still commit.
 */
export abstract class GroupCommit<T, R> {
  private pending: Pending<T, R>[] = [];
  private busy = false;

  protected constructor(
    protected readonly db: Kysely<Database>,
    private readonly maxBatch: number,
  ) {}

  /** Writes the batch inside `trx`; returns one result per item, in order. */
  protected abstract writeBatch(trx: Kysely<Database>, items: T[]): Promise<R[]>;

  /** Whether a failed batch's items are worth retrying one by one (by default, always). */
  protected retryAlone(_error: unknown): boolean {
    return true;
  }

  /** After each attempt at a batch: `committed` false when its transaction rolled back. */
  protected afterBatch(_committed: boolean): void {}

  protected submit(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.busy) return;
    this.busy = true;
    // setImmediate runs after the event loop has handled every request already in, so requests
    // that came in together share a commit even on SQLite, whose statements never yield.
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) await this.commit(this.pending.splice(0, this.maxBatch));
    } finally {
      // Even if a hook threw, later items must not wait for ever behind a flag left set.
      this.busy = false;
      if (this.pending.length > 0) this.schedule();
    }
  }

  private async commit(batch: Pending<T, R>[]): Promise<void> {
    let results: R[];
    try {
      results = await this.db.transaction().execute((trx) =>
        this.writeBatch(
          trx,
          batch.map((p) => p.item),
        ),
      );
    } catch (error) {
      this.afterBatch(false);
      if (batch.length === 1 || !this.retryAlone(error)) return batch.forEach((p) => p.reject(error));
      for (const p of batch) await this.commit([p]);
      return;
    }
    this.afterBatch(true);
    batch.forEach((p, i) => p.resolve(results[i] as R));
  }
}
