import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { errorCatalogue } from '../src/errors.ts';

describe('the error catalogue', () => {
  const doc = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');
  const documented = [...doc.matchAll(/^\| `([a-z-]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);

  it('documents every code in docs/api.md with its status', () => {
    for (const [code, entry] of Object.entries(errorCatalogue)) {
      assert.ok(
        documented.some(([c, s]) => c === code && s === entry.status),
        `${code} (${entry.status}) is not in docs/api.md`,
      );
    }
  });

  it('documents nothing that the catalogue does not have', () => {
    for (const [code] of documented)
      assert.ok(code && code in errorCatalogue, `${code} is documented but not in src/errors.ts`);
  });
});
