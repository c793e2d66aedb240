#!/usr/bin/env node
// Runs the compiled JavaScript in dist/ when `npm run build` made it from the current sources: no
// TypeScript compiler at run time, and each command starts in a fraction of a second. Otherwise,
// outside production, it runs the TypeScript sources through tsx, so `npm start` needs no build.
import { compiledIsCurrent } from './compiled.js';

if (compiledIsCurrent()) {
  await import('../dist/main.js');
} else if (process.env.RELAY_ENV === 'production') {
  process.stderr.write(
    'relay: dist/ is missing or older than src/: run `npm run build` (production runs compiled JavaScript only)\n',
  );
  process.exit(1);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
