import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { FixedClock, type Clock } from '../../src/common/clock.js';
import { openServices, type Services } from '../../src/compose/services.js';
import type { InstallationConfig } from '../../src/compose/data-dir.js';
import { PREFECTURES } from '../../src/pki/prefectures.js';
import type { KeySpec } from '../../src/pki/signer.js';
import { toPem } from '../../src/pki/pem.js';
import { PostgresDatabase } from '../../src/store/postgres.js';
import { dropSchemaOf, freshStoreUrl, type StoreKind } from './stores.js';

export interface TestInstallation {
  services: Services;
  dir: string;
  /** The store's URL (a SQLite file, or PostgreSQL with its own schema), for `jpki --db`. */
  databaseUrl: string;
  clock: Clock;
  /** Writes DER as PEM into the installation's temp dir; returns the path. */
  pem(name: string, der: Uint8Array, label?: 'CERTIFICATE' | 'X509 CRL'): string;
  cleanup(): Promise<void>;
}

export interface InstallationOptions {
  storeKind?: StoreKind;
  /** P-256 by default: fast key generation for 50 CAs. The RSA default is exercised by the CLI tests. */
  keySpec?: KeySpec;
  clock?: Clock;
  /** Prefecture codes to create (default: all 47). */
  prefectures?: string[];
  config?: InstallationConfig;
  publicUrl?: string;
  initialize?: boolean;
  /** Publish every CA's first CRLs as `jpki init` does (the CRL updater's first pass). */
  publishCrls?: boolean;
}

/** A complete, initialised installation in a temp dir, built through the same composition root as the CLI. */
export async function createTestInstallation(o: InstallationOptions = {}): Promise<TestInstallation> {
  const dir = mkdtempSync(join(tmpdir(), 'jpki-test-'));
  const clock = o.clock ?? new FixedClock('2026-04-01T01:00:00Z');
  const url = freshStoreUrl(o.storeKind ?? 'sqlite', join(dir, 'jpki.sqlite'));
  const services = await openServices(
    { dataDir: dir, databaseUrl: url, databaseUrlExplicit: true },
    { config: o.config ?? { kms: { type: 'soft' } }, clock, ...(o.publicUrl ? { publicUrl: o.publicUrl } : {}) },
  );
  if (o.initialize !== false) {
    const prefectures = o.prefectures ? PREFECTURES.filter((p) => o.prefectures!.includes(p.code)) : PREFECTURES;
    await services.ca.initialize({ keySpec: o.keySpec ?? { type: 'EC', curve: 'P-256' }, prefectures, actor: 'test' });
    if (o.publishCrls) await services.crlUpdater.runOnce();
  }
  return {
    services,
    dir,
    databaseUrl: url,
    clock,
    pem(name, der, label = 'CERTIFICATE') {
      const path = join(dir, name);
      writeFileSync(path, toPem(der, label));
      return path;
    },
    async cleanup() {
      // Close first: the background jobs (ledger sweeper, audit chain writer, OCSP) must not race the DROP.
      await services.close();
      if (services.store.db instanceof PostgresDatabase) await dropSchemaOf(url);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs openssl; returns exit status and combined output (never throws). */
export function openssl(args: string[], input?: string | Buffer): { status: number; out: string } {
  const r = spawnSync('openssl', args, { input, encoding: 'utf8' });
  return { status: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** A fresh key pair and CSR made by OpenSSL, as a resident's software would. */
export function opensslCsr(dir: string, name: string, keyArgs: string[] = ['-newkey', 'rsa:2048']): { key: string; csr: string } {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  execFileSync('openssl', ['req', '-new', ...keyArgs, '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=ignored'], { stdio: 'ignore' });
  return { key, csr };
}
