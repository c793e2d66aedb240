import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DirectoryFile, parseDirectoryFile } from '../../src/directory/directory.schema.ts';

interface Def {
  type: string;
  shape?: Record<string, unknown>;
  element?: unknown;
  options?: unknown[];
  innerType?: unknown;
  in?: unknown;
  valueType?: unknown;
}
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

/** Every field path the schema accepts, e.g. `authorities[].teams[].channels[].secret`, found by walking it. */
function schemaFields(schema: unknown, path = '', out = new Set<string>()): Set<string> {
  const def = defOf(schema);
  const at = (name: string) => (path ? `${path}.${name}` : name);
  switch (def.type) {
    case 'object':
      for (const [name, field] of Object.entries(def.shape ?? {})) {
        out.add(at(name));
        schemaFields(field, at(name), out);
      }
      break;
    case 'record':
      out.add(at('<day>'));
      schemaFields(def.valueType, at('<day>'), out);
      break;
    case 'array':
      schemaFields(def.element, `${path}[]`, out);
      break;
    case 'union':
      for (const option of def.options ?? []) schemaFields(option, path, out);
      break;
    case 'optional':
    case 'default':
    case 'nullable':
      schemaFields(def.innerType, path, out);
      break;
    case 'pipe':
      schemaFields(def.in, path, out);
      break;
  }
  return out;
}

const doc = readFileSync(new URL('../../docs/directory.md', import.meta.url), 'utf8');

/** The field paths in the first column of docs/directory.md's table. */
function documentedFields(): Set<string> {
  return new Set(
    doc
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => /^\| `([^`]+)`/.exec(line)?.[1] as string),
  );
}

describe('docs/directory.md, the directory file field by field', () => {
  it('has a row for every field the directory schema accepts, and none it refuses', () => {
    const accepted = schemaFields(DirectoryFile);
    const documented = documentedFields();
    assert.ok(accepted.has('authorities[].teams[].channels[].secret'), 'the walk reached the channels');
    assert.ok(accepted.size > 25, `the walk found ${accepted.size} fields`);
    assert.deepEqual([...accepted].filter((f) => !documented.has(f)).sort(), [], 'fields without a row');
    assert.deepEqual([...documented].filter((f) => !accepted.has(f)).sort(), [], 'rows for no field');
  });

  it('flags emailDetail "full" as an information-governance decision', () => {
    const row = doc.split('\n').find((line) => line.startsWith('| `authorities[].teams[].emailDetail`'));
    assert.match(row ?? '', /information-governance decision/);
  });

  it('shows the demo directory, which the doc cites as the complete example, is valid', () => {
    const demo = JSON.parse(
      readFileSync(new URL('../../src/directory/demo-directory.json', import.meta.url), 'utf8'),
    ) as unknown;
    const parsed = parseDirectoryFile(demo);
    assert.equal(parsed.ok, true, JSON.stringify(parsed.ok ? '' : parsed.errors.slice(0, 3)));
  });
});
