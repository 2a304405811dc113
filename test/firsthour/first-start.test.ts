/**
 * Issue 11, trap 13: the first start generated the 50 CA key pairs one after another while the main thread sat
 * idle. Now every key pair is asked for at once, so the key store spreads them over the cores (the libuv
 * pool, or the token's sessions), and the first start says what it is waiting for. The time it takes is
 * measured by `npm run bench -- cli`, not asserted here.
 */
import { describe, it, expect } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyPairsAheadOfFirstStart } from '../../src/cli/commands/init.js';
import { jpki } from '../support/cli.js';
import { createTestInstallation } from '../support/installation.js';

describe('the first start', () => {
  it('asks the key store for the CA key pairs concurrently, not one after another, and reports progress up to 50/50', async () => {
    const t = await createTestInstallation({ initialize: false });
    try {
      const keys = t.services.keys;
      const createKey = keys.createKey.bind(keys);
      let inFlight = 0;
      let most = 0;
      keys.createKey = async (...args) => {
        most = Math.max(most, ++inFlight);
        try {
          return await createKey(...args);
        } finally {
          inFlight--;
        }
      };
      const progress: string[] = [];
      const r = await t.services.ca.initialize({ keySpec: { type: 'EC', curve: 'P-256' }, actor: 'test', onProgress: (done, total) => progress.push(`${done}/${total}`) });
      expect(r.authorities).toBe(50);
      expect(most).toBe(50);
      expect(progress[0]).toBe('0/50');
      expect(progress.at(-1)).toBe('50/50');
      expect(progress).toHaveLength(51);
    } finally {
      await t.cleanup();
    }
  });

  it('jpki init says what it is waiting for, on how many cores', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jpki-first-start-'));
    try {
      const r = jpki(['--data', join(dir, 'data'), 'init', '--key-algorithm', 'p256'], { timeoutMs: 300_000 });
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^generating the key pairs of 50 CAs on \d+ cores…\n/);
      expect(r.stdout).toMatch(/created 50 CAs .* and 98 cross-certificates in \d+\.\d s/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sets the 50 key pairs going before the store opens only when the data directory holds no installation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jpki-first-start-'));
    try {
      const g = (dataDir: string, db?: string) => ({ dataDir, databaseUrl: db ?? join(dataDir, 'jpki.sqlite'), databaseUrlExplicit: db !== undefined });
      const fresh = await keyPairsAheadOfFirstStart(g(join(dir, 'new')), 'p256');
      expect(fresh?.remaining).toBe(50);
      expect(fresh?.spec).toEqual({ type: 'EC', curve: 'P-256' });
      fresh?.discard();
      mkdirSync(join(dir, 'empty'));
      expect((await keyPairsAheadOfFirstStart(g(join(dir, 'empty')), 'p256'))?.remaining).toBe(50);
      // an installation is there: its keys exist, nothing is generated
      mkdirSync(join(dir, 'installed'));
      writeFileSync(join(dir, 'installed', 'jpki.sqlite'), '');
      expect(await keyPairsAheadOfFirstStart(g(join(dir, 'installed')), 'p256')).toBeUndefined();
      // another database (it may hold an installation already) or an unknown algorithm: nothing ahead
      expect(await keyPairsAheadOfFirstStart(g(join(dir, 'pg'), 'postgres://127.0.0.1/test'), 'p256')).toBeUndefined();
      expect(await keyPairsAheadOfFirstStart(g(join(dir, 'bad')), 'rsa1024')).toBeUndefined();
      // a file where the directory should be: the command itself reports it
      writeFileSync(join(dir, 'file'), '');
      expect(await keyPairsAheadOfFirstStart(g(join(dir, 'file')), 'p256')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
