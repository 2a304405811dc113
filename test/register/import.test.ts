import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { FixedClock } from '../../src/common/clock.js';
import { ImportRejected, ResidentRegister, newRecordCode } from '../../src/register/index.js';
import { scoped, type Store } from '../../src/store/index.js';
import { progressBar } from '../../src/cli/progress.js';
import { availableStoreKinds, disposeTestStore, openTestStore, type StoreKind } from '../support/stores.js';

const kinds = await availableStoreKinds();
const HEADER = 'name,birth,sex,address,municipality,record_code\n';

/** n good rows across municipalities of the whole country (every fifth with a record code of its own). */
function goodRows(n: number, offset = 0): string[] {
  const places = [
    ['北海道札幌市中央区北1条西', '01101'],
    ['大阪府大阪市北区梅田', '27127'],
    ['東京都西多摩郡奥多摩町氷川', '13308'],
    ['沖縄県那覇市泉崎', '47201'],
  ] as const;
  return Array.from({ length: n }, (_, k) => {
    const i = k + offset;
    const [addr, code] = places[i % places.length]!;
    return `住民 ${i}号,19${String(50 + (i % 50)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10},${1 + (i % 2)},${addr}${1 + (i % 9)}丁目,${code},${i % 5 === 0 ? newRecordCode() : ''}`;
  });
}

describe.each(kinds)('register import in bulk (%s)', (storeKind: StoreKind) => {
  let store: Store;
  let register: ResidentRegister;

  beforeEach(async () => {
    const clock = new FixedClock(new Date('2026-04-01T00:00:00Z'));
    store = (await openTestStore(storeKind, { clock }))!;
    register = new ResidentRegister({ store: scoped(store, ['residents', 'record']), clock });
  });
  afterEach(async () => disposeTestStore(store));

  it('checks every row first: each bad row is reported with its line and nothing is loaded', async () => {
    const rows = goodRows(12);
    rows[2] = '悪い 住所,1980-01-01,1,東京都港区芝1丁目,13308,'; // line 4: not in Okutama
    rows[6] = '未知 町,1980-01-01,1,北海道どこか,01999,'; // line 8: no such municipality
    rows[9] = '誤記 太郎,1980-01-01,1,北海道札幌市中央区,011012,'; // line 11: wrong check digit
    rows[10] = '短い 行,1980-01-01,1'; // line 12: fields missing
    const code = newRecordCode();
    rows[4] = `重複 一,1980-01-01,1,大阪府大阪市北区梅田1丁目,27127,${code}`; // line 6
    rows[11] = `重複 二,1980-01-01,1,大阪府大阪市北区梅田1丁目,27127,${code}`; // line 13: same code as line 6
    const e = (await register.importCsv(HEADER + rows.join('\n') + '\n', 'test', { batchSize: 3 }).catch((x: unknown) => x)) as ImportRejected;
    expect(e).toBeInstanceOf(ImportRejected);
    expect(e.code).toBe('REGISTER_IMPORT_INVALID');
    expect(e.problems.map((p) => [p.line, p.code])).toEqual([
      [4, 'ADDRESS_OUTSIDE_MUNICIPALITY'],
      [8, 'MUNICIPALITY_UNKNOWN'],
      [11, 'MUNICIPALITY_UNKNOWN'],
      [12, 'REGISTER_IMPORT_INVALID'],
      [13, 'RECORD_CODE_TAKEN'],
    ]);
    expect(e.problems[2]!.message).toMatch(/check digit of 011012 is wrong/);
    expect(e.problems[4]!.message).toContain('line 6');
    expect(e.message).toMatch(/^5 rows are not acceptable .*nothing was loaded$/);
    expect(await register.count()).toBe(0);
  });

  it('refuses a record code the register already holds, naming the line', async () => {
    const existing = await register.add({ name: '先 住民', dateOfBirth: '1970-01-01', sex: '1', address: '沖縄県那覇市泉崎1丁目', municipality: '47201' }, 'test');
    const text = HEADER + goodRows(2).join('\n') + `\n後 住民,1971-01-01,2,沖縄県那覇市泉崎2丁目,472018,${existing.recordCode}\n`;
    const e = (await register.importCsv(text, 'test').catch((x: unknown) => x)) as ImportRejected;
    expect(e.problems).toEqual([{ line: 4, code: 'RECORD_CODE_TAKEN', field: 'record_code', message: `the resident-record code ${existing.recordCode} is already used in the register` }]);
    expect(await register.count()).toBe(1);
  });

  it('loads in atomic batches; a run that stops is resumed by running the same file again, skipping what is loaded', async () => {
    const text = HEADER + goodRows(23).join('\n') + '\n';
    const seen: string[] = [];
    const first = await register.importCsv(text, 'test', { batchSize: 5, stopAfterBatches: 2, source: 'people.csv', onProgress: (p) => seen.push(`${p.phase} ${p.done}/${p.total}`) });
    expect(first).toMatchObject({ total: 23, loaded: 10, skipped: 0, batches: 2, complete: false });
    expect(seen).toContain('checking 23/23');
    expect(seen).toContain('loading 10/23');
    expect(await register.count()).toBe(10);

    const second = await register.importCsv(text, 'test', { batchSize: 5 });
    expect(second).toMatchObject({ importId: first.importId, total: 23, loaded: 13, skipped: 10, batches: 3, complete: true });
    expect(await register.count()).toBe(23);
    const third = await register.importCsv(text, 'test', { batchSize: 5 });
    expect(third).toMatchObject({ loaded: 0, skipped: 23, complete: true });
    expect(await register.count()).toBe(23);

    // every row once, with its facts, a registered event and a valid record code; the country's codes as stored
    const all = await register.search({ limit: 100 });
    expect(all).toHaveLength(23);
    expect(new Set(all.map((r) => r.recordCode)).size).toBe(23);
    expect(new Set(all.map((r) => r.municipality))).toEqual(new Set(['01101', '27127', '13308', '47201']));
    expect(all.find((r) => r.name === '住民\u30006号')).toMatchObject({ address: '東京都西多摩郡奥多摩町氷川7丁目', municipality: '13308', prefecture: '13', version: 1 });
    const events = await register.events(all[0]!.id);
    expect(events).toMatchObject([{ type: 'registered', version: 1, actor: 'test' }]);
    const audit = await store.audit.list({ action: 'register.import' });
    expect(audit.map((a) => a.details.rows)).toEqual([5, 5, 5, 5, 3]);
    expect(audit.map((a) => a.details.toLine)).toEqual([6, 11, 16, 21, 24]);
    expect(await store.audit.verify()).toMatchObject({ ok: true });
  });

  it('a record code given in the file is kept; codes typed with hyphens are read as digits', async () => {
    const code = newRecordCode();
    const r = await register.importCsv(`${HEADER}指定 一,1980-01-01,1,沖縄県那覇市泉崎1丁目,47201,${code.slice(0, 4)}-${code.slice(4)}\n`, 'test');
    expect(r).toMatchObject({ loaded: 1, complete: true });
    expect((await register.search({ text: code }))[0]).toMatchObject({ recordCode: code, name: '指定\u3000一' });
  });
});

describe('the progress bar', () => {
  it('draws on a terminal only', () => {
    let out = '';
    const tty = { isTTY: true, columns: 100, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
    const bar = progressBar('register import', tty);
    bar.update(500, 1000, 'loading');
    bar.done();
    expect(out).toMatch(/^\rregister import loading \[#+\.+\]  50% 500\/1,000 .*\/s ETA \d+s\x1b\[K\n$/);
    let piped = '';
    const pipe = { isTTY: false, write: (s: string) => ((piped += s), true) } as unknown as NodeJS.WriteStream;
    const quiet = progressBar('register import', pipe);
    quiet.update(1, 2, 'loading');
    quiet.done();
    expect(piped).toBe('');
  });
});
