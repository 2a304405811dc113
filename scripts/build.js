#!/usr/bin/env node
// Builds the `jpki` command into dist/ (npm's `prepare` runs it, so `npm ci` leaves a fast CLI behind; see
// bin/jpki.js for how a stale build is never used). One ESM bundle per entry point with code splitting: each
// command's heavy modules sit in their own chunks and load only when that command runs. The dependencies are
// bundled too (fastify and its ~150 CommonJS files cost `jpki serve` 0.3 s of CPU to resolve, read and compile
// one by one), but for the packages that must stay files of their own in node_modules (NOT_BUNDLED).
import { build } from 'esbuild';
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const out = join(root, 'dist');
const tmp = join(root, `dist.tmp-${process.pid}`);

/**
 * Native addons (they load a .node file next to their own sources), esbuild (it runs its own binary), and pino
 * (fastify's logger: it finds its worker files by its own __dirname). Each is require()d from node_modules.
 */
const NOT_BUNDLED = new Set(['better-sqlite3', 'pkcs11js', 'pcsclite', 'esbuild', 'pino', 'pg-native']);
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
  // A CommonJS package bundled into ESM calls require() for node's own modules and for the packages left out:
  // every chunk gets a require of its own, resolving from dist/ as a file of the project would.
  banner: { js: "import { createRequire as __jpkiCreateRequire } from 'node:module'; const require = __jpkiCreateRequire(import.meta.url);" },
  plugins: [
    {
      name: 'packages-not-bundled',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (a) => {
          const name = a.path.startsWith('@') ? a.path.split('/').slice(0, 2).join('/') : a.path.split('/')[0];
          return NOT_BUNDLED.has(name) && a.kind !== 'entry-point' ? { path: a.path, external: true } : undefined;
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
// Which packages each output file carries (for the start-up tests: a command must not load the chunks of the
// server, the card or the certificate libraries it does not use); not read when jpki runs.
const packagesOf = {};
for (const [file, o] of Object.entries(result.metafile.outputs)) {
  if (!file.endsWith('.js')) continue;
  // zod's parts are named apart: every command checks config.json with zod/mini (and its core), only the
  // server's routes and the CLI's input checks use the whole of zod (`zod/classic`)
  const names = new Set(Object.keys(o.inputs).flatMap((i) => /node_modules\/zod\/v4\/(core|mini|classic)\//.exec(i)?.[1]?.replace(/^/, 'zod/') ?? /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(i)?.[1] ?? []));
  if (names.size) packagesOf[relative(tmp, join(root, file))] = [...names].sort();
}
writeFileSync(join(tmp, 'packages.json'), `${JSON.stringify(packagesOf, null, 1)}\n`);
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
