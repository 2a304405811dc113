import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { needs, commandExists, POSTGRES_URL, SOFTHSM_MODULE } from '../support/system.js';
import { dropSchemaOf, freshStoreUrl, postgresAvailable } from '../support/stores.js';
import { softHsmAvailable } from '../support/softhsm.js';
import { acquirePcscdLock, ensurePcscd, middlewareAvailable } from '../card/support/pcscd.js';
import { splitComment } from './readme-script.js';
import { describeFailure, freePort, freshWorkDir, readmeBlocks, removeDir, ROOT, runBlocks } from './run-readme.js';

/**
 * The README, run as printed (issue 11): every ```sh block of README.md, in order, in one bash session, in a
 * fresh working directory with no data directory yet. The convention (what is run, promised exit statuses,
 * background servers, what the test substitutes) is at the top of the README's "Using it" section and in
 * readme-script.ts. The system parts the README asks for are real: PostgreSQL, SoftHSM2, pcscd + vpcd.
 */
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const blocks = readmeBlocks();
const runnable = blocks.filter((b) => b.run).map((b) => b.lines.join('\n')).join('\n');

describe('README.md', () => {
  it('has runnable examples and no placeholders in them', () => {
    expect(blocks.filter((b) => b.run).length).toBeGreaterThan(5);
    // real values, not "…" or [optional] brackets
    for (const b of blocks.filter((x) => x.run))
      b.lines.forEach((line, i) => {
        const { code } = splitComment(line);
        expect(code, `README.md:${b.firstLine + i}`).not.toMatch(/…|\.\.\.|\bID\b|\bHEX\b/);
        expect(code, `README.md:${b.firstLine + i}`).not.toMatch(/ \[--/);
      });
  });

  it('links only to files the project has', () => {
    for (const [, target] of readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      expect(() => readFileSync(join(ROOT, target!)), `README.md links to ${target}`).not.toThrow();
    }
    for (const [, path] of readme.matchAll(/`(\.\.\/[^`]+)`/g)) expect.fail(`README.md names ${path}, outside the repository`);
  });

  it('every shell example runs as printed, in order, in a fresh directory', { timeout: 20 * 60_000 }, async () => {
    const usesPostgres = runnable.includes(POSTGRES_URL);
    const usesSoftHsm = runnable.includes(SOFTHSM_MODULE);
    const usesCard = /jpki card serve/.test(runnable);
    if (usesPostgres && !needs('PostgreSQL on 127.0.0.1:5432', await postgresAvailable())) return;
    if (usesSoftHsm && !needs('SoftHSM2', softHsmAvailable())) return;
    if (usesCard && !needs('pcscd + vpcd + OpenSC + openssl', middlewareAvailable())) return;
    if (!needs('openssl and curl', commandExists('openssl') && commandExists('curl'))) return;

    const dir = freshWorkDir();
    // SoftHSM2 keeps its tokens where SOFTHSM2_CONF says: an empty token directory of this run only.
    const tokens = join(dir, '.readme-logs', 'softhsm-tokens');
    mkdirSync(tokens);
    const softhsmConf = join(dir, '.readme-logs', 'softhsm2.conf');
    writeFileSync(softhsmConf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
    const port = await freePort();
    const database = freshStoreUrl('postgres');
    let releasePcscd: (() => Promise<void>) | undefined;
    try {
      if (usesCard) {
        await ensurePcscd();
        releasePcscd = await acquirePcscdLock();
      }
      const run = await runBlocks(blocks, dir, {
        // 8080 first: the schema name of the database URL is random hex and must not be touched
        substitutions: [
          ['8080', String(port)],
          [POSTGRES_URL, database],
        ],
        // the default public URL (http://127.0.0.1:8080, written into certificates by init and ca issue) is the
        // README's 8080 too: relying parties (jpki verify, the agency) fetch OCSP and CRLs from it
        env: { SOFTHSM2_CONF: softhsmConf, PORT: String(port), JPKI_PUBLIC_URL: `http://127.0.0.1:${port}` },
      });
      if (run.status !== 0) expect.fail(describeFailure(run, readme));
      expect(run.commands).toBeGreaterThan(20);
    } finally {
      await releasePcscd?.();
      if (usesPostgres) await dropSchemaOf(database).catch(() => undefined);
      removeDir(dir);
    }
  });
});
