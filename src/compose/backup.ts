import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, createReadStream } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { JpkiError } from '../common/errors.js';
import { AUDIT_CHECKPOINT_FILE } from '../audit/trail.js';
import { copySqliteSnapshot, loadSnapshot, openBareDatabase, snapshotStore, type DatabaseSnapshot } from '../store/backup.js';
import { isPostgresUrl } from '../store/index.js';
import { configPath, readConfig, writeConfig } from './data-dir.js';
import { openInstallation, type InstallationLocation } from './installation.js';

/**
 * `jpki backup OUT` / `jpki restore IN` (issue 12): the whole installation — database (certificates, residents,
 * settings, the audit log and its checkpoints, the ledger…) and the data directory (software CA keys and their
 * passphrase, the audit key, the card fabrication secret, the configuration) — as one folder:
 *
 *   OUT/manifest.json        what it holds, with the SHA-256 of every file
 *   OUT/database/…           the store's snapshot (store/backup.ts)
 *   OUT/data/…               the data directory's files
 *
 * Taken while the service runs. The order makes it consistent: the mirrored audit checkpoint is read first
 * (so the checkpoint it names is in the snapshot), then the database snapshot, then the other files (every key
 * the snapshot names was written before it). Keys on a PKCS#11 token stay on the token (back the token up
 * with its own tools); the manifest says so.
 */
export const BACKUP_FORMAT = 'jpki-backup-v1';

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  createdAt: string;
  database: DatabaseSnapshot;
  kms: string;
  /** Path (relative to the backup folder) → SHA-256. */
  files: Record<string, string>;
  notes: string[];
}

export interface BackupResult {
  manifest: BackupManifest;
  bytes: number;
}

function sha256File(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('end', () => res(h.digest('hex')))
      .on('error', rej);
  });
}

function walk(dir: string, skip: (path: string) => boolean, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (skip(p)) continue;
    if (e.isDirectory()) walk(p, skip, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function emptyOrMissing(path: string, what: string): void {
  if (!existsSync(path)) return;
  if (!statSync(path).isDirectory() || readdirSync(path).length > 0)
    throw new JpkiError('FILE_UNUSABLE', 'conflict', `${what} ${path} already exists and is not an empty folder`, { path });
}

const isDatabaseFile = (name: string) => /^jpki\.sqlite(-wal|-shm|-journal)?$/.test(name);

export async function backupInstallation(location: InstallationLocation, out: string): Promise<BackupResult> {
  out = resolve(out);
  emptyOrMissing(out, 'the backup folder');
  const installation = await openInstallation(location, { create: false });
  try {
    mkdirSync(join(out, 'data'), { recursive: true, mode: 0o700 });
    const checkpointFile = join(location.dataDir, AUDIT_CHECKPOINT_FILE);
    const checkpoint = existsSync(checkpointFile) ? readFileSync(checkpointFile) : undefined;

    const database = await snapshotStore(installation.store, join(out, 'database'));

    const inside = (p: string) => p === out || p.startsWith(out + sep);
    const sqlite = isPostgresUrl(installation.databaseUrl) ? undefined : resolve(installation.databaseUrl.replace(/^sqlite:/, ''));
    for (const file of walk(location.dataDir, (p) => inside(p) || (sqlite !== undefined && p.startsWith(sqlite)) || (dirname(p) === location.dataDir && isDatabaseFile(p.slice(location.dataDir.length + 1))))) {
      const target = join(out, 'data', relative(location.dataDir, file));
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      if (file === checkpointFile) {
        if (checkpoint) writeFileSync(target, checkpoint, { mode: 0o644 });
        continue;
      }
      copyFileSync(file, target);
      chmodSync(target, statSync(file).mode & 0o777);
    }

    const files: Record<string, string> = {};
    let bytes = 0;
    for (const f of walk(out, () => false).sort()) {
      files[relative(out, f).split(sep).join('/')] = await sha256File(f);
      bytes += statSync(f).size;
    }
    const kms = installation.config.kms.type;
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt: installation.store.clock.now().toISOString(),
      database,
      kms,
      files,
      notes: kms === 'pkcs11' ? ['the CA keys are on the PKCS#11 token: back the token up with its own tools; this backup holds the rest'] : [],
    };
    writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    return { manifest, bytes };
  } finally {
    await installation.store.close();
  }
}

export interface RestoreResult {
  manifest: BackupManifest;
  tables: Record<string, number>;
  databaseUrl: string;
}

/** Restores a backup into a new installation at `location` (an empty data directory and an empty database). */
export async function restoreInstallation(location: InstallationLocation, from: string, onTable?: (name: string, rows: number) => void): Promise<RestoreResult> {
  from = resolve(from);
  const manifestPath = join(from, 'manifest.json');
  if (!existsSync(manifestPath)) throw new JpkiError('BACKUP_INVALID', 'not-found', `${from} holds no backup (no manifest.json)`, { path: from });
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as BackupManifest;
  } catch (e) {
    throw new JpkiError('BACKUP_INVALID', 'malformed', `${manifestPath} is not valid JSON: ${(e as Error).message}`);
  }
  if (manifest.format !== BACKUP_FORMAT) throw new JpkiError('BACKUP_INVALID', 'malformed', `${from} is not a jpki backup of format ${BACKUP_FORMAT}`);
  for (const [rel, hash] of Object.entries(manifest.files)) {
    const p = join(from, ...rel.split('/'));
    if (!existsSync(p)) throw new JpkiError('BACKUP_INVALID', 'malformed', `the backup lacks ${rel}`, { file: rel });
    if ((await sha256File(p)) !== hash) throw new JpkiError('BACKUP_INVALID', 'malformed', `${rel} in the backup was changed or damaged (its SHA-256 differs from the manifest)`, { file: rel });
  }

  // the target: a data directory holding no installation, a database holding nothing
  if (existsSync(configPath(location.dataDir)) || existsSync(join(location.dataDir, 'jpki.sqlite')))
    throw new JpkiError('RESTORE_TARGET_NOT_EMPTY', 'conflict', `${location.dataDir} already holds an installation: restore into a new data directory`, { path: location.dataDir });
  const databaseUrl = location.databaseUrlExplicit ? location.databaseUrl : join(location.dataDir, 'jpki.sqlite');
  const sqliteTarget = isPostgresUrl(databaseUrl) ? undefined : resolve(databaseUrl.replace(/^sqlite:/, ''));
  if (sqliteTarget && existsSync(sqliteTarget)) throw new JpkiError('RESTORE_TARGET_NOT_EMPTY', 'conflict', `the database ${sqliteTarget} already exists: restore into a new one`, { path: sqliteTarget });

  const snapshotDir = join(from, 'database');
  if (sqliteTarget && manifest.database.dialect === 'sqlite') copySqliteSnapshot(snapshotDir, manifest.database, sqliteTarget);
  const db = await openBareDatabase(databaseUrl);
  let tables: Record<string, number>;
  try {
    if (sqliteTarget && manifest.database.dialect === 'sqlite') tables = Object.fromEntries(manifest.database.tables.map((t) => [t.name, t.rows]));
    else {
      for (const t of manifest.database.tables) {
        if (t.name === 'schema_migrations') continue;
        const r = await db.queryOne<{ n: number }>(`SELECT COUNT(*) AS n FROM "${t.name}"`).catch(() => undefined);
        if (r && Number(r.n) > 0) throw new JpkiError('RESTORE_TARGET_NOT_EMPTY', 'conflict', `the database is not empty (table ${t.name} has rows): restore into a new one`);
      }
      tables = await loadSnapshot(db, snapshotDir, manifest.database, onTable);
    }
  } finally {
    await db.close();
  }

  // the data directory's files, then the configuration pointing at the restored database
  for (const rel of Object.keys(manifest.files)) {
    if (!rel.startsWith('data/')) continue;
    const target = join(location.dataDir, ...rel.slice(5).split('/'));
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    copyFileSync(join(from, ...rel.split('/')), target);
    chmodSync(target, statSync(join(from, ...rel.split('/'))).mode & 0o777);
  }
  const config = readConfig(location.dataDir) ?? { kms: { type: 'soft' as const } };
  const { databaseUrl: _old, ...rest } = config;
  writeConfig(location.dataDir, location.databaseUrlExplicit ? { ...rest, databaseUrl } : rest);
  return { manifest, tables, databaseUrl };
}
