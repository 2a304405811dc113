import { describe, it, expect, afterAll } from 'vitest';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupInstallation, restoreInstallation } from '../../src/compose/backup.js';
import { openServices } from '../../src/compose/services.js';
import type { Database } from '../../src/store/index.js';
import { SqliteDatabase } from '../../src/store/sqlite.js';
import { PostgresDatabase } from '../../src/store/postgres.js';
import type { JpkiError } from '../../src/common/errors.js';
import { createTestInstallation, type TestInstallation } from '../support/installation.js';
import { availableStoreKinds, dropSchemaOf, freshStoreUrl, type StoreKind } from '../support/stores.js';

const kinds = await availableStoreKinds();
const SPKI = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });

/** Every row of every table, as sorted JSON text (bytes as base64): what "the same database" means here. */
async function contents(store: { sql: Pick<Database, 'query' | 'dialect'> }): Promise<Record<string, string[]>> {
  const names =
    store.sql.dialect === 'sqlite'
      ? (await store.sql.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")).map((r) => r.name)
      : (await store.sql.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")).map((r) => r.name);
  const out: Record<string, string[]> = {};
  for (const n of names.filter((x) => x !== 'schema_migrations').sort()) {
    const rows = await store.sql.query(`SELECT * FROM "${n}"`);
    out[n] = rows.map((r) => JSON.stringify(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('base64') : v === null ? null : typeof v === 'number' ? v : String(v)]))).sort();
  }
  return out;
}

/** The restored database as it is, without a store around it (whose audit writer would chain the inbox). */
async function openRaw(url: string): Promise<Database> {
  return url.startsWith('postgres://') ? PostgresDatabase.open(url) : new SqliteDatabase(url);
}

describe.each(kinds)('backup while the service runs, restore into a fresh installation (%s)', (storeKind: StoreKind) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  async function restoreInto(backup: string, kind: StoreKind): Promise<{ dir: string; url: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'jpki-restore-'));
    const url = freshStoreUrl(kind, join(dir, 'jpki.sqlite'));
    cleanups.push(async () => {
      if (kind === 'postgres') await dropSchemaOf(url);
      rmSync(dir, { recursive: true, force: true });
    });
    await restoreInstallation({ dataDir: dir, databaseUrl: url, databaseUrlExplicit: true }, backup);
    return { dir, url };
  }

  it('snapshots a consistent moment during issuance and register entries; restores on SQLite and PostgreSQL; the keys sign; the audit verifies', async () => {
    const t: TestInstallation = await createTestInstallation({ storeKind, prefectures: ['13', '27'] });
    cleanups.push(() => t.cleanup());
    const s = t.services;
    // where the installation lives, as the CLI would name it
    const databaseUrl = storeKind === 'sqlite' ? join(t.dir, 'jpki.sqlite') : `postgres://postgres@127.0.0.1:5432/test?schema=${(s.store.db as unknown as { schema: string }).schema}`;
    const location = { dataDir: t.dir, databaseUrl, databaseUrlExplicit: true };
    await s.audit.checkpoint();

    // activity: certificates issued and residents entered while the backup is taken
    let stop = false;
    let issued = 0;
    const activity = (async () => {
      for (let i = 0; !stop; i++) {
        await s.ca.issue({ prefecture: i % 2 ? '27' : '13', kind: 'auth', publicKey: { spki: SPKI }, municipality: i % 2 ? '271276' : '13103', actor: 'test' });
        await s.register.add({ name: `並行 ${i}郎`, dateOfBirth: '1980-01-01', sex: '1', address: '東京都西多摩郡奥多摩町氷川1', municipality: '13308' }, 'test');
        issued++;
      }
    })();
    while (issued < 5) await new Promise((r) => setTimeout(r, 20));
    const backup = join(t.dir, 'backup-1');
    const { manifest } = await backupInstallation(location, backup);
    const duringBackup = issued;
    while (issued < duringBackup + 3) await new Promise((r) => setTimeout(r, 20));
    stop = true;
    await activity;

    expect(manifest.database.dialect).toBe(storeKind);
    expect(Object.keys(manifest.files)).toEqual(expect.arrayContaining(['data/keys/passphrase', 'data/audit-key.json', 'data/audit-checkpoint.json']));
    expect(existsSync(join(backup, 'data', 'jpki.sqlite'))).toBe(false);

    for (const kind of kinds) {
      const { dir, url } = await restoreInto(backup, kind);
      // the database as it was at one moment: what the manifest counted, a prefix of what the source holds now
      const restored = await openRaw(url);
      const now = await contents(s.store);
      let before: Record<string, string[]>;
      try {
        before = await contents({ sql: restored });
      } finally {
        await restored.close();
      }
      for (const tbl of manifest.database.tables.filter((x) => x.name !== 'schema_migrations')) expect(before[tbl.name], tbl.name).toHaveLength(tbl.rows);
      for (const tbl of ['certificates', 'residents', 'resident_events', 'audit_log', 'audit_checkpoints', 'certificate_authorities'])
        for (const row of before[tbl]!) expect(now[tbl], `${tbl} row of the snapshot in the source`).toContain(row);
      const certificates = before.certificates!.length;
      expect(certificates).toBeGreaterThan(0);
      expect(certificates).toBeLessThan(now.certificates!.length);

      // the restored installation works: the audit chain and checkpoints verify against the certificates,
      // the CA keys and the audit key sign
      const r = await openServices({ dataDir: dir, databaseUrl: url, databaseUrlExplicit: true }, { clock: t.clock, create: false });
      try {
        const report = await r.audit.verify();
        expect(report.problems).toEqual([]);
        expect(report.ok).toBe(true);
        const fresh = await r.ca.issue({ prefecture: '27', kind: 'auth', publicKey: { spki: SPKI }, municipality: '27127', actor: 'test' });
        const ca = new X509Certificate((await r.ca.get('pref-27')).certificate);
        expect(new X509Certificate(fresh.der).verify(ca.publicKey)).toBe(true);
        expect(await r.audit.checkpoint()).toBeDefined();
        expect((await r.audit.verify()).ok).toBe(true);
        expect(await r.register.count()).toBe(before.residents!.length);
      } finally {
        await r.close();
      }
    }

    // quiet: a second backup restores to exactly the same rows, in either database
    const quiet = join(t.dir, 'backup-2');
    expect((await s.audit.verify()).ok).toBe(true); // everything chained: nothing moves while both are read
    await backupInstallation(location, quiet);
    const source = await contents(s.store);
    for (const kind of kinds) {
      const { url } = await restoreInto(quiet, kind);
      const restored = await openRaw(url);
      try {
        expect(await contents({ sql: restored })).toEqual(source);
      } finally {
        await restored.close();
      }
    }
  }, 180_000);

  it('refuses a damaged backup, an existing installation as target, and an existing backup folder', async () => {
    const t = await createTestInstallation({ storeKind, prefectures: ['13'] });
    cleanups.push(() => t.cleanup());
    const url = storeKind === 'sqlite' ? join(t.dir, 'jpki.sqlite') : `postgres://postgres@127.0.0.1:5432/test?schema=${(t.services.store.db as unknown as { schema: string }).schema}`;
    const location = { dataDir: t.dir, databaseUrl: url, databaseUrlExplicit: true };
    const backup = join(t.dir, 'b');
    await backupInstallation(location, backup);
    await expect(backupInstallation(location, backup)).rejects.toMatchObject({ code: 'FILE_UNUSABLE' });
    const into = await restoreInto(backup, 'sqlite');
    await expect(restoreInstallation({ dataDir: into.dir, databaseUrl: into.url, databaseUrlExplicit: true }, backup)).rejects.toMatchObject({ code: 'RESTORE_TARGET_NOT_EMPTY' });
    writeFileSync(join(backup, 'data', 'keys', 'passphrase'), readFileSync(join(backup, 'data', 'keys', 'passphrase')).toString() + 'x');
    const e = (await restoreInstallation({ dataDir: join(t.dir, 'r'), databaseUrl: join(t.dir, 'r', 'jpki.sqlite'), databaseUrlExplicit: true }, backup).catch((x: unknown) => x)) as JpkiError;
    expect(e).toMatchObject({ code: 'BACKUP_INVALID' });
    expect(e.message).toMatch(/data\/keys\/passphrase in the backup was changed or damaged/);
    expect(existsSync(join(t.dir, 'r', 'jpki.sqlite'))).toBe(false);
  }, 120_000);
});
