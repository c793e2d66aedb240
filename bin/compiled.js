// Whether dist/ (from `npm run build`) holds the current sources: shared by bin/relay.js and the
// test runner, which builds once per run so the relay processes tests start run compiled code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SRC = join(ROOT, 'src');
export const DIST = join(ROOT, 'dist');
/** Written last by scripts/build.mjs: a build that stopped half-way has no stamp, so is not current. */
export const STAMP = join(DIST, '.built');

function newestIn(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * dist/ is current when it was stamped after every file under src/ last changed. A deployment that
 * ships dist/ without src/ is current by definition.
 */
export function compiledIsCurrent() {
  if (!existsSync(STAMP)) return false;
  if (!existsSync(SRC)) return true;
  return statSync(STAMP).mtimeMs >= newestIn(SRC);
}
