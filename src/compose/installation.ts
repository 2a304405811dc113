import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../common/clock.js';
import { JpkiError } from '../common/errors.js';
import { checkDatabaseUrl, isPostgresUrl, openStore, type Store } from '../store/index.js';
import { dataDirExists, ensureDataDir, readConfig, type InstallationConfig } from './data-dir.js';

/** Where an installation lives: its data directory and its database. */
export interface InstallationLocation {
  /** Absolute path of the data directory. */
  dataDir: string;
  /** Database URL: postgres://… or a SQLite file path. */
  databaseUrl: string;
  /** Whether --db or JPKI_DATABASE_URL named it (else the saved or default one applies). */
  databaseUrlExplicit: boolean;
}

/** The database URL: --db / JPKI_DATABASE_URL, else the one saved at init, else <data>/jpki.sqlite. */
export function databaseUrlFor(globals: InstallationLocation, config: InstallationConfig | undefined, explicit: boolean): string {
  if (explicit) return globals.databaseUrl;
  return config?.databaseUrl ?? globals.databaseUrl;
}

export interface OpenInstallationOptions {
  /**
   * Whether a missing data directory and database may be created: only `jpki init` and `jpki serve` (and
   * tests) create an installation. Every other command opens an existing one and refuses a data directory
   * that holds none, so a mistyped `--data` never leaves a new database behind.
   */
  create?: boolean;
  /** Overrides of the saved configuration. */
  config?: InstallationConfig;
  clock?: Clock;
}

export interface Installation {
  config: InstallationConfig;
  databaseUrl: string;
  store: Store;
}

function notFound(dataDir: string, what: string): JpkiError {
  return new JpkiError(
    'INSTALLATION_NOT_FOUND',
    'not-found',
    `no installation in ${dataDir} (${what}): run \`jpki init\` first, or point --data (env JPKI_DATA) at an existing one`,
    { path: dataDir },
  );
}

/**
 * The installation's configuration and database: what every command opens first, and all that read-only
 * commands (`jpki ca list`, `jpki audit list`) need — no key store, no modules.
 */
export async function openInstallation(globals: InstallationLocation, options: OpenInstallationOptions = {}): Promise<Installation> {
  const create = options.create ?? true;
  if (create) ensureDataDir(globals.dataDir);
  else if (!dataDirExists(globals.dataDir)) throw notFound(globals.dataDir, 'no such directory');
  const config = options.config ?? readConfig(globals.dataDir) ?? { kms: { type: 'soft' as const } };
  const databaseUrl = databaseUrlFor(globals, config, globals.databaseUrlExplicit);
  checkDatabaseUrl(databaseUrl);
  if (!create && !isPostgresUrl(databaseUrl)) {
    const file = databaseUrl.replace(/^sqlite:/, '');
    if (file !== ':memory:' && !existsSync(file)) throw notFound(globals.dataDir, `no database ${file === join(globals.dataDir, 'jpki.sqlite') ? 'jpki.sqlite' : file}`);
  }
  const store = await openStore(databaseUrl, options.clock ? { clock: options.clock } : {});
  return { config, databaseUrl, store };
}
