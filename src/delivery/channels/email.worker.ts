/**
 * The thread half of `ThreadedEmailChannel`: writes each draft's text and HTML, and sends through an
 * ordinary `EmailChannel` (Nodemailer over a pool of SMTP connections), answering with outcomes.
 * Messages cross the thread boundary in batches both ways: one postMessage for every job the event
 * loop handed over in a turn, one for every answer the SMTP pool had in a turn.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EmailChannel, type EmailChannelOptions, type OutgoingEmail } from './email.channel.ts';
import { renderEmail, type EmailDraft } from './email.draft.ts';
import type { AttemptOutcome } from '../retry.policy.ts';

/** One email to send: finished (`message`), or a draft to write out here first. */
export type EmailJob = { id: number; message: OutgoingEmail } | { id: number; draft: EmailDraft };
export type ToEmailThread = { op: 'send'; jobs: EmailJob[] } | { op: 'close' };
export type FromEmailThread = { op: 'ready' } | { op: 'outcomes'; outcomes: [id: number, AttemptOutcome][] };

const port = parentPort;
if (!port) throw new Error('email.worker.ts runs in a worker thread');
const channel = new EmailChannel(workerData as EmailChannelOptions);
let answered: [number, AttemptOutcome][] = [];

function answer(id: number, outcome: AttemptOutcome): void {
  if (answered.length === 0) setImmediate(flush);
  answered.push([id, outcome]);
}

function flush(): void {
  const outcomes = answered;
  answered = [];
  port?.postMessage({ op: 'outcomes', outcomes } satisfies FromEmailThread);
}

/**
 * Writes the email out and sends it. A draft that cannot be written out is our fault, answered as
 * the dispatcher answers its own faults: temporary, so it is retried and the watchdog sees it.
 */
function send(job: EmailJob): Promise<AttemptOutcome> {
  let message: OutgoingEmail;
  try {
    message = 'message' in job ? job.message : renderEmail(job.draft);
  } catch {
    return Promise.resolve({ kind: 'temporary', detail: 'internal error while preparing the message' });
  }
  // send() never rejects: every failure is classified into an outcome.
  return channel.send(message);
}

port.on('message', (m: ToEmailThread) => {
  if (m.op === 'close') {
    channel.close();
    port.close();
    return;
  }
  for (const job of m.jobs) void send(job).then((outcome) => answer(job.id, outcome));
});
port.postMessage({ op: 'ready' } satisfies FromEmailThread);
