import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EXTENSION, OUTBOUND_EXTENSION } from '../../src/fhir/fhir.codes.ts';
import { BUSINESS_STATUSES } from '../../src/fhir/task.ts';

const api = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
const fhirSection = api.slice(api.indexOf('## FHIR R4'), api.indexOf('## Health'));

describe('docs/api.md, FHIR', () => {
  it('names every Relay extension the mappings read and write, and no other', () => {
    const documented = new Set(
      [...fhirSection.matchAll(/StructureDefinition\/([a-z-]+)`/g)].map((m) => m[1]),
    );
    const urls = [...Object.values(EXTENSION), ...Object.values(OUTBOUND_EXTENSION)];
    const read = new Set(urls.map((url) => url.split('/').at(-1)));
    assert.deepEqual([...documented].sort(), [...read].sort());
  });

  it('lists every Task business status with the words the Task carries', () => {
    const rows = [...fhirSection.matchAll(/^\| `([a-z-]+)` \| [^|]+ \| (.+?)(?: \(.*\))? \|$/gm)].map((m) => [
      m[1],
      m[2],
    ]);
    assert.deepEqual(rows, Object.entries(BUSINESS_STATUSES));
  });

  it('links the example bundle, which exists (test/fhir/ raises it)', () => {
    assert.ok(fhirSection.includes('(examples/referral-bundle.json)'));
    assert.ok(existsSync(new URL('../../docs/examples/referral-bundle.json', import.meta.url)));
  });
});
