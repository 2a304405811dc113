import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { toSqlParam, type Database, type Row, type SqlExecutor, type SqlValue } from './database.js';
import { StoreError } from './errors.js';

/** How often another process's commits are looked for (PRAGMA data_version). */
const CHANGE_POLL_MS = 100;

/**
 * SQLite through better-sqlite3 (the embedded default). better-sqlite3 is synchronous; the async interface
 * exists so the same repositories run on PostgreSQL. One connection per process, WAL mode; writes and
 * transactions go through an in-process queue so an `await` inside a transaction never lets another
 * writer interleave on the shared connection.
 */
export class SqliteDatabase implements Database {
  readonly dialect = 'sqlite' as const;
  readonly description: string;
  private readonly db: BetterSqlite3.Database;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<() => void>();
  private pollTimer: NodeJS.Timeout | undefined;
  private lastDataVersion = 0;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    try {
      this.db = new BetterSqlite3(path);
    } catch (e) {
      throw new StoreError('DATABASE_UNAVAILABLE', 'unavailable', `cannot open SQLite database ${path}: ${(e as Error).message}`, {}, { cause: e });
    }
    this.description = `sqlite:${path}`;
    this.db.pragma('journal_mode = WAL');
    // FULL: every commit is fsynced before it returns, so an issued certificate is never lost to a power
    // cut. JPKI_SQLITE_SYNCHRONOUS=NORMAL trades that for speed (still crash-safe for the process).
    this.db.pragma(`synchronous = ${process.env.JPKI_SQLITE_SYNCHRONOUS ?? 'FULL'}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
  }

  private prepare(sql: string): BetterSqlite3.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  private params(params: readonly SqlValue[] | undefined): SqlValue[] {
    return params ? params.map(toSqlParam) : [];
  }

  private readonly executor: SqlExecutor = {
    dialect: 'sqlite',
    query: async <T extends Row>(sql: string, params?: readonly SqlValue[]) => this.prepare(sql).all(...this.params(params)) as T[],
    queryOne: async <T extends Row>(sql: string, params?: readonly SqlValue[]) =>
      this.prepare(sql).get(...this.params(params)) as T | undefined,
    execute: async (sql: string, params?: readonly SqlValue[]) => {
      const st = this.prepare(sql);
      if (!st.reader) return st.run(...this.params(params)).changes;
      st.all(...this.params(params));
      return 0;
    },
  };

  async query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.executor.query<T>(sql, params);
  }

  async queryOne<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.executor.queryOne<T>(sql, params);
  }

  /** A lone write runs as its own small transaction, queued behind any open one. */
  async execute(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.transaction((tx) => tx.execute(sql, params));
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.executor);
        this.db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    const result = await p;
    this.emitCommit();
    return result;
  }

  /** Runs raw SQL (migrations). */
  exec(sql: string): void {
    this.db.exec(sql);
  }

  onCommit(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.pollTimer) {
      this.lastDataVersion = this.dataVersion();
      this.pollTimer = setInterval(() => {
        const v = this.dataVersion();
        if (v !== this.lastDataVersion) {
          this.lastDataVersion = v;
          this.emitCommit();
        }
      }, CHANGE_POLL_MS);
      this.pollTimer.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.pollTimer) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
      }
    };
  }

  /** data_version changes when another connection commits (never for this connection's own commits). */
  private dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  private emitCommit(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        // a listener's failure is its own business
      }
    }
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.listeners.clear();
    if (this.db.open) this.db.close();
  }
}
