import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compiledIsCurrent } from '../../bin/compiled.js';
import { runRelay } from '../helpers/process.ts';

describe('relay runs compiled JavaScript', () => {
  it('the test run built dist/ from the current sources, so every relay process here runs it', () => {
    assert.ok(compiledIsCurrent(), 'npm test builds dist/ before files that start relay processes');
  });

  it('starts a command quickly (measured, not asserted: the machine may be loaded)', (t) => {
    for (const args of [['--help'], ['migrate', '--help']]) {
      const at = Date.now();
      const result = runRelay(args, { DATABASE_URL: 'sqlite::memory:' });
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /Usage: relay/);
      t.diagnostic(`relay ${args.join(' ')}: ${Date.now() - at} ms`);
    }
  });
});
