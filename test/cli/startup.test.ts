/**
 * Issue 11, trap 12: every `jpki` command took about 1 s because the TypeScript was transpiled on each run
 * and every command's modules were loaded for any command. Now the CLI runs the build made at install
 * (scripts/build.js, npm's `prepare`) and loads a command's modules only when it runs. Which modules a
 * command loads is behaviour, so it is tested here; how fast that is, is measured by `npm run bench -- cli`.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JPKI_BIN, jpki } from '../support/cli.js';

const TRACE = join(import.meta.dirname, 'support', 'load-trace.mjs');
let dir: string;

/** The modules (file URLs) `jpki ARGS` loads. */
function loads(args: string[]): string[] {
  const file = join(dir, `trace-${args.filter((a) => !a.includes('/')).join('-')}.txt`);
  const r = spawnSync(process.execPath, ['--import', TRACE, JPKI_BIN, ...args], { encoding: 'utf8', env: { ...process.env, JPKI_LOAD_TRACE: file } });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return readFileSync(file, 'utf8').trim().split('\n');
}
/**
 * The packages behind the loaded files: a package left in node_modules is one of its files; a bundled one is in
 * the chunks of dist/ that carry it (dist/packages.json, written by the build from esbuild's metafile).
 */
function packagesOf(urls: string[]): string[] {
  const inChunks = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'dist', 'packages.json'), 'utf8')) as Record<string, string[]>;
  const names = urls.flatMap((u) => {
    const file = /\/dist\/(.+\.js)$/.exec(u)?.[1];
    if (file) return inChunks[file] ?? [];
    return /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1] ?? [];
  });
  return [...new Set(names)].sort();
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'jpki-startup-'));
  expect(jpki(['--data', join(dir, 'data'), 'init', '--key-algorithm', 'p256'], { timeoutMs: 300_000 }).status).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// zod/classic: the whole of zod (config.json is checked with zod/mini, which is light)
const HEAVY = ['fastify', '@peculiar/x509', 'pkijs', 'asn1js', 'pcsclite', 'pkcs11js', 'pg', 'tsx', 'zod/classic', 'playwright-core', 'esbuild'];

describe('the jpki command starts fast', () => {
  it('runs the compiled build, not the TypeScript through tsx', () => {
    const urls = loads(['--help']);
    expect(urls.some((u) => u.endsWith('/dist/cli/main.js'))).toBe(true);
    expect(urls.filter((u) => u.includes('/src/') || u.includes('/tsx/'))).toEqual([]);
  });

  it('`jpki --help` loads commander and no command', () => {
    const urls = loads(['--help']);
    expect(packagesOf(urls)).toEqual(['commander']);
    expect(urls.filter((u) => /\/dist\/chunks\/(ca|card|serve|counter|client|register)-/.test(u))).toEqual([]);
  });

  it('`jpki ca list` loads the store, not the server, the card, the counter or the certificate libraries', () => {
    const pkgs = packagesOf(loads(['--data', join(dir, 'data'), 'ca', 'list']));
    expect(pkgs).toContain('better-sqlite3');
    for (const heavy of HEAVY) expect(pkgs, heavy).not.toContain(heavy);
  });

  it('the help lists every command with its summary although none is loaded', () => {
    const help = jpki(['--help']).stdout;
    for (const name of ['init', 'ca', 'audit', 'ocsp', 'serve', 'card', 'register', 'operator', 'counter', 'client']) expect(help).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
  });
});
