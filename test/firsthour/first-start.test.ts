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
import { jpki, startJpki } from '../support/cli.js';
import { freePort } from '../support/system.js';
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

  /** `jpki serve` on `data` (RSA-2048, as `npm start`) until it listens; stopped at once when `stopAtOnce`. */
  async function firstServe(data: string) {
    const port = await freePort();
    const server = await startJpki(['--data', data, 'serve', '--port', String(port), '--no-demo'], /listening on/, { timeoutMs: 120_000 });
    return { server, url: `http://127.0.0.1:${port}` };
  }
  const caCount = (data: string) => (JSON.parse(jpki(['--data', data, 'ca', 'list', '--json']).stdout) as unknown[]).length;

  it('jpki serve opens its port once the bridges, the agency and Tokyo exist, then makes the other 46 prefectural CAs while serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jpki-first-start-'));
    const data = join(dir, 'data');
    const { server, url } = await firstServe(data);
    try {
      const atListen = server.output();
      expect(atListen).toMatch(/generating the key pairs of 4 CAs on \d+ cores…\n/);
      expect(atListen).toMatch(/created 4 CAs \(the JPKI bridge, the government bridge, the agency and 1 prefectural governor\) and 6 cross-certificates in \d+\.\d s; the other 46 prefectural CAs are created once the port is open/);
      expect(atListen).not.toContain('all 50 CAs are ready');
      // Tokyo's CA serves at once
      expect((await fetch(`${url}/ca/pref-13.cer`)).status).toBe(200);
      expect((await fetch(`${url}/crl/pref-13.crl`)).status).toBe(200);
      const deadline = Date.now() + 60_000;
      while (!server.output().includes('all 50 CAs are ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(server.output()).toMatch(/creating the 46 remaining prefectural CAs on \d+ cores while serving…\n/);
      expect(server.output()).toMatch(/created the 46 remaining prefectural CAs with their cross-certificates and first CRLs in \d+\.\d s: all 50 CAs are ready/);
      // every promised CA is there, with its certificate and first CRLs served, and the bridge's pair of cross-certificates
      for (const id of ['pref-01', 'pref-27', 'pref-47']) {
        expect((await fetch(`${url}/ca/${id}.cer`)).status).toBe(200);
        expect((await fetch(`${url}/crl/${id}.crl`)).status).toBe(200);
        expect((await fetch(`${url}/arl/${id}.crl`)).status).toBe(200);
      }
      expect(caCount(data)).toBe(50);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('a first start stopped before its CAs are all made is completed by the next serve (while serving) or by init (at once)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jpki-first-start-'));
    try {
      for (const next of ['serve', 'init'] as const) {
        const data = join(dir, next);
        const first = await firstServe(data);
        await first.server.stop();
        expect(first.server.child.exitCode).toBe(0);
        const made = caCount(data);
        expect(made).toBeGreaterThanOrEqual(4);
        expect(made).toBeLessThan(50);
        const missing = 50 - made;
        // ca list says what is still to come, on stderr (its output stays the CAs that exist)
        const listed = jpki(['--data', data, 'ca', 'list']);
        expect(listed.status).toBe(0);
        expect(listed.stderr).toMatch(new RegExp(`^jpki: ${missing} prefectural CAs? (are|is) still to be created \\([0-9, ]+\\): \`jpki serve\` creates them while it serves, \`jpki init\` at once\n$`));
        if (next === 'init') {
          const r = jpki(['--data', data, 'init'], { timeoutMs: 120_000 });
          expect(r.status).toBe(0);
          expect(r.stdout).toContain(`already initialised on `);
          expect(r.stdout).toMatch(new RegExp(`created the ${missing} remaining prefectural CAs with their cross-certificates and first CRLs in \\d+\\.\\d s: all 50 CAs are ready`));
        } else {
          const again = await firstServe(data);
          try {
            const deadline = Date.now() + 60_000;
            while (!again.server.output().includes('all 50 CAs are ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
            expect(again.server.output()).not.toContain('initialising');
            expect(again.server.output()).toContain(`creating the ${missing} remaining prefectural CAs`);
            expect(again.server.output()).toContain('all 50 CAs are ready');
          } finally {
            await again.server.stop();
          }
        }
        expect(caCount(data)).toBe(50);
        expect(jpki(['--data', data, 'ca', 'list']).stderr).toBe('');
        // a second init finds nothing to do
        expect(jpki(['--data', data, 'init']).stdout).toMatch(/already initialised on .*: 50 CAs, 98 cross-certificates; nothing changed/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
