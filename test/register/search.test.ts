/**
 * The counter's resident search at scale (issue 12): the order a search lists residents in (the order the
 * register entered them) now comes from an index (migration 072) instead of a subquery per resident found;
 * the results must stay what they were.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { FixedClock } from '../../src/common/clock.js';
import { ResidentRegister, type NewResident } from '../../src/register/index.js';
import { residentSearchQuery, type ResidentSearch } from '../../src/store/residents.js';
import { loadMigrations } from '../../src/store/migrate.js';
import { scoped, type Store } from '../../src/store/index.js';
import { availableStoreKinds, disposeTestStore, openTestStore, type StoreKind } from '../support/stores.js';

const kinds = await availableStoreKinds();

const PLACES = [
  ['東京都港区虎ノ門', '13103'],
  ['北海道札幌市中央区北1条西', '01101'],
  ['東京都西多摩郡奥多摩町氷川', '13308'],
] as const;

function resident(i: number, surname = i % 4 ? '住民' : '公的'): NewResident {
  const [address, municipality] = PLACES[i % PLACES.length]!;
  return { name: `${surname} ${i}号`, dateOfBirth: `19${50 + (i % 40)}-0${1 + (i % 9)}-1${i % 10}`, sex: String(1 + (i % 2)), address: `${address}${1 + (i % 9)}丁目`, municipality };
}

/** The search as it was written before migration 072: the first event looked up per resident. */
async function searchBefore(store: Store, q: ResidentSearch): Promise<string[]> {
  const { sql, params } = residentSearchQuery(q);
  const before = sql.replace('first_event_id', '(SELECT MIN(e.id) FROM resident_events e WHERE e.resident_id = residents.id)');
  expect(before).not.toBe(sql);
  return (await store.sql.query<{ id: string }>(before, params)).map((r) => r.id);
}

describe.each(kinds)('the resident search (%s)', (storeKind: StoreKind) => {
  let store: Store;
  let register: ResidentRegister;
  const clock = new FixedClock('2026-04-01T01:00:00Z');
  /** Resident ids in the order they were entered. */
  const entered: string[] = [];

  beforeAll(async () => {
    store = (await openTestStore(storeKind, { clock }))!;
    register = new ResidentRegister({ store: scoped(store, ['residents', 'record']), clock });
    // one by one, several in the same millisecond (their random ids sort otherwise), in batches, and imported
    for (let i = 0; i < 12; i++) {
      entered.push((await register.add(resident(i), 'test')).id);
      if (i % 5 === 4) clock.advance(1);
    }
    entered.push(...(await register.addAll(Array.from({ length: 9 }, (_, k) => resident(12 + k)), 'test')).map((r) => r.id));
    clock.advance(1000);
    const rows = Array.from({ length: 10 }, (_, k) => resident(21 + k)).map((r) => `${r.name},${r.dateOfBirth},${r.sex},${r.address},${r.municipality},`);
    await register.importCsv(`name,birth,sex,address,municipality,record_code\n${rows.join('\n')}\n`, 'test', { batchSize: 4 });
    const imported = (await store.sql.query<{ id: string }>("SELECT id FROM residents WHERE name LIKE '%号' ORDER BY first_event_id")).map((r) => r.id).filter((id) => !entered.includes(id));
    entered.push(...imported);
    // a move keeps the resident's place in the order of entry (its first event does not change)
    clock.advance(1000);
    await register.move(entered[0]!, { address: '北海道札幌市中央区北1条西9丁目', municipality: '01101', effectiveOn: '2026-04-01' }, 'test');
  });
  afterAll(async () => disposeTestStore(store));

  it('lists residents in the order they were entered, whatever their ids', async () => {
    expect(entered).toHaveLength(31);
    const all = (await register.search({ limit: 100 })).map((r) => r.id);
    const byMunicipality = [...PLACES.map((p) => p[1])].sort().flatMap((m) => entered.filter((id) => (id === entered[0] ? '01101' : resident(entered.indexOf(id)).municipality) === m));
    expect(all).toEqual(byMunicipality);
    expect([...all].sort()).not.toEqual(all); // the ids alone would give another order
  });

  it('finds the same residents in the same order as before migration 072, page by page', async () => {
    const queries: ResidentSearch[] = [
      {},
      { municipality: '13103' },
      { municipality: '13103', text: '住民' },
      { municipality: '13103', text: '住民', limit: 3, offset: 2 },
      { municipality: '01101', text: '公的' },
      { municipality: '13308', text: '住民 2' },
      { text: '号', limit: 7, offset: 5 },
      { text: '住民　13号' },
      { text: entered[3]! },
      { municipality: '13103', dateOfBirth: resident(3).dateOfBirth },
      { municipality: '99999', text: '住民' },
    ];
    for (const q of queries) {
      const now = (await register.search(q)).map((r) => r.id);
      expect(now, JSON.stringify(q)).toEqual(await searchBefore(store, q));
      if (q.municipality === '13103' && q.text === '住民' && !q.limit) expect(now.length, JSON.stringify(q)).toBeGreaterThan(3);
    }
  });

  it('keeps the first event of every resident, also of those entered before migration 072', async () => {
    const missing = await store.sql.query("SELECT id FROM residents WHERE first_event_id IS NULL OR first_event_id <> (SELECT MIN(e.id) FROM resident_events e WHERE e.resident_id = residents.id)");
    expect(missing).toEqual([]);
    // the migration's own statement fills in residents entered before it
    const backfill = loadMigrations(store.sql.dialect).find((m) => m.version === 72)!.sql.split(';').find((s) => s.includes('UPDATE residents'))!;
    const kept = await store.sql.query<{ id: string; first_event_id: number }>('SELECT id, first_event_id FROM residents ORDER BY id');
    await store.sql.execute('UPDATE residents SET first_event_id = NULL');
    await store.sql.execute(backfill.replace(/--.*$/gm, ''));
    expect(await store.sql.query('SELECT id, first_event_id FROM residents ORDER BY id')).toEqual(kept);
  });

  if (storeKind === 'sqlite') it('reads a municipality in the search order from its index and stops at the page (query plan)', async () => {
    for (const q of [{ municipality: '13103', text: '住民', limit: 20 }, { municipality: '13103', limit: 20 }, { text: '住民', limit: 20 }]) {
      const { sql, params } = residentSearchQuery(q);
      const plan = (await store.sql.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params)).map((r) => r.detail).join('; ');
      expect(plan, JSON.stringify(q)).toMatch(/INDEX residents_search/);
      expect(plan, JSON.stringify(q)).not.toMatch(/TEMP B-TREE|resident_events/);
    }
  });

  if (storeKind === 'postgres') it('reads a frequent part of a name in order from the search index and stops at the page, a rare one by lookup (PostgreSQL plan)', async () => {
    // a municipality of 3,000 residents, all named 住民 …号 as in `bench scale`; statistics as autovacuum makes them
    await store.sql.execute(
      `INSERT INTO residents (id, record_code, name, name_substitute, address, address_substitute, date_of_birth, sex, municipality, prefecture, status, version, registered_at, updated_at)
       SELECT 'P' || lpad(g::text, 10, '0'), lpad((90000000000 + g)::text, 11, '0'), '住民　' || g || '号', '0', '沖縄県那覇市', '0', '1980-01-01', '1', '47201', '47', 'registered', 1, g, g
       FROM generate_series(1, 3000) g`,
    );
    await store.sql.execute('ANALYZE residents');
    const planOf = async (q: ResidentSearch) => {
      const { sql, params } = residentSearchQuery(q);
      return JSON.stringify(await store.sql.query(`EXPLAIN (FORMAT JSON) ${sql}`, params));
    };
    const frequent = await planOf({ municipality: '47201', text: '住民', limit: 20 });
    expect(frequent).toMatch(/"Index Name":"residents_search"/);
    expect(frequent).not.toMatch(/"Node Type":"Sort"/);
    expect((await register.search({ municipality: '47201', text: '住民', limit: 20 })).map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => `P${String(i + 1).padStart(10, '0')}`));
    expect(await planOf({ municipality: '47201', text: '住民 2999号', limit: 20 })).toMatch(/"Node Type":"Sort"/);
  });
});
