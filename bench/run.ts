/**
 * `npm run bench [-- NAME…]`: runs every benchmark (or those named) and prints its figures, side by side with
 * OpenSSL where OpenSSL does the same job. Each bench/<name>.ts exports `bench()`. Results go into
 * docs/benchmarks.md by hand, with the date and the machine.
 */
import 'reflect-metadata';
import { cpus } from 'node:os';

const BENCHES: Record<string, () => Promise<{ bench: () => Promise<void> }>> = {
  issuance: () => import('./issuance.js'),
  kms: () => import('./kms.js'),
  card: () => import('./card.js'),
  crl: () => import('./crl.js'),
  'crl-pipeline': async () => ({ bench: (await import('./crl.js')).pipelineBench }),
  ocsp: () => import('./ocsp.js'),
  cli: () => import('./cli.js'),
  scale: () => import('./scale.js'),
  verify: () => import('./verify.js'),
};

// names first; options after them belong to the benchmarks (`scale --certificates 10000000`)
const args = process.argv.slice(2);
const firstOption = args.findIndex((a) => a.startsWith('--'));
const wanted = firstOption < 0 ? args : args.slice(0, firstOption);
const names = wanted.length ? wanted : Object.keys(BENCHES);
console.log(`# jpki benchmarks — ${new Date().toISOString()} — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}`);
for (const name of names) {
  const load = BENCHES[name];
  if (!load) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exitCode = 2;
    continue;
  }
  console.log(`\n## ${name}`);
  await (await load()).bench();
}
