/**
 * The worker-thread half of `startThreadSink`: runs the ordinary sink here and reports each
 * arrival to the parent thread, which keeps the counts the benchmarks read.
 */
import { parentPort } from 'node:worker_threads';
import { startSink, type Arrival, type SinkMode } from './sink.ts';

export type SinkCommand =
  | { op: 'mode'; mode: SinkMode; share: number }
  | { op: 'delay'; ms: number }
  | { op: 'reset' }
  | { op: 'close' };

export type SinkReport =
  { op: 'ready'; port: number } | { op: 'arrived'; arrivals: Arrival[] } | { op: 'closed' };

const port = parentPort;
if (!port) throw new Error('sink.worker.ts runs in a worker thread');
const sink = await startSink();
let batch: Arrival[] = [];
const push = sink.arrivals.push.bind(sink.arrivals);
// Arrivals go to the parent in small batches: one message per arrival would cost the parent more.
sink.arrivals.push = (...items: Arrival[]) => {
  if (batch.length === 0)
    setImmediate(() => {
      port.postMessage({ op: 'arrived', arrivals: batch } satisfies SinkReport);
      batch = [];
    });
  batch.push(...items);
  return push(...items);
};
port.on('message', (command: SinkCommand) => {
  if (command.op === 'mode') sink.setMode(command.mode, command.share);
  else if (command.op === 'delay') sink.setDelay(command.ms);
  else if (command.op === 'reset') sink.reset();
  else
    void sink.close().then(() => {
      port.postMessage({ op: 'closed' } satisfies SinkReport);
      port.close();
    });
});
port.postMessage({ op: 'ready', port: sink.port } satisfies SinkReport);
