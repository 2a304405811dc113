/**
 * The PostgreSQL ledger batch (migration 079): an issuance's signed entry is moved on from 'reserved' by its
 * primary key, so a batch's work does not grow with the entries reserved before it. Migration 077's single
 * UPDATE … FROM the batch WHERE … state = 'reserved' let the planner read the open-entries index on
 * state = 'reserved' instead, where every entry ever reserved leaves a dead 'reserved' index entry until a
 * VACUUM: after 40,000 issuances on a server without autovacuum (like this machine's) each batch read 20,000
 * of them and the server's CPU per issuance doubled. Measured with the server's own per-transaction counters
 * (`pg_stat_get_xact_tuples_returned` of the index), on a statement that moves an entry that is not there.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import pg from 'pg';
import { PostgresDatabase } from '../../src/store/postgres.js';
import { postgresAvailable } from '../support/stores.js';
import { needs, POSTGRES_URL } from '../support/system.js';
import { createTestInstallation, type TestInstallation } from '../support/installation.js';

const FACTS = { name: '公的　一郎', dateOfBirth: '1977-11-07', sex: '1', address: '東京都港区虎ノ門5丁目' };
const hasPostgres = needs('PostgreSQL on 127.0.0.1:5432', await postgresAvailable());

describe.runIf(hasPostgres)('the ledger batch on PostgreSQL', () => {
  let t: TestInstallation;
  let client: pg.Client;
  beforeAll(async () => {
    t = await createTestInstallation({ storeKind: 'postgres', prefectures: ['13'] });
    const schema = (t.services.store.db as PostgresDatabase).schema!;
    client = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await t?.cleanup();
  });

  /** Index entries read by one batch that moves a (missing) entry on, counted inside its own transaction. */
  async function openIndexReadsOfOneBatch(): Promise<{ open: number; primary: number; moved: unknown }> {
    await client.query('BEGIN');
    try {
      const moved = (await client.query(`SELECT jpki_ledger_apply('[]'::jsonb, '[{"ledgerId": -1, "to": "signed"}]'::jsonb, '{}'::bytea[], 0) AS r`)).rows[0].r;
      const reads = await client.query<{ open: string; primary: string }>(
        `SELECT pg_stat_get_xact_tuples_returned('ca_ledger_open'::regclass) AS open, pg_stat_get_xact_numscans('ca_ledger_pkey'::regclass) AS primary`,
      );
      return { open: Number(reads.rows[0]!.open), primary: Number(reads.rows[0]!.primary), moved };
    } finally {
      await client.query('ROLLBACK');
    }
  }

  it('moves signed entries on by primary key, reading none of the entries reserved before', async () => {
    const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
    // 300 issuances, 16 in flight: each leaves a dead 'reserved' entry in the open-entries index (no VACUUM)
    let left = 300;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (left-- > 0) await t.services.ca.issue({ prefecture: '13', kind: 'sign', publicKey: { spki }, facts: FACTS, municipality: '13103', actor: 'test' });
      }),
    );
    const counts = await t.services.store.ledger.counts();
    expect(counts.reserved).toBe(0);
    expect(counts.confirmed).toBeGreaterThanOrEqual(300);
    const reads = await openIndexReadsOfOneBatch();
    expect(reads.moved).toEqual({ reserved: [], stored: [] });
    expect(reads.open).toBe(0);
    expect(reads.primary).toBe(1);
  });
});
