#!/usr/bin/env node
// The `jpki` command. It runs the compiled build in dist/ (made at install by npm's `prepare` script, or by
// `npm run build`) when that build was made from the sources exactly as they are now, and the TypeScript in
// src/ through tsx otherwise: an edited source is never shadowed by an old build, only slower until the next
// build (`npm start` and `npm test` build first). dist/build.json lists the sources with size and time.
import { readFileSync, statSync } from 'node:fs';

const root = new URL('..', import.meta.url);

function buildIsCurrent() {
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(new URL('dist/build.json', root), 'utf8')).inputs;
  } catch {
    return false;
  }
  for (const [file, [size, mtimeMs]] of Object.entries(inputs)) {
    try {
      const s = statSync(new URL(file, root));
      if (s.size !== size || s.mtimeMs !== mtimeMs) return false;
    } catch {
      return false;
    }
  }
  return true;
}

if (buildIsCurrent()) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
