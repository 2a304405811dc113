#!/usr/bin/env node
// Builds the `jpki` command into dist/ (npm's `prepare` runs it, so `npm ci` leaves a fast CLI behind; see
// bin/jpki.js for how a stale build is never used). One ESM bundle per entry point with code splitting: each
// command's heavy modules sit in their own chunks and load only when that command runs. Dependencies stay
// in node_modules, native addons included — except zod, bundled so that its unused parts are dropped: the
// configuration every command reads is checked with zod/mini, which then costs ~5 ms instead of ~70.
import { build } from 'esbuild';
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const out = join(root, 'dist');
const tmp = join(root, `dist.tmp-${process.pid}`);

const BUNDLED = new Set(['zod']);
const started = Date.now();
rmSync(tmp, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outdir: tmp,
  outbase: 'src',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Every package stays in node_modules (a CommonJS one bundled into ESM fails at its first require()), also
  // one the sources import without listing it: only BUNDLED are bundled.
  plugins: [
    {
      name: 'packages-external',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (a) => {
          const name = a.path.startsWith('@') ? a.path.split('/').slice(0, 2).join('/') : a.path.split('/')[0];
          return BUNDLED.has(name) || a.kind === 'entry-point' ? undefined : { path: a.path, external: true };
        });
      },
    },
    {
      // zod re-exports every locale as a namespace (`z.locales`), which no code here uses (English, its
      // default, is imported on its own): without this the 60 locales, 0.6 MB, sit in the chunk every
      // command loads to read config.json.
      name: 'zod-locales-unused',
      setup(b) {
        b.onResolve({ filter: /\/locales\/index\.js$/ }, (a) => (/[\\/]node_modules[\\/]zod[\\/]/.test(a.importer) ? { path: 'zod-locales', namespace: 'jpki-empty' } : undefined));
        b.onLoad({ filter: /.*/, namespace: 'jpki-empty' }, () => ({ contents: 'export {};', loader: 'js' }));
      },
    },
  ],
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  // decorators of the ASN.1 schema classes (asn1-schema) as tsc compiles them (tsconfig experimentalDecorators)
  tsconfig: 'tsconfig.json',
});
// The sources this build was made from, with their size and time: bin/jpki.js runs the build only while
// every one of them is unchanged, else the TypeScript itself.
const inputs = {};
for (const file of Object.keys(result.metafile.inputs)) {
  if (file.startsWith('node_modules/') || file.includes('/node_modules/') || file.startsWith('jpki-empty:')) continue;
  const s = statSync(join(root, file));
  inputs[file] = [s.size, s.mtimeMs];
}
writeFileSync(join(tmp, 'build.json'), `${JSON.stringify({ builtAt: new Date().toISOString(), inputs })}\n`);
// Swap the new build in whole: a running jpki keeps the files it opened; a starting one sees old or new.
const old = `${out}.old-${process.pid}`;
try {
  renameSync(out, old);
} catch (e) {
  if (e.code !== 'ENOENT') throw e;
}
renameSync(tmp, out);
rmSync(old, { recursive: true, force: true });
if (!process.argv.includes('--quiet'))
  process.stdout.write(`built ${relative(root, out)}/ from ${Object.keys(inputs).length} sources in ${Date.now() - started} ms\n`);
