import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ArrivalLog, type Sink } from './sink.ts';
import type { SinkCommand, SinkReport } from './sink.main.ts';

const SINK_MAIN = fileURLToPath(new URL('./sink.main.ts', import.meta.url));

/**
 * The same SMTP sink, in a process of its own. A real SMTP server is another machine: it keeps
 * answering while the sender is busy or blocked (SQLite's fsync is synchronous), and its CPU is not
 * the sender's. In the benchmark's process it would stall with an in-process sender and its CPU
 * would be counted as the sender's. Arrival times are stamped in the sink's process on the wall
 * clock (`now()` in stats.ts), comparable with the senders' and the load generator's.
 */
export async function startSinkProcess(): Promise<Sink> {
  const child = fork(SINK_MAIN, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const log = new ArrivalLog();
  let epoch = 0;
  const send = (command: SinkCommand) => child.send(command);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the SMTP sink exited with ${code}`)));
    child.on('message', (report: SinkReport) => {
      if (report.op === 'ready') resolve(report.port);
      if (report.op !== 'arrived') return;
      for (const a of report.arrivals) {
        if (a.at < epoch) continue; // sent before the last reset, reported after it
        log.add(a);
      }
    });
  });
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    arrivals: log.arrivals,
    counts: log.counts,
    deliveries: log.deliveries,
    pid: child.pid,
    setMode: (mode, share = 1) => send({ op: 'mode', mode, share }),
    setDelay: (ms) => send({ op: 'delay', ms }),
    waitFor: (count, timeoutMs) => log.waitFor(count, timeoutMs),
    reset() {
      epoch = performance.timeOrigin + performance.now();
      log.clear();
      send({ op: 'reset' });
    },
    close: () =>
      new Promise<void>((resolve) => {
        child.removeAllListeners('exit');
        child.on('message', (report: SinkReport) => report.op === 'closed' && (child.kill(), resolve()));
        child.once('exit', () => resolve());
        send({ op: 'close' });
      }),
  };
}
