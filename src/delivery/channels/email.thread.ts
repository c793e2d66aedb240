import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../worker-thread.ts';
import type { AttemptOutcome } from '../retry.policy.ts';
import type { EmailChannelOptions, OutgoingEmail } from './email.channel.ts';
import type { EmailDraft } from './email.draft.ts';
import type { EmailJob, FromEmailThread, ToEmailThread } from './email.worker.ts';

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
 * The thread also writes each email's text and HTML from its draft (`sendDraft`), and jobs and
 * answers cross in batches, one postMessage per turn of either event loop rather than one per email.
 *
 * Nothing is lost if the thread dies or stops answering: every message waiting on it gets a
 * temporary outcome (so the dispatcher records a retry), and a new thread takes over.
 */
export class ThreadedEmailChannel {
  private worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private closed = false;
  /** Jobs handed over in this turn of the event loop, posted together at its end. */
  private queued: EmailJob[] = [];
  /** Longest a send may take: connection, greeting and each SMTP step are bounded by timeoutMs. */
  private readonly guardMs: number;

  constructor(private readonly options: EmailChannelOptions) {
    this.guardMs = options.timeoutMs * 6 + 5000;
    this.worker = this.spawn();
  }

  send(message: OutgoingEmail): Promise<AttemptOutcome> {
    return this.enqueue((id) => ({ id, message }));
  }

  sendDraft(draft: EmailDraft): Promise<AttemptOutcome> {
    return this.enqueue((id) => ({ id, draft }));
  }

  private enqueue(job: (id: number) => EmailJob): Promise<AttemptOutcome> {
    if (this.closed) return Promise.resolve({ kind: 'temporary', detail: 'email channel closed' });
    return new Promise((resolve) => {
      const id = this.nextId++;
      const timer = setTimeout(() => this.giveUp(id, 'email thread did not answer in time'), this.guardMs);
      this.waiting.set(id, { resolve, timer });
      // Posted when this turn's work is done: every send the dispatcher starts together goes in one message.
      if (this.queued.length === 0) setImmediate(() => this.post());
      this.queued.push(job(id));
    });
  }

  private post(): void {
    const jobs = this.queued;
    this.queued = [];
    // A job whose answer can no longer come (closed, or its thread died) was settled already.
    const live = jobs.filter((j) => this.waiting.has(j.id));
    if (live.length > 0) this.worker.postMessage({ op: 'send', jobs: live } satisfies ToEmailThread);
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
      if (m.op === 'outcomes') for (const [id, outcome] of m.outcomes) this.settle(id, outcome);
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
