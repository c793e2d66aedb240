import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../worker-thread.ts';
import type { AttemptOutcome } from '../retry.policy.ts';
import type { EmailChannelOptions, OutgoingEmail } from './email.channel.ts';
import type { FromEmailThread, ToEmailThread } from './email.worker.ts';

interface Waiting {
  resolve(outcome: AttemptOutcome): void;
  timer: NodeJS.Timeout;
}

/**
 * The email channel on its own thread. Building and encoding a MIME message and talking SMTP cost
 * more CPU than everything else the dispatcher does for a message; on the main thread they
 * competed with intake and with the database, and SQLite's synchronous commits stalled every SMTP
 * conversation in flight. Here the SMTP pool keeps talking while the main thread commits.
 *
 * Nothing is lost if the thread dies or stops answering: every message waiting on it gets a
 * temporary outcome (so the dispatcher records a retry), and a new thread takes over.
 */
export class ThreadedEmailChannel {
  private worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private closed = false;
  /** Longest a send may take: connection, greeting and each SMTP step are bounded by timeoutMs. */
  private readonly guardMs: number;

  constructor(private readonly options: EmailChannelOptions) {
    this.guardMs = options.timeoutMs * 6 + 5000;
    this.worker = this.spawn();
  }

  send(message: OutgoingEmail): Promise<AttemptOutcome> {
    if (this.closed) return Promise.resolve({ kind: 'temporary', detail: 'email channel closed' });
    return new Promise((resolve) => {
      const id = this.nextId++;
      const timer = setTimeout(() => this.giveUp(id, 'email thread did not answer in time'), this.guardMs);
      this.waiting.set(id, { resolve, timer });
      this.worker.postMessage({ op: 'send', id, message } satisfies ToEmailThread);
    });
  }

  close(): void {
    this.closed = true;
    this.worker.postMessage({ op: 'close' } satisfies ToEmailThread);
    for (const id of [...this.waiting.keys()]) this.giveUp(id, 'email channel closed');
  }

  private spawn(): Worker {
    // .ts from the sources, .js once built (`npm run build`): the same extension as this module.
    const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    const worker = startModuleWorker(new URL(`./email.worker.${ext}`, import.meta.url), {
      workerData: this.options,
    });
    worker.on('message', (m: FromEmailThread) => {
      if (m.op === 'outcome') this.settle(m.id, m.outcome);
    });
    worker.on('error', () => undefined); // followed by 'exit', handled there
    worker.on('exit', () => {
      if (worker !== this.worker) return;
      for (const id of [...this.waiting.keys()]) this.giveUp(id, 'email thread stopped');
      if (!this.closed) this.worker = this.spawn();
    });
    return worker;
  }

  private settle(id: number, outcome: AttemptOutcome): void {
    const waiting = this.waiting.get(id);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.waiting.delete(id);
    waiting.resolve(outcome);
  }

  private giveUp(id: number, detail: string): void {
    this.settle(id, { kind: 'temporary', detail });
  }
}
