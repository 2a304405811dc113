import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
// zod's tree-shakable form: every command reads this file, and the full zod costs a CLI start ~70 ms
import * as z from 'zod/mini';
import { JpkiError } from '../common/errors.js';

/**
 * The installation's settings kept in the data directory (`<data>/config.json`): which key store holds the
 * CA keys, and the database and public URL chosen at `jpki init`. Command-line options and environment
 * variables override it.
 */
const ConfigSchema = z.object({
  /** Key store of the CA keys. */
  kms: z.discriminatedUnion('type', [
    z.object({ type: z.literal('soft') }),
    z.object({ type: z.literal('pkcs11'), module: z.string().check(z.minLength(1)), token: z.string().check(z.minLength(1)) }),
  ]),
  /** Database URL chosen at init, when not the default SQLite file. */
  databaseUrl: z.optional(z.string()),
  /** Public base URL for AIA / CRL distribution points. */
  publicUrl: z.optional(z.url()),
});

export type InstallationConfig = z.infer<typeof ConfigSchema>;

export function configPath(dataDir: string): string {
  return join(dataDir, 'config.json');
}

export function readConfig(dataDir: string): InstallationConfig | undefined {
  const path = configPath(dataDir);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new JpkiError('CONFIG_INVALID', 'malformed', `${path} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new JpkiError('CONFIG_INVALID', 'malformed', `${path}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

export function writeConfig(dataDir: string, config: InstallationConfig): void {
  ensureDataDir(dataDir);
  writeFileAtomic(configPath(dataDir), `${JSON.stringify(config, null, 2)}\n`, 0o644);
}

/** Whether DIR is there: a directory (true), nothing (false); anything else is a clear refusal. */
export function dataDirExists(dataDir: string): boolean {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dataDir).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code === 'ENOTDIR') throw notADirectory(dataDir);
    throw new JpkiError('DATA_DIR_INVALID', 'unavailable', `cannot use the data directory ${dataDir}: ${code ?? (e as Error).message}`, { path: dataDir });
  }
  if (!isDirectory) throw notADirectory(dataDir);
  return true;
}

function notADirectory(dataDir: string): JpkiError {
  return new JpkiError('DATA_DIR_INVALID', 'malformed', `the data directory ${dataDir} is a file, not a directory: give --data a directory (or none, for ./data)`, { path: dataDir });
}

export function ensureDataDir(dataDir: string): void {
  if (!dataDirExists(dataDir)) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
}

/** Write to a temporary file, fsync, rename: readers see the old or the new content, never half. */
export function writeFileAtomic(path: string, content: string | Uint8Array, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** A secret kept in a file of mode 0600; created once from `make` when missing. */
export function secretFile(path: string, make: () => string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  writeFileAtomic(path, `${value}\n`, 0o600);
  return value;
}
