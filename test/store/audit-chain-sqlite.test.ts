/**
 * On SQLite a change's audit records join the hash chain inside the change's own transaction (SQLite's
 * writers take turns anyway), not through the inbox: nothing is pending after the commit, a rolled-back
 * change leaves no record and no broken link, and records an earlier version left in the inbox are chained
 * first (src/store/audit-log.ts, appendToChain).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';

let store: Store;
beforeEach(async () => {
  store = await openStore(':memory:');
});
afterEach(async () => {
  await store.close();
});

describe('SQLite audit chain appends', () => {
  it('a committed change is in the chain at once, nothing waits in the inbox', async () => {
    await store.transaction((tx) => tx.recordAll([{ actor: 'cli', action: 'a', target: 'one' }, { actor: 'cli', action: 'a', target: 'two', details: { z: 1, a: [null, 'x'] } }]));
    await store.record({ actor: 'cli', action: 'a', target: 'three' });
    expect(await store.audit.pending()).toBe(0);
    expect((await store.audit.head()).seq).toBe(3);
    const rows = await store.db.query<{ seq: number; target: string }>('SELECT seq, target FROM audit_log ORDER BY seq');
    expect(rows.map((r) => r.target)).toEqual(['one', 'two', 'three']);
    expect(await store.audit.verify()).toMatchObject({ ok: true, records: 3 });
  });

  it('a rolled-back change leaves no record and the next one links to the last kept', async () => {
    await store.transaction((tx) => tx.record({ actor: 'cli', action: 'a', target: 'kept' }));
    await store
      .transaction(async (tx) => {
        await tx.record({ actor: 'cli', action: 'a', target: 'rolled-back' });
        throw new Error('the change failed');
      })
      .catch(() => undefined);
    // transactions committed together (one group commit) each read the head the one before wrote
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.transaction((tx) => tx.record({ actor: 'cli', action: 'a', target: `c${i}` }))));
    const targets = (await store.audit.list()).map((r) => r.target);
    expect(targets).not.toContain('rolled-back');
    expect(targets).toHaveLength(11);
    expect(await store.audit.verify()).toMatchObject({ ok: true, records: 11 });
  });

  it('chains what an earlier version left in the inbox before the new records', async () => {
    await store.record({ actor: 'cli', action: 'a', target: 'first' });
    await store.db.execute(`INSERT INTO audit_inbox (at, actor, action, target, details) VALUES (1, 'old', 'a', 'left-1', '{}'), (2, 'old', 'a', 'left-2', '{}')`);
    await store.transaction((tx) => tx.record({ actor: 'cli', action: 'a', target: 'after' }));
    expect(await store.audit.pending()).toBe(0);
    expect((await store.audit.list()).map((r) => r.target)).toEqual(['first', 'left-1', 'left-2', 'after']);
    expect(await store.audit.verify()).toMatchObject({ ok: true, records: 4 });
  });
});
