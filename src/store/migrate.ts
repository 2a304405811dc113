import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../common/project-root.js';
import type { Dialect } from './database.js';
import type { SqliteDatabase } from './sqlite.js';
import type { PostgresDatabase } from './postgres.js';

const MIGRATIONS_DIR = join(PROJECT_ROOT, 'src', 'store', 'migrations');

const TOKENS: Record<Dialect, Record<string, string>> = {
  sqlite: { BLOB: 'BLOB', BIGINT: 'INTEGER', AUTOID: 'INTEGER PRIMARY KEY AUTOINCREMENT' },
  postgres: { BLOB: 'BYTEA', BIGINT: 'BIGINT', AUTOID: 'BIGSERIAL PRIMARY KEY' },
};

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /**
   * Run as one script, not split at semicolons (`NNN-name.postgres.sql`: PostgreSQL functions, whose bodies
   * hold semicolons). Such a file is PostgreSQL's only; on SQLite its version is recorded with nothing to do.
   */
  whole?: boolean;
}

const DIALECT_ONLY = /\.(postgres|sqlite)\.sql$/;

/** The numbered migrations (`NNN-name.sql`, shared by both databases; `NNN-name.postgres.sql`, one's own), in order. */
export function loadMigrations(dialect: Dialect): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}-.+\.sql$/.test(f))
    .sort()
    .map((f) => {
      const only = DIALECT_ONLY.exec(f)?.[1];
      const name = f.slice(4).replace(DIALECT_ONLY, '').replace(/\.sql$/, '');
      if (only && only !== dialect) return { version: Number(f.slice(0, 3)), name, sql: '' };
      return {
        version: Number(f.slice(0, 3)),
        name,
        ...(only ? { whole: true } : {}),
        sql: readFileSync(join(MIGRATIONS_DIR, f), 'utf8').replace(/\{\{(\w+)\}\}/g, (_, t: string) => {
          const v = TOKENS[dialect][t];
          if (!v) throw new Error(`unknown migration token {{${t}}} in ${f}`);
          return v;
        }),
      };
    });
}

const LEDGER = 'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)';

/** Applies the migrations not yet applied, each in its own transaction. Returns the versions applied. */
export async function migrate(db: SqliteDatabase | PostgresDatabase, now = Date.now()): Promise<number[]> {
  const applied: number[] = [];
  if (db.dialect === 'sqlite') {
    db.exec(LEDGER);
  } else {
    await db.exec(LEDGER);
  }
  for (const m of loadMigrations(db.dialect)) {
    const done = await db.transaction(async (tx) => {
      // PostgreSQL: two processes starting at once must not both migrate.
      if (tx.dialect === 'postgres') await tx.execute('SELECT pg_advisory_xact_lock(4242001)');
      const row = await tx.queryOne('SELECT version FROM schema_migrations WHERE version = ?', [m.version]);
      if (row) return false;
      // a whole script goes as one simple-protocol query (no parameters), which may hold several statements
      if (m.whole) await tx.execute(m.sql);
      else for (const statement of splitStatements(m.sql)) await tx.execute(statement);
      await tx.execute('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, now]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}

/** Splits a migration file into statements (our migrations hold no semicolons inside literals). */
function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((l) => !l.trim().startsWith('--'))
    .join('\n')
    .split(';')
    .map((s) => s.replace(/--.*$/gm, '').trim())
    .filter(Boolean);
}
