import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { compiledIsCurrent } from '../../bin/compiled.js';
import { productionEnv, relayEnv, ROOT, runRelay, startRelay } from '../helpers/process.ts';

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

describe('a deployment: dist/ with production dependencies only (npm ci --omit=dev)', () => {
  const tree = mkdtempSync(join(tmpdir(), 'relay-deployed-'));
  after(() => rmSync(tree, { recursive: true, force: true }));

  /**
   * What `npm ci --omit=dev` would install, without the network: the packages npm lists as the
   * production tree, linked into a copy of bin/, dist/ and package.json that has no src/. Only
   * Relay's own imports are resolved from this tree, so one that needs a development dependency
   * (tsx, typescript) fails here as it would on the server.
   */
  function deploy(): void {
    for (const part of ['bin', 'dist', 'package.json'])
      cpSync(join(ROOT, part), join(tree, part), { recursive: true });
    const listed = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const topLevel = listed.stdout
      .split('\n')
      .map((path) => relative(join(ROOT, 'node_modules'), path))
      .filter((name) => /^(@[^/]+\/)?[^/@.][^/]*$/.test(name));
    assert.ok(topLevel.includes('fastify') && !topLevel.includes('tsx'), listed.stderr);
    for (const name of topLevel) {
      mkdirSync(dirname(join(tree, 'node_modules', name)), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', name), join(tree, 'node_modules', name));
    }
  }

  it('runs --help, migrate and a production node with no TypeScript compiler installed', async () => {
    deploy();
    const env = relayEnv({ DATABASE_URL: `sqlite:${join(tree, 'relay.db')}` });
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['bin/relay.js', ...args], { cwd: tree, env, encoding: 'utf8' });
    const help = run(['--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /Usage: relay/);
    const migrated = run(['migrate']);
    assert.equal(migrated.status, 0, migrated.stderr);
    assert.match(migrated.stdout, /^Applied: /);

    // A production start loads every module a node runs (the web app, dispatcher, watchdog, threads).
    const production = await productionEnv();
    const node = startRelay({ DATABASE_URL: `sqlite:${join(tree, 'relay.db')}`, ...production }, [], {
      root: tree,
    });
    try {
      await node.waitForOutput(/is running/);
      const ready = await fetch(`http://127.0.0.1:${production.PORT}/readyz`);
      assert.equal(ready.status, 200, await ready.text());
    } finally {
      node.child.kill('SIGTERM');
    }
    assert.equal(await node.exited, 0, node.output());
  });
});
