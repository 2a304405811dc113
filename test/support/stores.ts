import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/index.js';
import type { Clock } from '../../src/common/clock.js';
import { PostgresDatabase } from '../../src/store/postgres.js';
import { needs, POSTGRES_URL } from './system.js';

let pgAvailable: boolean | undefined;

/** Whether the PostgreSQL of the machine (127.0.0.1:5432, trust auth, database test) answers. */
export async function postgresAvailable(): Promise<boolean> {
  if (pgAvailable === undefined) {
    const c = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      pgAvailable = true;
    } catch {
      pgAvailable = false;
    } finally {
      await c.end().catch(() => undefined);
    }
  }
  return pgAvailable;
}

/** The two stores every store-backed test runs on. PostgreSQL gets a fresh schema per store. */
export const STORE_KINDS = ['sqlite', 'postgres'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** A URL for a fresh, empty store of this kind (PostgreSQL: a new schema in database test). */
export function freshStoreUrl(kind: StoreKind, sqlitePath = ':memory:'): string {
  if (kind === 'sqlite') return sqlitePath;
  const u = new URL(POSTGRES_URL);
  u.searchParams.set('schema', `t_${randomBytes(6).toString('hex')}`);
  return u.toString();
}

/** Opens a fresh store, or returns undefined when PostgreSQL is missing outside CI (fails under CI). */
export async function openTestStore(kind: StoreKind, options: { clock?: Clock; sqlitePath?: string } = {}): Promise<Store | undefined> {
  if (kind === 'postgres' && !needs('PostgreSQL on 127.0.0.1:5432', await postgresAvailable())) return undefined;
  return openStore(freshStoreUrl(kind, options.sqlitePath), options.clock ? { clock: options.clock } : {});
}

/** Closes a test store, dropping its PostgreSQL schema. */
export async function disposeTestStore(store: Store | undefined): Promise<void> {
  if (!store) return;
  // Close first: nothing still running in the store may race the DROP (a deadlock otherwise).
  const schema = store.db instanceof PostgresDatabase ? store.db.schema : undefined;
  await store.close();
  if (schema) await dropSchemaNamed(schema);
}

/** The store kinds this machine can run: PostgreSQL is left out (with a warning) only outside CI. */
export async function availableStoreKinds(): Promise<StoreKind[]> {
  return needs('PostgreSQL on 127.0.0.1:5432', await postgresAvailable()) ? ['sqlite', 'postgres'] : ['sqlite'];
}

/** Drops the schema a freshStoreUrl('postgres') URL names (for stores opened by a child process). */
export async function dropSchemaOf(url: string): Promise<void> {
  const schema = new URL(url).searchParams.get('schema');
  if (schema) await dropSchemaNamed(schema);
}

/** Drops one test schema through a connection of its own (the store that used it is closed by then). */
export async function dropSchemaNamed(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: POSTGRES_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await c.end();
  }
}
