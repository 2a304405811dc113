/**
 * The SQL layer under every repository: one small async interface, two implementations (SQLite via
 * better-sqlite3, the embedded default; PostgreSQL via pg, the production one). Repositories write portable
 * SQL with `?` placeholders; the PostgreSQL side renumbers them to `$n`.
 */
export type Dialect = 'sqlite' | 'postgres';

export type SqlValue = string | number | bigint | boolean | Buffer | Uint8Array | null;

export type Row = Record<string, unknown>;

export interface SqlExecutor {
  readonly dialect: Dialect;
  /** All rows of a query. */
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /**
   * All rows as arrays of column values, in SELECT order: for streams of millions of rows (CRLs), where
   * building a driver object per row costs more than the query.
   */
  queryArrays(sql: string, params?: readonly SqlValue[]): Promise<unknown[][]>;
  /** The first row, or undefined. */
  queryOne<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A statement that returns no rows; resolves to the number of rows it changed. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /**
   * A long read of many statements (the pages of a CRL of millions of entries) over one consistent snapshot,
   * with planner settings of its own. PostgreSQL: a REPEATABLE READ READ ONLY transaction on one connection,
   * `planner` applied with SET LOCAL (e.g. `{ enable_sort: 'off' }`: a keyset page is then always read in
   * index order, never by sorting everything after the key when the statistics are stale); inside a
   * transaction, that transaction. Absent on SQLite, whose one connection is shared by everything: there each
   * statement reads on its own. `end()` must be called when done.
   */
  readSession?(planner?: Record<string, string>): Promise<ReadSession>;
}

export interface ReadSession {
  readonly sql: SqlExecutor;
  /**
   * Another connection reading the same snapshot, so that the server runs several statements of one read at
   * once (PostgreSQL: the snapshot exported with `pg_export_snapshot`, imported with `SET TRANSACTION
   * SNAPSHOT`, the same planner settings). Undefined when there is none to spare: inside a transaction, or
   * when the pool is half busy (other reads and writes keep theirs). `end()` ends it with the session.
   */
  share(): Promise<SqlExecutor | undefined>;
  end(): Promise<void>;
}

/** How a transaction commits. */
export interface TransactionOptions {
  /**
   * false: the commit is not announced to `onCommit` listeners (PostgreSQL: no NOTIFY). Only for writes no
   * listener follows (the audit chain writer): on PostgreSQL every notifying commit holds the cluster-wide
   * NOTIFY lock through its WAL flush, so notifying commits never share a flush and never overlap.
   */
  announce?: boolean;
}

export interface Database extends SqlExecutor {
  /**
   * Runs `fn` in one transaction: everything it writes commits together or not at all. Writers are
   * serialised (SQLite: BEGIN IMMEDIATE behind an in-process queue; PostgreSQL: row and advisory locks).
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Calls `listener` soon after any transaction commits, in this process or another one sharing the
   * database (PostgreSQL LISTEN/NOTIFY; SQLite PRAGMA data_version polling). Returns an unsubscribe function.
   */
  onCommit(listener: () => void): () => void;
  /** A human description for logs (never includes a password). */
  readonly description: string;
  close(): Promise<void>;
}

/** SQLite returns BLOBs as Buffer, PostgreSQL BYTEA as Buffer; parameters are normalised to Buffer. */
export function toSqlParam(v: SqlValue): SqlValue {
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/** `(?, ?, …), (?, ?, …)`: the VALUES list of a multi-row statement. */
export function rowsPlaceholders(rows: number, columns: number): string {
  const one = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
  return Array.from({ length: rows }, () => one).join(', ');
}
