import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The layout's safety net, in the spirit of the route × role test: it reads every import under
 * src/ and holds it against the diagram in docs/architecture.md (its mermaid block is the one
 * place the arrows are written down). A folder may import what it can reach along the arrows;
 * nothing may import back up, and no two folders may import each other.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

/** The files directly under src/ that are layers of their own; the others are the root utilities. */
const ROOT_LAYERS = new Set(['main', 'app', 'openapi', 'context']);

/** RelayContext is the handle every function is given: anyone may import its type, nothing more. */
const CONTEXT_FILE = 'context.ts';

/**
 * Imports known to go against the arrows, each to be removed, never added to. Empty since each
 * channel's addresses moved into the directory (src/directory/targets.ts).
 */
const KNOWN_AGAINST_THE_ARROWS = new Set<string>([]);

const known = (i: Import): boolean => KNOWN_AGAINST_THE_ARROWS.has(`${i.from} → ${i.to}`);

interface Import {
  from: string;
  to: string;
  line: number;
  typeOnly: boolean;
}

/** The layer a file under src/ belongs to: its top folder, or a root layer, or `root`. */
function layerOf(path: string): string {
  const [first, ...rest] = path.split('/');
  if (rest.length > 0) return first as string;
  const name = (first as string).replace(/\.ts$/, '');
  return ROOT_LAYERS.has(name) ? name : 'root';
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Static imports and re-exports, and dynamic import() calls, that name a file of src/. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const add = (spec: ts.Expression | undefined, node: ts.Node, typeOnly: boolean): void => {
    if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) return;
    const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
    const to = relative(SRC, resolve(dirname(file), spec.text));
    found.push({ from: relative(SRC, file), to, line, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, node, node.importClause?.isTypeOnly ?? false);
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node, node.isTypeOnly);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], node, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The arrows of the first mermaid block in docs/architecture.md: `a --> b`, labels allowed. */
function arrowsOf(markdown: string): Map<string, Set<string>> {
  const block = /```mermaid\n([\s\S]*?)```/.exec(markdown)?.[1];
  assert.ok(block, 'docs/architecture.md has no mermaid diagram of the layout');
  const arrows = new Map<string, Set<string>>();
  for (const match of block.matchAll(/^\s*(\w+)(?:\[[^\]]*\])?\s*-->\s*(\w+)/gm)) {
    const [, from, to] = match as unknown as [string, string, string];
    arrows.set(from, (arrows.get(from) ?? new Set()).add(to));
    if (!arrows.has(to)) arrows.set(to, new Set());
  }
  return arrows;
}

function reachable(arrows: Map<string, Set<string>>, from: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(arrows.get(from) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop() as string;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(arrows.get(next) ?? []));
  }
  return seen;
}

/** Each import from one layer to another that no path of arrows allows, as `file:line → target`. */
function againstTheArrows(imports: Import[], arrows: Map<string, Set<string>>): string[] {
  return imports
    .filter((i) => !(i.typeOnly && i.to === CONTEXT_FILE))
    .filter((i) => {
      const from = layerOf(i.from);
      const to = layerOf(i.to);
      return from !== to && !reachable(arrows, from).has(to);
    })
    .map((i) => `src/${i.from}:${i.line} → src/${i.to} (${layerOf(i.from)} → ${layerOf(i.to)})`);
}

/** The layers that import one another, directly or round a longer loop, each loop once. */
function folderCycles(imports: Import[]): string[] {
  const graph = new Map<string, Set<string>>();
  for (const i of imports) {
    if (i.typeOnly && i.to === CONTEXT_FILE) continue;
    const from = layerOf(i.from);
    const to = layerOf(i.to);
    if (from !== to) graph.set(from, (graph.get(from) ?? new Set()).add(to));
  }
  const cycles = new Set<string>();
  for (const start of graph.keys()) {
    // A shortest way back to the start names the loop plainly (a ↔ b before a → b → c → a).
    const back = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const at = queue.shift() as string;
      for (const next of graph.get(at) ?? []) {
        if (next === start) {
          const loop = [start];
          for (let step = at; step !== start; step = back.get(step) as string) loop.splice(1, 0, step);
          const first = loop.indexOf([...loop].sort()[0] as string);
          cycles.add([...loop.slice(first), ...loop.slice(0, first), loop[first]].join(' → '));
          queue.length = 0;
          break;
        }
        if (!back.has(next)) {
          back.set(next, at);
          queue.push(next);
        }
      }
    }
  }
  return [...cycles].sort();
}

const allImports = sourceFiles(SRC).flatMap(importsOf);
const imports = allImports.filter((i) => !known(i));
const arrows = arrowsOf(readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8'));

describe('the layout of src/ against the diagram in docs/architecture.md', () => {
  it('draws every folder of src/ (a new folder goes into the diagram with its arrows)', () => {
    const layers = new Set(sourceFiles(SRC).map((f) => layerOf(relative(SRC, f))));
    const missing = [...layers].filter((layer) => !arrows.has(layer)).sort();
    assert.deepEqual(missing, [], `not in the diagram: ${missing.join(', ')}`);
  });

  it('draws arrows that never lead back to where they started', () => {
    const loops = [...arrows.keys()].filter((layer) => reachable(arrows, layer).has(layer));
    assert.deepEqual(loops, []);
  });

  it('has every import follow the arrows (only the type of RelayContext is open to all)', () => {
    assert.ok(imports.length > 500, `read only ${imports.length} imports`);
    const wrong = againstTheArrows(imports, arrows);
    assert.deepEqual(wrong, [], `imports against the arrows:\n${wrong.join('\n')}`);
  });

  it('still has each import it knows to go against the arrows (one fixed leaves the list)', () => {
    const present = new Set(allImports.filter(known).map((i) => `${i.from} → ${i.to}`));
    assert.deepEqual(
      [...KNOWN_AGAINST_THE_ARROWS].filter((k) => !present.has(k)),
      [],
    );
  });

  it('has no two folders importing each other, directly or round a loop', () => {
    assert.deepEqual(folderCycles(imports), []);
  });

  it('would catch a storage file importing a page, and two workflows importing each other', () => {
    const bad: Import[] = [
      { from: 'db/schema.ts', to: 'web/auth/guards.ts', line: 1, typeOnly: true },
      { from: 'referrals/a.ts', to: 'assurance/b.ts', line: 2, typeOnly: false },
      { from: 'assurance/b.ts', to: 'referrals/a.ts', line: 3, typeOnly: false },
    ];
    assert.deepEqual(againstTheArrows(bad, arrows), [
      'src/db/schema.ts:1 → src/web/auth/guards.ts (db → web)',
      'src/referrals/a.ts:2 → src/assurance/b.ts (referrals → assurance)',
    ]);
    assert.deepEqual(folderCycles(bad), ['assurance → referrals → assurance']);
  });
});
