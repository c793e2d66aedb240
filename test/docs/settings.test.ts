import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';

/** Every environment variable loadConfig reads, caught as it reads them (not by reading its source). */
function variablesRead(): Set<string> {
  const seen = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get(_target, name) {
      if (typeof name === 'string') seen.add(name);
      return undefined;
    },
  });
  loadConfig(env);
  return seen;
}

/** The variables named in the first column of the README's configuration table. */
function variablesDocumented(): Set<string> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Command line'));
  const names = section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...(line.split('|')[1] ?? '').matchAll(/`([A-Z_]+)`/g)].map((m) => m[1] as string));
  return new Set(names);
}

describe('the README configuration table', () => {
  it('names every setting Relay reads, and nothing it does not', () => {
    const read = variablesRead();
    const documented = variablesDocumented();
    assert.ok(read.size > 40, `loadConfig was watched reading ${read.size} variables`);
    assert.deepEqual([...read].filter((name) => !documented.has(name)).sort(), [], 'undocumented settings');
    assert.deepEqual(
      [...documented].filter((name) => !read.has(name)).sort(),
      [],
      'documented but never read',
    );
  });
});
