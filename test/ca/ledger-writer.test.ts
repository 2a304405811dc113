/**
 * The ledger's group commit (src/ca/ledger.ts): how many batches are under way at once — one, on both
 * stores. On SQLite a batch commits alone (no SAVEPOINT per batch inside a shared BEGIN … COMMIT); on
 * PostgreSQL fewer, larger batches cost the CPU-bound server less per issuance than overlapping ones. What
 * arrives while a batch is written goes into the next, in as few batches as the arrivals allow. Every
 * reservation still resolves with its own id, durably.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { LedgerWriter } from '../../src/ca/ledger.js';
import type { NewLedgerEntry } from '../../src/store/index.js';
import { availableStoreKinds } from '../support/stores.js';
import { createTestInstallation, type TestInstallation } from '../support/installation.js';

const kinds = await availableStoreKinds();

describe.each(kinds)('the ledger writer on %s', (storeKind) => {
  let t: TestInstallation;
  beforeAll(async () => {
    t = await createTestInstallation({ storeKind, prefectures: ['13'] });
  });
  afterAll(async () => t?.cleanup());

  it('keeps one batch under way, groups what arrives meanwhile, and every reservation gets its own durable entry', async () => {
    const store = t.services.store;
    let now = 0;
    let most = 0;
    let batches = 0;
    const counted = <T>(p: Promise<T>): Promise<T> => {
      batches++;
      most = Math.max(most, ++now);
      return p.finally(() => now--);
    };
    // the writer's view of the store, counting what it has under way (transactions on SQLite, one-statement
    // batches on PostgreSQL); the work itself is the real store's
    const ledger = Object.create(store.ledger) as typeof store.ledger;
    ledger.applyBatch = (...a) => counted(store.ledger.applyBatch(...a));
    const writer = new LedgerWriter({ ledger, transaction: (fn) => counted(store.transaction(fn)) }, t.clock);
    const at = t.clock.now().getTime();
    const entry = (): NewLedgerEntry => ({
      caId: 'pref-13',
      kind: 'certificate',
      serial: randomBytes(16).toString('hex'),
      purpose: 'auth',
      subject: null,
      tbsHash: randomBytes(32).toString('hex'),
      actor: 'test',
      reservedAt: at,
      deadline: at + 60_000,
    });
    // arrivals spread over several turns of the event loop, as signatures finishing on the thread pool come in
    const entries = Array.from({ length: 120 }, entry);
    const ids = await Promise.all(
      entries.map(async (e, i) => {
        if (i % 8 === 0) await new Promise((r) => setImmediate(r));
        return writer.reserve(e, { actor: 'test', action: 'certificate.reserve', target: `pref-13/${e.serial}` });
      }),
    );
    expect(new Set(ids).size).toBe(entries.length);
    for (const [i, id] of ids.entries()) expect(await store.ledger.get(id!)).toMatchObject({ serial: entries[i]!.serial, state: 'reserved' });
    expect(most).toBe(1);
    // 15 turns of arrivals: grouped, not one batch per reservation (nor per turn, once a batch is under way)
    expect(batches).toBeGreaterThan(1);
    expect(batches).toBeLessThan(15);
  });
});
