import type { Clock } from '../common/clock.js';
import { systemClock } from '../common/clock.js';
import type { Database, SqlExecutor } from './database.js';
import type { SqliteDatabase } from './sqlite.js';
import { migrate } from './migrate.js';
import { StoreError } from './errors.js';
import { AuditChainer, AuditInbox, AuditLog, appendToChain, type AuditEntry } from './audit-log.js';
import { LedgerRepository } from './ledger.js';
import { RegisterEventOutcomeRepository } from './register-event-outcomes.js';
import { AuthorityRepository } from './authorities.js';
import { CertificateRepository } from './certificates.js';
import { CrlRepository } from './crls.js';
import { SettingsRepository } from './settings.js';
import { StatusChangeRepository } from './status-changes.js';
import { OcspResponseRepository } from './ocsp-responses.js';
import { OcspResponderRepository } from './ocsp-responders.js';
import { ResidentRepository } from './residents.js';
import { OperatorRepository } from './operators.js';
import { CounterRecordRepository } from './counter-records.js';
import { SubmissionRepository } from './submissions.js';
import { AgencyApplicationRepository } from './agency-applications.js';

export type { Database, SqlExecutor, Dialect, SqlValue, Row } from './database.js';
export { StoreError, isUniqueViolation } from './errors.js';
export {
  AuditLog,
  AuditChainer,
  canonicalJson,
  checkpointMessage,
  recordHash,
  GENESIS_HASH,
  type AuditEntry,
  type AuditRecord,
  type AuditVerification,
  type AuditCheckpoint,
} from './audit-log.js';
export { RegisterEventOutcomeRepository, type RegisterEventOutcome } from './register-event-outcomes.js';
export { LedgerRepository, type BatchOutcome, type BatchRecord, type BatchReserve, type LedgerEntry, type NewLedgerEntry, type LedgerKind, type LedgerState } from './ledger.js';
export { AuthorityRepository, type AuthorityRecord, type AuthorityKind } from './authorities.js';
export {
  CertificateRepository,
  type CertificateRecord,
  type CertificateKind,
  type CertificateStatus,
  type NewCertificate,
  type RevokedEntry,
  type RevokedColumns,
  type RevokedFilter,
} from './certificates.js';
export { CrlRepository, type CrlRecord } from './crls.js';
export { SettingsRepository } from './settings.js';
export { StatusChangeRepository, StatusChangeFeed, type StatusChange, type StatusChangeKind, type StatusChangeListener } from './status-changes.js';
export { OcspResponseRepository, type StoredOcspResponse, type CheckedOcspResponse, type PresignCandidate } from './ocsp-responses.js';
export { OcspResponderRepository, type OcspResponderRecord } from './ocsp-responders.js';
export {
  ResidentRepository,
  type ResidentRecord,
  type ResidentState,
  type ResidentStatus,
  type ResidentEventRecord,
  type ResidentEventType,
  type NewResidentEvent,
  type ResidentSearch,
  type RegisterImportRecord,
} from './residents.js';
export { OperatorRepository, type OperatorRecord, type OperatorRole, type SessionRecord, type LoginCounters } from './operators.js';
export {
  CounterRecordRepository,
  type ApplicationRecord,
  type ApplicationKind,
  type ApplicationStatus,
  type ApplicationStep,
  type NewApplication,
  type DocumentRecord,
  type DocumentType,
  type DeviceRecord,
} from './counter-records.js';
export { SubmissionRepository, type SubmissionRecord } from './submissions.js';
export { AgencyApplicationRepository, type AgencyApplicationRecord, type NewAgencyApplication } from './agency-applications.js';

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
  /** The certificate status change feed (issue 5): appended with every issuance and revocation. */
  readonly statusChanges: StatusChangeRepository;
  readonly ocspResponses: OcspResponseRepository;
  readonly ocspResponders: OcspResponderRepository;
  /** The Basic Resident Register (issue 4). */
  readonly residents: ResidentRepository;
  /** The municipal counter (issue 4): operators and sessions, applications and papers, idempotent submissions. */
  readonly operators: OperatorRepository;
  readonly counterRecords: CounterRecordRepository;
  readonly submissions: SubmissionRepository;
  /** The CA's ledger: every signature reserved before it is made (migration 030). */
  readonly ledger: LedgerRepository;
  /** The register events the CA handled, and what each revoked. */
  readonly registerEventOutcomes: RegisterEventOutcomeRepository;
  /** The sample agency's e-applications (issue 9, migration 025). */
  readonly agencyApplications: AgencyApplicationRepository;
  /** Reading the audit log (listing, verifying, checkpoints). */
  readonly audit: AuditLog;
  /** Appends an audit record stamped with the store's clock (inside the transaction of the change). */
  record(entry: AuditEntry): Promise<void>;
  /** Appends several audit records with one statement. */
  recordAll(entries: readonly AuditEntry[]): Promise<void>;
}

export interface Store extends Repositories {
  readonly db: Database;
  readonly clock: Clock;
  /** Runs `fn` with repositories bound to one transaction. */
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The name of one repository (or `record`, the audit append capability) a module may be handed. */
export type RepositoryName = Exclude<keyof Repositories, 'sql'>;

/** Some repositories bound to one executor: what a module's own transaction sees. */
export type Scoped<K extends RepositoryName> = Pick<Repositories, K>;

/**
 * The part of the store one module owns (Boulder's SA subsets): only the named repositories, each call on
 * its own or inside `transaction`, which again sees only those. No raw SQL, no other module's tables.
 */
export type ScopedStore<K extends RepositoryName> = Scoped<K> & {
  transaction<T>(fn: (tx: Scoped<K>) => Promise<T>): Promise<T>;
};

function pick<K extends RepositoryName>(from: Repositories, names: readonly K[]): Scoped<K> {
  const out = {} as Scoped<K>;
  for (const n of names) (out as Record<string, unknown>)[n] = from[n];
  return out;
}

/**
 * Narrows the store to the named repositories (the composition root hands each module its own): at run time
 * the object holds nothing else, so a module cannot reach another's tables even by a cast.
 */
export function scoped<K extends RepositoryName>(store: Store, names: readonly K[]): ScopedStore<K> {
  return { ...pick(store, names), transaction: (fn) => store.transaction((tx) => fn(pick(tx, names))) };
}

export function repositories(sql: SqlExecutor, clock: Clock, chainer?: AuditChainer, inTransaction = false): Repositories {
  const inbox = new AuditInbox(sql);
  const recordAll = async (entries: readonly AuditEntry[]): Promise<void> => {
    if (entries.length === 0) return;
    const at = clock.now().getTime();
    if (sql.dialect === 'sqlite') {
      // SQLite's writers take turns anyway: the records join the chain in the change's own transaction
      if (inTransaction) await appendToChain(sql, entries, at);
      else await (sql as Database).transaction((tx) => appendToChain(tx, entries, at));
      return;
    }
    await inbox.appendAll(entries, at);
    chainer?.request();
  };
  return {
    sql,
    authorities: new AuthorityRepository(sql),
    certificates: new CertificateRepository(sql),
    crls: new CrlRepository(sql),
    settings: new SettingsRepository(sql),
    statusChanges: new StatusChangeRepository(sql),
    ocspResponses: new OcspResponseRepository(sql),
    ocspResponders: new OcspResponderRepository(sql),
    residents: new ResidentRepository(sql),
    operators: new OperatorRepository(sql),
    counterRecords: new CounterRecordRepository(sql),
    submissions: new SubmissionRepository(sql),
    ledger: new LedgerRepository(sql, () => chainer?.request()),
    registerEventOutcomes: new RegisterEventOutcomeRepository(sql),
    agencyApplications: new AgencyApplicationRepository(sql),
    // reads outside a transaction chain pending records first; inside one they must not wait for the writer
    audit: new AuditLog(sql, inTransaction ? undefined : chainer),
    record: (entry) => recordAll([entry]),
    recordAll,
  };
}

/**
 * Refuses a database URL of a scheme we do not speak: `mysql://…`, `file:…` or a typo would otherwise be
 * taken as the name of a SQLite file (and one would be created).
 */
export function checkDatabaseUrl(url: string): void {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1];
  if (scheme !== undefined && !isPostgresUrl(url) && scheme.toLowerCase() !== 'sqlite')
    throw new StoreError('DATABASE_URL_INVALID', 'malformed', `unknown database URL scheme ${JSON.stringify(`${scheme}:`)}: use postgres://…, postgresql://…, sqlite:PATH or a file path`);
}

/** True for URLs that select PostgreSQL. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * Opens a PostgreSQL streaming replica for reading (`jpki serve --read-db URL`): the repositories over it,
 * no migrations (the primary's schema arrives by replication), no audit writer. Commits are found by
 * polling (`PostgresDatabase.openReplica`), since NOTIFY does not reach a standby.
 */
export async function openReadStore(url: string, options: { clock?: Clock; pollMs?: number } = {}): Promise<ReadStore> {
  if (!isPostgresUrl(url)) throw new StoreError('DATABASE_URL_INVALID', 'malformed', `--read-db ${JSON.stringify(url)}: a read replica is a PostgreSQL URL (postgres://…)`);
  const db = await (await import('./postgres.js')).PostgresDatabase.openReplica(url, options.pollMs);
  return { ...repositories(db, options.clock ?? systemClock), db, close: () => db.close() };
}

/**
 * The OCSP responder's reads on a read-only connection of its own to the store's SQLite file (sqlite.ts
 * `openReader`), opened on first use (CLI commands that never answer OCSP open nothing); PostgreSQL and
 * in-memory databases read through the store itself.
 */
export function localReads(store: Store): { reads: Pick<Repositories, 'authorities' | 'certificates' | 'ocspResponses'>; close(): Promise<void> } {
  let opened: { repos: Repositories; db: Database } | null | undefined;
  const repos = (): Pick<Repositories, 'authorities' | 'certificates' | 'ocspResponses'> => {
    if (opened === undefined) {
      const db = (store.db as Partial<Pick<SqliteDatabase, 'openReader'>>).openReader?.();
      opened = db ? { repos: repositories(db, store.clock), db } : null;
    }
    return opened?.repos ?? store;
  };
  return {
    reads: {
      get authorities() {
        return repos().authorities;
      },
      get certificates() {
        return repos().certificates;
      },
      get ocspResponses() {
        return repos().ocspResponses;
      },
    },
    close: async () => {
      await opened?.db.close();
      opened = null;
    },
  };
}

/** A store to read from (a replica): the repositories, the database, close. Writing through it fails. */
export type ReadStore = Repositories & { db: Database; close(): Promise<void> };

/**
 * Opens the store named by `url` (postgres://… or a SQLite file path, ':memory:' for tests) and brings its
 * schema up to date.
 */
export async function openStore(url: string, options: { clock?: Clock } = {}): Promise<Store> {
  const clock = options.clock ?? systemClock;
  checkDatabaseUrl(url);
  // each driver is loaded only when used (pg alone costs a CLI command ~50 ms of start-up)
  const db = isPostgresUrl(url)
    ? await (await import('./postgres.js')).PostgresDatabase.open(url)
    : new (await import('./sqlite.js')).SqliteDatabase(url.replace(/^sqlite:/, ''));
  try {
    await migrate(db, clock.now().getTime());
  } catch (e) {
    await db.close();
    throw e;
  }
  const chainer = new AuditChainer(db);
  return {
    ...repositories(db, clock, chainer),
    db,
    clock,
    transaction: (fn) => db.transaction((tx) => fn(repositories(tx, clock, chainer, true))),
    close: async () => {
      await chainer.close();
      await db.close();
    },
  };
}
