#!/usr/bin/env node
// `npm run build`: compiles src/ to dist/ (type-checked), copies the files that are not TypeScript
// (page templates, assets, the demo directory, the password list) beside them, and stamps dist/ so
// bin/relay.js knows it is current. `--no-check` skips the type check (the test runner's build:
// CI type-checks separately).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DIST, ROOT, SRC, STAMP } from '../bin/compiled.js';

const check = !process.argv.includes('--no-check');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync(DIST, { recursive: true, force: true });
const compiled = spawnSync(
  process.execPath,
  [tsc, '-p', 'tsconfig.build.json', ...(check ? [] : ['--noCheck'])],
  { cwd: ROOT, stdio: 'inherit' },
);
if (compiled.status !== 0) process.exit(compiled.status ?? 1);
mkdirSync(DIST, { recursive: true });
cpSync(SRC, DIST, { recursive: true, filter: (path) => !path.endsWith('.ts') });
writeFileSync(STAMP, `${new Date().toISOString()}\n`);
console.log(`Built dist/${check ? '' : ' (not type-checked)'}.`);
