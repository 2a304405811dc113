import type { Clock } from '../common/clock.js';
import { systemClock } from '../common/clock.js';
import type { Database, SqlExecutor } from './database.js';
import { SqliteDatabase } from './sqlite.js';
import { PostgresDatabase } from './postgres.js';
import { migrate } from './migrate.js';
import { AuditLog, type AuditEntry } from './audit-log.js';
import { AuthorityRepository } from './authorities.js';
import { CertificateRepository } from './certificates.js';
import { CrlRepository } from './crls.js';
import { SettingsRepository } from './settings.js';

export type { Database, SqlExecutor, Dialect, SqlValue, Row } from './database.js';
export { StoreError, isUniqueViolation } from './errors.js';
export { AuditLog, canonicalJson, GENESIS_HASH, type AuditEntry, type AuditRecord, type AuditVerification } from './audit-log.js';
export { AuthorityRepository, type AuthorityRecord, type AuthorityKind } from './authorities.js';
export { CertificateRepository, type CertificateRecord, type CertificateKind, type NewCertificate, type RevokedEntry, type RevokedFilter } from './certificates.js';
export { CrlRepository, type CrlRecord } from './crls.js';
export { SettingsRepository } from './settings.js';

/**
 * The repositories bound to one executor: the database itself (each call on its own) or an open
 * transaction (everything commits together). Modules take the subset they need (Boulder's SA subsets).
 */
export interface Repositories {
  readonly sql: SqlExecutor;
  readonly authorities: AuthorityRepository;
  readonly certificates: CertificateRepository;
  readonly crls: CrlRepository;
  readonly settings: SettingsRepository;
  readonly audit: AuditLog;
  /** Appends an audit record stamped with the store's clock (inside a transaction). */
  record(entry: AuditEntry): Promise<void>;
}

export interface Store extends Repositories {
  readonly db: Database;
  readonly clock: Clock;
  /** Runs `fn` with repositories bound to one transaction. */
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function repositories(sql: SqlExecutor, clock: Clock): Repositories {
  const audit = new AuditLog(sql);
  return {
    sql,
    authorities: new AuthorityRepository(sql),
    certificates: new CertificateRepository(sql),
    crls: new CrlRepository(sql),
    settings: new SettingsRepository(sql),
    audit,
    record: async (entry) => {
      await audit.append(entry, clock.now().getTime());
    },
  };
}

/** True for URLs that select PostgreSQL. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * Opens the store named by `url` (postgres://… or a SQLite file path, ':memory:' for tests) and brings its
 * schema up to date.
 */
export async function openStore(url: string, options: { clock?: Clock } = {}): Promise<Store> {
  const clock = options.clock ?? systemClock;
  const db = isPostgresUrl(url) ? await PostgresDatabase.open(url) : new SqliteDatabase(url.replace(/^sqlite:/, ''));
  try {
    await migrate(db, clock.now().getTime());
  } catch (e) {
    await db.close();
    throw e;
  }
  return {
    ...repositories(db, clock),
    db,
    clock,
    transaction: (fn) => db.transaction((tx) => fn(repositories(tx, clock))),
    close: () => db.close(),
  };
}
