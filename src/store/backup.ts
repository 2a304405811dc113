import { createReadStream, createWriteStream, copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { createGunzip, createGzip, constants as zlib } from 'node:zlib';
import BetterSqlite3 from 'better-sqlite3';
import type { SqlExecutor, SqlValue } from './database.js';
import { StoreError } from './errors.js';
import { isPostgresUrl, type Store } from './index.js';
import { migrate } from './migrate.js';
import type { PostgresDatabase } from './postgres.js';
import type { SqliteDatabase } from './sqlite.js';

/**
 * A consistent snapshot of the store, taken while the service runs, and its restore (issue 12).
 *
 * - SQLite: the online backup API (better-sqlite3 `backup`) copies the database file as of one moment, into
 *   `database.sqlite`.
 * - PostgreSQL: every table is read in one READ ONLY, REPEATABLE READ transaction (one snapshot for all of
 *   them: what `pg_dump` does) through server-side cursors, into `tables/<table>.ndjson.gz` — a first line with
 *   the columns, then one JSON array per row (bytes as `{"b64": …}`).
 *
 * Either can be restored into either database: a SQLite file into SQLite is copied as it is; otherwise the
 * rows are loaded in one transaction into a freshly migrated, empty store, parents before children, and the
 * PostgreSQL id sequences are set past the highest id.
 */

export interface TableSnapshot {
  name: string;
  rows: number;
}

export interface DatabaseSnapshot {
  dialect: 'sqlite' | 'postgres';
  /** The migrations applied in the snapshot (the schema it needs). */
  migrations: number[];
  tables: TableSnapshot[];
  /** Where it is in the backup folder: database.sqlite, or tables/. */
  file: string;
}

const FETCH = 5000;

type DumpValue = string | number | null | { b64: string };

function encode(v: unknown): DumpValue {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { b64: Buffer.from(v).toString('base64') };
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' || typeof v === 'string') return v;
  return String(v);
}

function decode(v: DumpValue): SqlValue {
  if (v !== null && typeof v === 'object') return Buffer.from(v.b64, 'base64');
  return v;
}

const ident = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new StoreError('BACKUP_INVALID', 'malformed', `not a table or column name: ${JSON.stringify(name)}`);
  return `"${name}"`;
};

/** The store's tables (ours: no SQLite internals), by name. */
async function tableNames(sql: SqlExecutor): Promise<string[]> {
  const rows =
    sql.dialect === 'sqlite'
      ? await sql.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      : await sql.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name");
  return rows.map((r) => r.name);
}

/** Writes a snapshot of `store` into the folder `dir` (created). */
export async function snapshotStore(store: Store, dir: string): Promise<DatabaseSnapshot> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const db = store.db as SqliteDatabase | PostgresDatabase;
  if (db.dialect === 'sqlite') {
    const file = join(dir, 'database.sqlite');
    await (db as SqliteDatabase).backupTo(file);
    // what the copy holds, read from the copy itself
    const copy = new BetterSqlite3(file, { readonly: true });
    try {
      const names = (copy.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
      const tables = names.map((name) => ({ name, rows: Number((copy.prepare(`SELECT COUNT(*) AS n FROM ${ident(name)}`).get() as { n: number }).n) }));
      const migrations = (copy.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => Number(r.version));
      return { dialect: 'sqlite', migrations, tables, file: 'database.sqlite' };
    } finally {
      copy.close();
    }
  }
  const tablesDir = join(dir, 'tables');
  mkdirSync(tablesDir, { recursive: true, mode: 0o700 });
  return (db as PostgresDatabase).snapshot(async (tx) => {
    const tables: TableSnapshot[] = [];
    for (const name of await tableNames(tx)) {
      const out = createGzip({ level: zlib.Z_BEST_SPEED });
      const file = createWriteStream(join(tablesDir, `${name}.ndjson.gz`), { mode: 0o600 });
      out.pipe(file);
      const write = async (line: string) => {
        if (!out.write(line)) await once(out, 'drain');
      };
      const columns = (await tx.query<{ column_name: string }>('SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position', [name])).map(
        (r) => r.column_name,
      );
      await write(`${JSON.stringify({ columns })}\n`);
      let rows = 0;
      await tx.execute(`DECLARE jpki_backup NO SCROLL CURSOR FOR SELECT ${columns.map(ident).join(', ')} FROM ${ident(name)}`);
      for (;;) {
        const batch = await tx.queryArrays(`FETCH ${FETCH} FROM jpki_backup`);
        if (batch.length === 0) break;
        let chunk = '';
        for (const r of batch) chunk += `${JSON.stringify(r.map(encode))}\n`;
        await write(chunk);
        rows += batch.length;
      }
      await tx.execute('CLOSE jpki_backup');
      out.end();
      await once(file, 'close');
      tables.push({ name, rows });
    }
    const migrations = (await tx.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => Number(r.version));
    return { dialect: 'postgres' as const, migrations, tables, file: 'tables' };
  });
}

/** Rows of one table of a snapshot, a batch at a time. */
type RowSource = { columns: string[]; batches: AsyncGenerator<SqlValue[][]> };

function sqliteRows(file: string, table: string): RowSource {
  const copy = new BetterSqlite3(file, { readonly: true });
  const columns = (copy.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((r) => r.name);
  async function* batches(): AsyncGenerator<SqlValue[][]> {
    try {
      let batch: SqlValue[][] = [];
      for (const r of copy.prepare(`SELECT ${columns.map(ident).join(', ')} FROM ${ident(table)}`).raw(true).iterate() as Iterable<SqlValue[]>) {
        batch.push(r);
        if (batch.length >= 500) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
    } finally {
      copy.close();
    }
  }
  return { columns, batches: batches() };
}

async function ndjsonRows(file: string): Promise<RowSource> {
  const lines = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new StoreError('BACKUP_INVALID', 'malformed', `${file} is empty`);
  const { columns } = JSON.parse(first.value) as { columns: string[] };
  async function* batches(): AsyncGenerator<SqlValue[][]> {
    let batch: SqlValue[][] = [];
    for (let l = await lines.next(); !l.done; l = await lines.next()) {
      if (!l.value) continue;
      batch.push((JSON.parse(l.value) as DumpValue[]).map(decode));
      if (batch.length >= 500) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }
  return { columns, batches: batches() };
}

/** Tables ordered parents first (by the target's foreign keys). */
async function loadOrder(sql: SqlExecutor, names: readonly string[]): Promise<string[]> {
  const parents = new Map<string, Set<string>>(names.map((n) => [n, new Set()]));
  for (const n of names) {
    const refs =
      sql.dialect === 'sqlite'
        ? await sql.query<{ ref: string }>('SELECT "table" AS ref FROM pragma_foreign_key_list(?)', [n])
        : await sql.query<{ ref: string }>(
            `SELECT DISTINCT ccu.table_name AS ref FROM information_schema.table_constraints tc
             JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name AND ccu.constraint_schema = tc.constraint_schema
             WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() AND tc.table_name = ?`,
            [n],
          );
    for (const r of refs) if (r.ref !== n && parents.has(r.ref)) parents.get(n)!.add(r.ref);
  }
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const p of parents.get(n) ?? []) visit(p);
    out.push(n);
  };
  for (const n of names) visit(n);
  return out;
}

/**
 * Loads a snapshot into `store`, which must be freshly opened (migrated) and hold nothing of its own yet.
 * One transaction: the store ends up with everything or nothing. Returns the rows loaded per table.
 */
export async function loadSnapshot(db: SqliteDatabase | PostgresDatabase, dir: string, snapshot: DatabaseSnapshot, onTable?: (name: string, rows: number) => void): Promise<Record<string, number>> {
  const here = (await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => Number(r.version));
  if (here.join(',') !== snapshot.migrations.join(','))
    throw new StoreError(
      'BACKUP_SCHEMA_MISMATCH',
      'conflict',
      `the backup's schema (migrations ${snapshot.migrations.join(', ')}) is not this version's (${here.join(', ')}): restore it with the jpki version that made it, then upgrade`,
    );
  const targetTables = new Set(await tableNames(db));
  const names = snapshot.tables.map((t) => t.name).filter((n) => n !== 'schema_migrations');
  for (const n of names) if (!targetTables.has(n)) throw new StoreError('BACKUP_SCHEMA_MISMATCH', 'conflict', `the backup has a table ${n} this version does not`);
  const counts: Record<string, number> = {};
  await db.transaction(async (tx) => {
    const order = await loadOrder(tx, names);
    // whatever the migrations seeded goes: the backup is the whole truth (children first)
    for (const n of [...order].reverse()) await tx.execute(`DELETE FROM ${ident(n)}`);
    for (const n of order) {
      const source = snapshot.file === 'database.sqlite' ? sqliteRows(join(dir, snapshot.file), n) : await ndjsonRows(join(dir, 'tables', `${n}.ndjson.gz`));
      const cols = source.columns.map(ident).join(', ');
      let rows = 0;
      for await (const batch of source.batches) {
        const one = `(${source.columns.map(() => '?').join(', ')})`;
        await tx.execute(`INSERT INTO ${ident(n)} (${cols}) VALUES ${batch.map(() => one).join(', ')}`, batch.flat());
        rows += batch.length;
      }
      counts[n] = rows;
      onTable?.(n, rows);
    }
    if (tx.dialect === 'postgres') {
      const serials = await tx.query<{ table_name: string; column_name: string }>(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'",
      );
      for (const s of serials)
        await tx.query(
          `SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT MAX(${ident(s.column_name)}) FROM ${ident(s.table_name)}), 0) + 1, false)`,
          [s.table_name, s.column_name],
        );
    }
  });
  return counts;
}

/**
 * The database at `url`, migrated, without a store around it: a restore loads rows as they were, and a store's
 * audit writer would chain the pending audit records while it does.
 */
export async function openBareDatabase(url: string): Promise<SqliteDatabase | PostgresDatabase> {
  const db = isPostgresUrl(url) ? await (await import('./postgres.js')).PostgresDatabase.open(url) : new (await import('./sqlite.js')).SqliteDatabase(url.replace(/^sqlite:/, ''));
  try {
    await migrate(db);
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}

/** A SQLite snapshot restored into a SQLite file: the copy as it is (nothing to convert). */
export function copySqliteSnapshot(dir: string, snapshot: DatabaseSnapshot, target: string): void {
  if (snapshot.file !== 'database.sqlite') throw new StoreError('BACKUP_INVALID', 'malformed', 'not a SQLite snapshot');
  mkdirSync(join(target, '..'), { recursive: true, mode: 0o700 });
  copyFileSync(join(dir, snapshot.file), target);
}
