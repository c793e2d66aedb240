/**
 * The thread half of `ThreadedEmailChannel`: an ordinary `EmailChannel` (Nodemailer over a pool of
 * SMTP connections) answering each message with its outcome.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EmailChannel, type EmailChannelOptions, type OutgoingEmail } from './email.channel.ts';
import type { AttemptOutcome } from '../retry.policy.ts';

export type ToEmailThread = { op: 'send'; id: number; message: OutgoingEmail } | { op: 'close' };
export type FromEmailThread = { op: 'ready' } | { op: 'outcome'; id: number; outcome: AttemptOutcome };

const port = parentPort;
if (!port) throw new Error('email.worker.ts runs in a worker thread');
const channel = new EmailChannel(workerData as EmailChannelOptions);
const reply = (m: FromEmailThread) => port.postMessage(m);
port.on('message', (m: ToEmailThread) => {
  if (m.op === 'close') {
    channel.close();
    port.close();
    return;
  }
  // send() never rejects: every failure is classified into an outcome.
  void channel.send(m.message).then((outcome) => reply({ op: 'outcome', id: m.id, outcome }));
});
reply({ op: 'ready' });
