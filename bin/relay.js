#!/usr/bin/env node
// Runs the compiled JavaScript in dist/ when `npm run build` made it from the current sources: no
// TypeScript compiler at run time, and each command starts in a fraction of a second. Otherwise,
// outside production, it runs the TypeScript sources through tsx (a development dependency), so
// `npm start` in a checkout needs no build.
import { compiledIsCurrent } from './compiled.js';

if (compiledIsCurrent()) {
  await import('../dist/main.js');
} else if (process.env.RELAY_ENV === 'production') {
  process.stderr.write(
    'relay: dist/ is missing or older than src/: run `npm run build` (production runs compiled JavaScript only)\n',
  );
  process.exit(1);
} else {
  const tsx = await import('tsx/esm/api').catch(() => undefined);
  if (!tsx) {
    process.stderr.write(
      'relay: dist/ is missing or older than src/, and tsx (a development dependency) is not installed: run `npm run build`, or `npm install` to run the sources\n',
    );
    process.exit(1);
  }
  tsx.register();
  await import('../src/main.ts');
}
