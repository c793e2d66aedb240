/**
 * The child-process half of `startSinkProcess`: runs the ordinary sink here and reports each
 * arrival to the parent over IPC, which keeps the counts the benchmarks read.
 */
import { startSink, type Arrival, type SinkMode } from './sink.ts';

export type SinkCommand =
  | { op: 'mode'; mode: SinkMode; share: number }
  | { op: 'delay'; ms: number }
  | { op: 'reset' }
  | { op: 'close' };

export type SinkReport =
  { op: 'ready'; port: number } | { op: 'arrived'; arrivals: Arrival[] } | { op: 'closed' };

const report = (r: SinkReport) => process.send?.(r);
if (!process.send) throw new Error('sink.main.ts runs as a child process with IPC');
const sink = await startSink();
let batch: Arrival[] = [];
const push = sink.arrivals.push.bind(sink.arrivals);
// Arrivals go to the parent in small batches: one message per arrival would cost the parent more.
sink.arrivals.push = (...items: Arrival[]) => {
  if (batch.length === 0)
    setImmediate(() => {
      report({ op: 'arrived', arrivals: batch });
      batch = [];
    });
  batch.push(...items);
  return push(...items);
};
process.on('message', (command: SinkCommand) => {
  if (command.op === 'mode') sink.setMode(command.mode, command.share);
  else if (command.op === 'delay') sink.setDelay(command.ms);
  else if (command.op === 'reset') sink.reset();
  else
    void sink.close().then(
      () => report({ op: 'closed' }),
      () => process.exit(0),
    );
});
report({ op: 'ready', port: sink.port });
