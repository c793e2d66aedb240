/**
 * The load generator as a process of its own (load.process.ts starts it): the clients' HTTP,
 * JSON and waiting must not share an event loop with the system under test, nor with the sink. It
 * takes one LoadJob over IPC, sends the referrals, answers with the LoadResult and exits. Times are
 * `now()` (stats.ts): wall-clock milliseconds, comparable with the sink's across processes.
 */
import { closedLoop, jsonPoster, steadyRate, type LoadResult } from './load.ts';
import { benchReferral } from './relay.ts';

export interface LoadJob {
  url: string;
  headers: Record<string, string>;
  /** Makes the referrals' source references unique to this run. */
  run: string;
  total: number;
  /** Closed loop with this many clients, or an open loop at `ratePerSecond`. */
  clients?: number;
  ratePerSecond?: number;
}

process.once('message', (job: LoadJob) => {
  const post = jsonPoster(job.url, job.headers, (i) => benchReferral(job.run, i));
  const load: Promise<LoadResult> = job.ratePerSecond
    ? steadyRate(post, job.ratePerSecond, job.total)
    : closedLoop(post, job.clients ?? 1, job.total);
  void load.then(
    (result) => process.send?.(result, () => process.exit(0)),
    (error: unknown) => {
      process.stderr.write(`load generator failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
});
