import pg from 'pg';
import { toSqlParam, type Database, type ReadSession, type Row, type SqlExecutor, type SqlValue, type TransactionOptions } from './database.js';
import { StoreError } from './errors.js';

/** The channel every committed write transaction notifies (delivered by PostgreSQL at COMMIT). */
const CHANGE_CHANNEL = 'jpki_changes';

/** `?` placeholders → `$1…$n` (our SQL never has `?` inside string literals). */
function renumber(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** BIGINT (int8) as a JS number: our bigints are epoch milliseconds and counters, far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** A planner setting's name and value as SET LOCAL takes them (our own constants, checked all the same). */
const SETTING = /^[a-z_]+$/;

function executorFor(client: pg.Pool | pg.PoolClient): SqlExecutor {
  const run = async (sql: string, params?: readonly SqlValue[]) => {
    try {
      return await client.query(renumber(sql), params ? params.map(toSqlParam) : []);
    } catch (e) {
      throw translate(e);
    }
  };
  const self: SqlExecutor = {
    dialect: 'postgres',
    queryArrays: async (sql: string, params?: readonly SqlValue[]) => {
      try {
        const r = await client.query({ text: renumber(sql), values: params ? params.map(toSqlParam) : [], rowMode: 'array' });
        return r.rows as unknown[][];
      } catch (e) {
        throw translate(e);
      }
    },
    query: async <T extends Row>(sql: string, params?: readonly SqlValue[]) => (await run(sql, params)).rows as T[],
    queryOne: async <T extends Row>(sql: string, params?: readonly SqlValue[]) => (await run(sql, params)).rows[0] as T | undefined,
    execute: async (sql: string, params?: readonly SqlValue[]) => (await run(sql, params)).rowCount ?? 0,
    readSession: async (planner: Record<string, string> = {}): Promise<ReadSession> => {
      const settings = Object.entries(planner).map(([k, v]) => {
        if (!SETTING.test(k) || !SETTING.test(v)) throw new Error(`invalid planner setting ${k} = ${v}`);
        return `SET LOCAL ${k} = ${v}`;
      });
      // inside a transaction: that transaction is the session (its own settings stay as they are)
      if (!(client instanceof pg.Pool)) return { sql: self, share: async () => undefined, end: async () => undefined };
      const connect = async (): Promise<pg.PoolClient> => {
        try {
          return await client.connect();
        } catch (e) {
          throw translate(e);
        }
      };
      // a read-only snapshot transaction with the planner settings; `snapshot`: the one exported by the session
      const begin = async (on: pg.PoolClient, snapshot?: string) => {
        await on.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        // before any other statement of the transaction, as PostgreSQL requires
        if (snapshot !== undefined) await on.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
        for (const statement of settings) await on.query(statement);
      };
      const c = await connect();
      try {
        await begin(c);
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        c.release();
        throw translate(e);
      }
      let ended = false;
      let snapshot: Promise<string> | undefined;
      const shared: pg.PoolClient[] = [];
      const commit = async (on: pg.PoolClient) => {
        try {
          await on.query('COMMIT');
          on.release();
        } catch (e) {
          on.release(e as Error); // a connection that failed here is not given back to the pool
          throw translate(e);
        }
      };
      return {
        sql: executorFor(c),
        share: async () => {
          // never past half the pool, counting the connections in use and those asked for: the CRL updater
          // runs several CAs' passes at once, each also needing connections for its own transactions
          if (ended || client.totalCount - client.idleCount + client.waitingCount >= (client.options.max ?? 10) / 2) return undefined;
          // asked before anything else is queued on this connection (pg runs a client's queries in order)
          snapshot ??= c.query<{ id: string }>('SELECT pg_export_snapshot() AS id').then((r) => r.rows[0]!.id);
          snapshot.catch(() => undefined); // its failure is the share's, not an unhandled rejection
          const other = await connect();
          if (ended) {
            other.release();
            return undefined;
          }
          shared.push(other); // from here on, ended (committed and released) with the session
          try {
            const id = await snapshot;
            if (!/^[0-9A-F-]+$/.test(id)) throw new Error(`unexpected snapshot id ${JSON.stringify(id)}`);
            await begin(other, id);
          } catch (e) {
            throw translate(e);
          }
          return executorFor(other);
        },
        end: async () => {
          if (ended) return;
          ended = true;
          // the shared connections first: the snapshot they imported is this transaction's
          const results = await Promise.allSettled(shared.map(commit));
          await commit(c);
          const failed = results.find((r) => r.status === 'rejected');
          if (failed) throw failed.reason;
        },
      };
    },
  };
  return self;
}

function translate(e: unknown): unknown {
  const code = (e as { code?: string }).code;
  // A NUL or an invalid character in a text value someone sent (found by fuzzing): their input, not our fault.
  if (code === '22021' || code === '22P05')
    return new StoreError('DATABASE_VALUE_INVALID', 'malformed', 'a value holds a character the database cannot keep (NUL or an invalid one)', {}, { cause: e });
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '57P01' || code === '3D000')
    return new StoreError('DATABASE_UNAVAILABLE', 'unavailable', `PostgreSQL is not reachable: ${(e as Error).message}`, {}, { cause: e });
  return e;
}

/**
 * PostgreSQL through a pg Pool (the production store). `?schema=NAME` in the URL (our own parameter, removed
 * before connecting) puts every table in that schema — one database can hold several installations or
 * test runs side by side.
 */
export class PostgresDatabase implements Database {
  readonly dialect = 'postgres' as const;
  readonly description: string;
  private readonly pool: pg.Pool;
  private readonly executor: SqlExecutor;
  private readonly listeners = new Set<() => void>();
  private listenClient: pg.Client | undefined;
  private listenStarting: Promise<void> | undefined;
  private closed = false;
  private pollTimer: NodeJS.Timeout | undefined;
  readonly schema: string | undefined;
  /**
   * Set for a streaming replica (`openReplica`): NOTIFY does not reach a standby and LISTEN is refused there,
   * so `onCommit` listeners are called every `pollMs` instead, and readers look for what is new.
   */
  private pollMs: number | undefined;

  private constructor(
    private readonly connectionString: string,
    schema: string | undefined,
  ) {
    this.schema = schema;
    const safe = new URL(connectionString);
    safe.password = safe.password ? '***' : '';
    this.description = `${safe.toString()}${schema ? ` (schema ${schema})` : ''}`;
    this.pool = new pg.Pool({
      connectionString,
      types,
      max: 10,
      options: schema ? `-c search_path=${schema}` : undefined,
    });
    // An idle client that loses its server connection must not crash the process.
    this.pool.on('error', () => undefined);
    this.executor = executorFor(this.pool);
  }

  static async open(url: string, options: { replica?: boolean } = {}): Promise<PostgresDatabase> {
    const u = new URL(url);
    const schema = u.searchParams.get('schema') ?? undefined;
    u.searchParams.delete('schema');
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
      throw new StoreError('DATABASE_URL_INVALID', 'malformed', `invalid schema name ${JSON.stringify(schema)} (lower-case letters, digits, _)`);
    const db = new PostgresDatabase(u.toString(), schema);
    try {
      // a standby refuses any write, CREATE SCHEMA IF NOT EXISTS too: the primary made the schema
      if (schema && !options.replica) await db.pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      else await db.pool.query('SELECT 1');
    } catch (e) {
      await db.pool.end().catch(() => undefined);
      throw translate(e);
    }
    return db;
  }

  /**
   * A streaming replica (hot standby) to read from: no migrations, no writes, and commits found by polling
   * every `pollMs` (a status change is then seen within pollMs + the replication delay).
   */
  static async openReplica(url: string, pollMs = 200): Promise<PostgresDatabase> {
    const db = await PostgresDatabase.open(url, { replica: true });
    db.pollMs = pollMs;
    return db;
  }

  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.executor.query<T>(sql, params);
  }

  queryOne<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.executor.queryOne<T>(sql, params);
  }

  queryArrays(sql: string, params?: readonly SqlValue[]): Promise<unknown[][]> {
    return this.executor.queryArrays(sql, params);
  }

  async execute(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.transaction((tx) => tx.execute(sql, params));
  }

  readSession(planner?: Record<string, string>): Promise<ReadSession> {
    return this.executor.readSession!(planner);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return this.inTransaction('BEGIN', fn, options.announce === false ? undefined : `SELECT pg_notify('${CHANGE_CHANNEL}', '')`);
  }

  /**
   * Runs `fn` in one read-only REPEATABLE READ transaction: every query sees the same snapshot of the database,
   * whatever commits meanwhile (a consistent backup while the service runs).
   */
  async snapshot<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn);
  }

  /** One transaction on a pooled connection: `begin`, `fn`, then `beforeCommit` (if any) and COMMIT; ROLLBACK on failure. */
  private async inTransaction<T>(begin: string, fn: (tx: SqlExecutor) => Promise<T>, beforeCommit?: string): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw translate(e);
    }
    try {
      await client.query(begin);
      const result = await fn(executorFor(client));
      if (beforeCommit) await client.query(beforeCommit);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /** Raw multi-statement SQL (migrations). */
  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  onCommit(listener: () => void): () => void {
    this.listeners.add(listener);
    if (this.pollMs !== undefined) {
      if (!this.pollTimer) {
        this.pollTimer = setInterval(() => this.emit(), this.pollMs);
        this.pollTimer.unref();
      }
      return () => {
        this.listeners.delete(listener);
      };
    }
    if (!this.listenClient && !this.listenStarting) this.listenStarting = this.startListening();
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Resolves once LISTEN is active (tests wait on it before writing from another process). */
  async ready(): Promise<void> {
    await this.listenStarting;
  }

  private async startListening(): Promise<void> {
    while (!this.closed) {
      const client = new pg.Client({ connectionString: this.connectionString, types });
      try {
        await client.connect();
        client.on('notification', () => this.emit());
        await client.query(`LISTEN ${CHANGE_CHANNEL}`);
        this.listenClient = client;
        // On a lost connection, listen again; anything committed meanwhile is announced by one emit.
        client.on('error', () => undefined);
        client.on('end', () => {
          this.listenClient = undefined;
          if (!this.closed) {
            this.listenStarting = this.startListening();
            this.emit();
          }
        });
        return;
      } catch {
        await client.end().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private emit(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        // a listener's failure is its own business
      }
    }
  }

  /** Drops the schema given in the URL with everything in it (test clean-up). */
  async dropSchema(): Promise<void> {
    if (this.schema) await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.listeners.clear();
    await this.listenClient?.end().catch(() => undefined);
    await this.pool.end();
  }
}
