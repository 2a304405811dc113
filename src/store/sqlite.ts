import BetterSqlite3 from 'better-sqlite3';
import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { toSqlParam, type Database, type Row, type SqlExecutor, type SqlValue } from './database.js';
import { StoreError } from './errors.js';

/** Most transactions committed together by one group commit. */
const MAX_GROUP = 256;

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
  private readonly pending: { fn: (tx: SqlExecutor) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  private draining = false;
  private readonly listeners = new Set<() => void>();
  private pollTimer: NodeJS.Timeout | undefined;
  private lastDataVersion = 0;
  /** FULL durability in WAL mode: the commits' fdatasync, off the main thread (undefined otherwise). */
  private walSync: WalSync | undefined;

  /**
   * `readOnly`: a connection that only reads (`openReader`), with a page cache of 2 MiB instead of the
   * writer's 64 MiB.
   */
  constructor(
    private readonly path: string,
    options: { readOnly?: boolean } = {},
  ) {
    if (options.readOnly) {
      try {
        this.db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
      } catch (e) {
        throw new StoreError('DATABASE_UNAVAILABLE', 'unavailable', `cannot open SQLite database ${path} to read: ${(e as Error).message}`, {}, { cause: e });
      }
      this.description = `sqlite:${path} (read-only)`;
      this.db.pragma('busy_timeout = 5000');
      // 2 MiB (better-sqlite3's default is 16 MiB): enough for the indexes' upper pages; the rest is the OS's
      this.db.pragma('cache_size = -2048');
      return;
    }
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // Created 0600 like the keys (it holds residents' facts and operators' password hashes); SQLite gives
      // its -wal and -shm files the database file's mode.
      try {
        closeSync(openSync(path, 'a', 0o600));
      } catch {
        // unwritable: better-sqlite3 says why below
      }
    }
    try {
      this.db = new BetterSqlite3(path);
    } catch (e) {
      throw new StoreError('DATABASE_UNAVAILABLE', 'unavailable', `cannot open SQLite database ${path}: ${(e as Error).message}`, {}, { cause: e });
    }
    this.description = `sqlite:${path}`;
    const journal = this.db.pragma('journal_mode = WAL', { simple: true });
    // FULL (the default): no commit is reported before it is on disk, so an issued certificate is never lost
    // to a power cut. In WAL mode the fsync is ours, off the main thread (WalSync): SQLite commits as with
    // NORMAL and the transaction's caller is answered once the WAL was fdatasync'ed. SQLite's own FULL would
    // fsync inside COMMIT, on the event loop: with 16 issuances in flight the process spent a fifth of its
    // time blocked there. JPKI_SQLITE_SYNCHRONOUS=NORMAL trades durability for speed (still crash-safe for
    // the process); any other value goes to SQLite as it is.
    const synchronous = process.env.JPKI_SQLITE_SYNCHRONOUS ?? 'FULL';
    if (synchronous.toUpperCase() === 'FULL' && journal === 'wal') {
      this.db.pragma('synchronous = NORMAL');
      this.walSync = new WalSync(`${path}-wal`);
    } else {
      this.db.pragma(`synchronous = ${synchronous}`);
    }
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // 64 MiB of page cache (the default is 2 MiB): with millions of residents and certificates, index pages
    // of random keys no longer fit in 2 MiB and every insert or lookup goes to the OS for pages (issue 12).
    this.db.pragma('cache_size = -65536');
  }

  /**
   * A second, read-only connection to the same file (undefined for an in-memory database, which another
   * connection cannot see). The OCSP responder reads its stored responses through one: each response it
   * reads would otherwise also stay in the writer's 64 MiB page cache, beside the responder's own copy in
   * memory (issue 12: resident memory ≤ baseline + 2 × the cached responses). Its reads see every committed
   * write.
   */
  openReader(): SqliteDatabase | undefined {
    return this.path === ':memory:' || this.path === '' ? undefined : new SqliteDatabase(this.path, { readOnly: true });
  }

  /**
   * A consistent copy of the database in `path` while it is in use: SQLite's online backup API (pages are
   * copied in steps; a write by this connection meanwhile restarts nothing, the copy is of one moment).
   */
  async backupTo(path: string): Promise<void> {
    await this.db.backup(path);
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

  private readonly arrayStatements = new Map<string, BetterSqlite3.Statement>();

  private prepareArrays(sql: string): BetterSqlite3.Statement {
    let st = this.arrayStatements.get(sql);
    if (!st) {
      st = this.db.prepare(sql).raw(true);
      this.arrayStatements.set(sql, st);
    }
    return st;
  }

  private readonly executor: SqlExecutor = {
    dialect: 'sqlite',
    queryArrays: async (sql: string, params?: readonly SqlValue[]) => this.prepareArrays(sql).all(...this.params(params)) as unknown[][],
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

  async queryArrays(sql: string, params?: readonly SqlValue[]): Promise<unknown[][]> {
    return this.executor.queryArrays(sql, params);
  }

  /** A lone write runs as its own small transaction, queued behind any open one. */
  async execute(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.transaction((tx) => tx.execute(sql, params));
  }

  /**
   * Transactions are group-committed: the ones that queue up while another is running share one
   * BEGIN … COMMIT (one fsync), each inside its own SAVEPOINT so that a failing one is rolled back alone
   * (a transaction that commits alone needs none).
   * Each caller's promise settles only after the shared COMMIT, so "resolved" still means "durable".
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    if (this.walSync?.failure) return Promise.reject(this.walSync.failure);
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.pending.length) {
        // One turn of the event loop first: work finishing meanwhile (signatures from the thread pool)
        // joins this commit instead of waiting for the next fsync.
        await new Promise((r) => setImmediate(r));
        // One commit per fdatasync: what queues while one runs commits together once it is done. A commit
        // made meanwhile would wait for the next fdatasync all the same, and every commit writes the pages it
        // touched into the WAL again — many small commits cost far more than one large one.
        while (this.walSync?.busy) await this.walSync.idle();
        const batch = this.pending.splice(0, MAX_GROUP);
        const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
        try {
          this.db.exec('BEGIN IMMEDIATE');
        } catch (e) {
          for (const t of batch) t.reject(e);
          continue;
        }
        // A lone transaction needs no savepoint (its failure rolls back the whole BEGIN): a savepoint copies
        // every page it touches into the sub-journal first, and the CA's batches usually commit alone.
        const alone = batch.length === 1;
        for (const t of batch) {
          if (!alone) this.db.exec('SAVEPOINT tx');
          try {
            const value = await t.fn(this.executor);
            if (!alone) this.db.exec('RELEASE tx');
            outcomes.push({ ok: true, value });
          } catch (error) {
            if (alone) {
              if (this.db.inTransaction) this.db.exec('ROLLBACK');
            } else {
              this.db.exec('ROLLBACK TO tx');
              this.db.exec('RELEASE tx');
            }
            outcomes.push({ ok: false, error });
          }
        }
        const lone = outcomes[0]!;
        if (alone && !lone.ok) {
          // the lone transaction failed and was rolled back whole: nothing to commit
          batch[0]!.reject(lone.error);
          continue;
        }
        let commitError: unknown;
        try {
          this.db.exec('COMMIT');
        } catch (e) {
          commitError = e;
          if (this.db.inTransaction) this.db.exec('ROLLBACK');
        }
        const settle = (error: unknown) =>
          batch.forEach((t, i) => {
            const o = outcomes[i]!;
            if (error !== undefined) t.reject(error);
            else if (o.ok) t.resolve(o.value);
            else t.reject(o.error);
          });
        if (commitError !== undefined || !this.walSync) {
          settle(commitError);
          if (commitError === undefined && outcomes.some((o) => o.ok)) this.emitCommit();
          continue;
        }
        // Answered once durable; the next batch is written meanwhile (its callers wait for a later fdatasync).
        this.walSync.flush().then(
          () => {
            settle(undefined);
            if (outcomes.some((o) => o.ok)) this.emitCommit();
          },
          (e: unknown) => settle(e),
        );
      }
    } finally {
      this.draining = false;
    }
  }

  /** Runs raw SQL (migrations), durably before it returns. */
  exec(sql: string): void {
    this.db.exec(sql);
    this.walSync?.flushSync();
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
    while (this.draining || this.pending.length) await new Promise((r) => setTimeout(r, 5));
    await this.walSync?.close();
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.listeners.clear();
    if (this.db.open) this.db.close();
  }
}

/**
 * The fsync of SQLite's FULL mode, done by us on the thread pool. SQLite runs with synchronous=NORMAL: a
 * COMMIT writes its frames to the WAL file (the OS's page cache) without syncing; `flush()` resolves once
 * an fdatasync of the WAL that began after the call has finished — then every frame written before the
 * call, the commit's and the WAL header's, is on disk (fsync covers the file, whichever descriptor asks).
 * Calls while one runs share the next one (group commit on the disk). Checkpoints stay SQLite's: with
 * NORMAL it syncs the WAL before copying it into the database and the database after.
 *
 * A failed fdatasync leaves durability unknown: the callers waiting for it fail, and so does every later
 * transaction (`failure`) — the database must be reopened, as PostgreSQL stops on a failed fsync.
 */
export class WalSync {
  private fd: number | undefined;
  private waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private running: Promise<void> | undefined;
  failure: StoreError | undefined;

  constructor(
    private readonly walPath: string,
    /** fdatasync(2) on the thread pool (replaceable in tests). */
    private readonly sync: (fd: number, done: (e: NodeJS.ErrnoException | null) => void) => void = fdatasync,
  ) {}

  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.next();
    });
  }

  /** True while an fdatasync runs. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Resolves when the fdatasync under way (if any) has finished. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** The same, blocking (migrations, before the service runs). */
  flushSync(): void {
    const fd = this.open();
    if (fd !== undefined) fdatasyncSync(fd);
  }

  /** Waits for the fdatasync under way, if any, then closes the file. */
  async close(): Promise<void> {
    while (this.running) await this.running;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private next(): void {
    if (this.running || this.waiting.length === 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    let done!: () => void;
    this.running = new Promise<void>((resolve) => (done = resolve));
    const finish = (e: unknown) => {
      if (e) {
        this.failure ??= new StoreError('DATABASE_UNAVAILABLE', 'unavailable', `fsync of ${this.walPath} failed: what was committed may not be on disk; reopen the database`, {}, { cause: e });
        for (const w of waiting) w.reject(this.failure);
      } else {
        for (const w of waiting) w.resolve();
      }
      this.running = undefined;
      done();
      this.next();
    };
    let fd: number | undefined;
    try {
      fd = this.open();
    } catch (e) {
      finish(e);
      return;
    }
    // no WAL file: nothing committed is in one (a checkpoint, which SQLite syncs, moved it into the database)
    if (fd === undefined) finish(undefined);
    else this.sync(fd, finish);
  }

  private open(): number | undefined {
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.walPath, 'r');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    }
    return this.fd;
  }
}
