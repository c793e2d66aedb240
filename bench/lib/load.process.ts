import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadResult } from './load.ts';
import type { LoadJob } from './load.main.ts';

const LOAD_MAIN = fileURLToPath(new URL('./load.main.ts', import.meta.url));

/** Runs one load job in a fresh process of its own (load.main.ts) and returns what its clients saw. */
export function loadFromProcess(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(LOAD_MAIN, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: LoadResult | undefined;
    child.once('message', (m) => (result = m as LoadResult));
    child.once('error', reject);
    child.once('exit', (code) =>
      result ? resolve(result) : reject(new Error(`the load generator exited with ${code} and no result`)),
    );
    child.send(job);
  });
}
