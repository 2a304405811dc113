/**
 * The `jpki` command's start-up (issue 11, traps 12 and 13). `npm run bench -- cli`.
 *  - `jpki --help` and `jpki ca list` (a P-256 installation of 50 CAs) against a bare `node -e 0`: the median
 *    wall time of whole processes, as a user's script sees it. Target: within 3 × of node.
 *  - The first start: `jpki init` (RSA-2048, the default) and `jpki serve` on an empty data directory until
 *    it listens, and until the CAs it makes while serving are all ready, beside generating the 50 RSA-2048 key
 *    pairs one after another on one thread (what the first start did before). Target: ≤ 5 s on this 2-core
 *    machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { markdownTable } from './measure.js';

const ROOT = join(import.meta.dirname, '..');
const JPKI = join(ROOT, 'bin', 'jpki.js');
const RUNS = Number(process.env.JPKI_BENCH_RUNS ?? 15);
const FIRST_STARTS = Number(process.env.JPKI_BENCH_FIRST_STARTS ?? 3);

function wall(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median over RUNS, the commands interleaved so that a burst of load on the shared machine hits them all. */
function medians(commands: Record<string, string[]>): Record<string, number> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (const args of Object.values(commands)) wall(args); // warm the file cache
  for (let i = 0; i < RUNS; i++) for (const [k, args] of Object.entries(commands)) times[k]!.push(wall(args));
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

/**
 * `jpki serve` on an empty data directory: until it listens (the bridges, the agency and Tokyo's CA made), and
 * until the other 46 prefectural CAs it makes while serving are ready; `demo`: with the demo register, as
 * `npm start`.
 */
function serveFirstStart(data: string, demo = false): Promise<{ listening: number; complete: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [JPKI, '--data', data, 'serve', '--port', '0', ...(demo ? [] : ['--no-demo'])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let listening: number | undefined;
    let done = false;
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (listening === undefined && /listening on/.test(out)) listening = performance.now() - t0;
      if (!done && /all 50 CAs are ready/.test(out)) {
        done = true;
        const complete = performance.now() - t0;
        child.once('exit', () => resolve({ listening: listening!, complete }));
        child.kill('SIGTERM');
      }
    });
    child.once('exit', (code) => done || reject(new Error(`serve exited with ${code}: ${out}`)));
  });
}

export async function bench(): Promise<void> {
  spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.js'), '--quiet'], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'jpki-bench-cli-'));
  try {
    const data = join(dir, 'data');
    wall([JPKI, '--data', data, 'init', '--key-algorithm', 'p256']);
    const m = medians({ node: ['-e', '0'], help: [JPKI, '--help'], list: [JPKI, '--data', data, 'ca', 'list'] });
    console.log(`\nstart-up, median of ${RUNS} whole processes (target: within 3 × of node -e 0)\n`);
    markdownTable([
      ['command', 'wall time', 'vs node -e 0'],
      ['`node -e 0`', `${m.node!.toFixed(0)} ms`, '1.00 ×'],
      ['`jpki --help`', `${m.help!.toFixed(0)} ms`, `${(m.help! / m.node!).toFixed(2)} ×`],
      ['`jpki ca list` (50 CAs)', `${m.list!.toFixed(0)} ms`, `${(m.list! / m.node!).toFixed(2)} ×`],
    ]);

    const inits: number[] = [];
    const serves: { listening: number; complete: number }[] = [];
    const demos: { listening: number; complete: number }[] = [];
    for (let i = 0; i < FIRST_STARTS; i++) {
      inits.push(wall([JPKI, '--data', join(dir, `init-${i}`), 'init']));
      serves.push(await serveFirstStart(join(dir, `serve-${i}`)));
      demos.push(await serveFirstStart(join(dir, `demo-${i}`), true));
    }
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) generateKeyPairSync('rsa', { modulusLength: 2048 });
    const sequential = performance.now() - t0;
    const s = (xs: number[]) => `${(Math.min(...xs) / 1000).toFixed(1)}–${(Math.max(...xs) / 1000).toFixed(1)} s`;
    console.log(`\nfirst start, RSA-2048, ${FIRST_STARTS} runs each on ${availableParallelism()} cores (target ≤ 5 s)\n`);
    markdownTable([
      ['what', 'wall time'],
      ['50 RSA-2048 key pairs one after another, one thread (the old way)', `${(sequential / 1000).toFixed(1)} s`],
      ['`jpki init` (keys in parallel, 148 certificates, first CRLs, audit checkpoint)', s(inits)],
      ['`jpki serve` on an empty data directory, until it listens (4 CAs made)', s(serves.map((x) => x.listening))],
      ['the same with the demo register and counter (`npm start`)', s(demos.map((x) => x.listening))],
      ['`jpki serve`: until the other 46 CAs, made while serving, are ready', s(serves.map((x) => x.complete))],
      ['the same with the demo (`npm start`)', s(demos.map((x) => x.complete))],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
