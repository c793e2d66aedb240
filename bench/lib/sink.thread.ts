import { startModuleWorker } from '../../src/worker-thread.ts';
import { waitForCount, type Arrival, type Sink } from './sink.ts';
import type { SinkCommand, SinkReport } from './sink.worker.ts';

/**
 * The same SMTP sink, in its own thread. A real SMTP server keeps answering while the sender's
 * thread is busy or blocked (SQLite's fsync is synchronous); in the sender's own thread, the sink
 * would stall with it and make every sender look slower than it is. Arrival times are stamped in
 * the sink's thread on the shared wall clock (`now()` in stats.ts), so latencies stay exact.
 */
export async function startThreadSink(): Promise<Sink> {
  const worker = startModuleWorker(new URL('./sink.worker.ts', import.meta.url));
  const arrivals: Arrival[] = [];
  const counts = new Map<string, number>();
  let epoch = 0;
  const send = (command: SinkCommand) => worker.postMessage(command);
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (report: SinkReport) => {
      if (report.op === 'ready') resolve(report.port);
      if (report.op !== 'arrived') return;
      for (const a of report.arrivals) {
        if (a.at < epoch) continue; // sent before the last reset, reported after it
        arrivals.push(a);
        counts.set(a.key, (counts.get(a.key) ?? 0) + 1);
      }
    });
  });
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    arrivals,
    counts,
    setMode: (mode, share = 1) => send({ op: 'mode', mode, share }),
    setDelay: (ms) => send({ op: 'delay', ms }),
    waitFor: (count, timeoutMs) => waitForCount(counts, count, timeoutMs),
    reset() {
      epoch = performance.timeOrigin + performance.now();
      arrivals.length = 0;
      counts.clear();
      send({ op: 'reset' });
    },
    close: () =>
      new Promise<void>((resolve) => {
        worker.on('message', (report: SinkReport) => report.op === 'closed' && resolve());
        worker.once('exit', () => resolve());
        send({ op: 'close' });
      }),
  };
}
