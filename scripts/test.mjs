#!/usr/bin/env node
// Node 20's test runner does not expand globs, so this finds the test files itself.
// Usage: npm test [-- path-fragment ...] runs only the files whose path contains a fragment.
// RELAY_FAKE_NOW=2026-12-06T03:09:00Z npm test runs the suite with the wall clock of the test
// processes, and of the relay processes they start, beginning at that instant (test/helpers/fake-clock.mjs).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { compiledIsCurrent } from '../bin/compiled.js';

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findTests(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

/**
 * How long a file is likely to take, roughly: a real browser, then a cluster of relay processes or
 * one relay process, then the rest. The runner starts files in the order given, two at a time, so
 * the long ones go first and the short ones fill the gaps, rather than one long file ending the run
 * alone (measured on a quiet machine: about 880 s of files in 580 s of wall time before).
 */
function weight(file) {
  const text = readFileSync(file, 'utf8');
  if (/helpers\/browser|demo-browser/.test(text)) return 3;
  if (file.includes('/cluster/') || file.includes('/e2e/')) return 2;
  return /helpers\/process|bin\/relay/.test(text) ? 1 : 0;
}

const filters = process.argv.slice(2);
const files = findTests('test')
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .map((file) => ({ file, weight: weight(file) }))
  .sort((a, b) => b.weight - a.weight || a.file.localeCompare(b.file))
  .map((f) => f.file);
if (files.length === 0) {
  console.error('No test files matched.');
  process.exit(1);
}
/**
 * Files that start `relay` processes run them from dist/, built here once per run (without the type
 * check, which CI runs on its own), so no child compiles TypeScript. Skipped when dist/ is current.
 */
function buildForChildren() {
  const spawnsRelay = files.some((f) =>
    /helpers\/process|bin\/relay|demo-browser/.test(readFileSync(f, 'utf8')),
  );
  if (!spawnsRelay || compiledIsCurrent()) return;
  const built = spawnSync(process.execPath, ['scripts/build.mjs', '--no-check'], { stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
buildForChildren();

/** With RELAY_FAKE_NOW set, every process of the run loads the fake clock and shares one timeline. */
function clockEnv() {
  const fake = process.env.RELAY_FAKE_NOW;
  if (!fake) return process.env;
  const at = fake.split('@')[0];
  if (Number.isNaN(Date.parse(at))) {
    console.error(`RELAY_FAKE_NOW must be an ISO instant such as 2026-12-06T03:09:00Z, not ${fake}`);
    process.exit(1);
  }
  const preload = new URL('../test/helpers/fake-clock.mjs', import.meta.url).href;
  const options = [process.env.NODE_OPTIONS, `--import=${preload}`].filter(Boolean).join(' ');
  console.log(`# wall clock faked from ${at}`);
  return { ...process.env, RELAY_FAKE_NOW: `${at}@${Date.now()}`, NODE_OPTIONS: options };
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files],
  { stdio: 'inherit', env: clockEnv() },
);
process.exit(result.status ?? 1);
