import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { FixedClock } from '../../src/common/clock.js';
import {
  ResidentRegister,
  RegisterError,
  isValidRecordCode,
  recordCodeCheckDigit,
  residentsFromCsv,
  allMunicipalities,
  municipalityByCode,
  municipalityCodeProblem,
  jisCheckDigit,
  recordCodeProblem,
  type NewResident,
} from '../../src/register/index.js';
import type { Store } from '../../src/store/index.js';
import { availableStoreKinds, disposeTestStore, openTestStore } from '../support/stores.js';

const kinds = await availableStoreKinds();

const ICHIRO: NewResident = { name: '公的 一郎', dateOfBirth: '1977-11-07', sex: '1', address: '東京都港区虎ノ門5丁目', municipality: '13103' };

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<RegisterError> {
  const e = await Promise.resolve()
    .then(() => (typeof p === 'function' ? p() : p))
    .then(
      () => undefined,
      (err: unknown) => err,
    );
  expect(e).toBeInstanceOf(RegisterError);
  return e as RegisterError;
}

describe('the municipality table and resident-record codes', () => {
  it('knows every municipality of Japan (1,741) and the 171 wards of the designated cities, from the data file', () => {
    const all = allMunicipalities();
    const count = (kind: string) => all.filter((m) => m.kind === kind).length;
    expect(all).toHaveLength(1741 + 171);
    expect([count('designated-city'), count('special-ward'), count('city'), count('town'), count('village'), count('ward')]).toEqual([20, 23, 772, 743, 183, 171]);
    expect(new Set(all.map((m) => m.prefecture)).size).toBe(47);
    expect(new Set(all.map((m) => m.code)).size).toBe(all.length);
    const wards = all.filter((m) => /^131(0[1-9]|1\d|2[0-3])$/.test(m.code));
    expect(wards).toHaveLength(23);
    expect(municipalityByCode('13103')).toMatchObject({ name: '港区', nameEn: 'Minato-ku', prefecture: '13', kind: 'special-ward' });
    expect(municipalityByCode('01100')).toMatchObject({ name: '札幌市', nameEn: 'Sapporo-shi', prefecture: '01', kind: 'designated-city' });
    expect(municipalityByCode('01101')).toMatchObject({ name: '札幌市中央区', nameEn: 'Sapporo-shi Chuo-ku', kind: 'ward' });
    expect(municipalityByCode('27127')).toMatchObject({ name: '大阪市北区', nameEn: 'Osaka-shi Kita-ku', prefecture: '27' });
    expect(municipalityByCode('13308')).toMatchObject({ name: '西多摩郡奥多摩町', nameEn: 'Nishitama-gun Okutama-machi', kind: 'town' });
    expect(municipalityByCode('22138')).toMatchObject({ name: '浜松市中央区' });
    // prefecture rows of the data file are not municipalities
    expect(municipalityByCode('13000')).toBeUndefined();
  });

  it('takes codes as people type them: 6 digits with the JIS X 0402 check digit, full-width digits, hyphens; a wrong check digit is named', () => {
    expect(jisCheckDigit('13103')).toBe('2');
    for (const m of allMunicipalities()) expect(municipalityByCode(`${m.code}${m.checkDigit}`)).toBe(m);
    expect(municipalityByCode('131032')?.code).toBe('13103');
    expect(municipalityByCode('１３１０３')?.code).toBe('13103');
    expect(municipalityByCode('13-103-2')?.code).toBe('13103');
    expect(municipalityByCode('131033')).toBeUndefined();
    expect(municipalityCodeProblem('131033')).toMatch(/check digit of 131033 is wrong \(131032 would be right\)/);
    expect(municipalityCodeProblem('99999')).toMatch(/no municipality with code "99999"/);
    expect(municipalityCodeProblem('1310')).toMatch(/not a municipality code/);
    expect(municipalityCodeProblem('131032')).toBeUndefined();
  });

  it('names the problem of a mistyped resident-record code', () => {
    expect(recordCodeProblem('12345678904')).toMatch(/check digit .* is wrong \(12345678903 would be right\)/);
    expect(recordCodeProblem('1234')).toMatch(/not a resident-record code/);
  });

  it('generates 11-digit codes whose last digit checks the other ten (modulus 11, weights 2–7)', () => {
    // weights from the right: 2,3,4,5,6,7,2,3,4,5 → 1234567890: sum = 0·2+9·3+8·4+7·5+6·6+5·7+4·2+3·3+2·4+1·5 = 195, 195 mod 11 = 8 → 3
    expect(recordCodeCheckDigit('1234567890')).toBe(3);
    expect(isValidRecordCode('12345678903')).toBe(true);
    expect(isValidRecordCode('12345678904')).toBe(false);
    expect(isValidRecordCode('1234567890')).toBe(false);
  });
});

describe('import files', () => {
  it('reads RFC 4180 CSV with a header, quoted fields and a BOM; each entry keeps its line', () => {
    const text = '\ufeffname,birth,sex,address,municipality\r\n"公的 一郎",1977-11-07,1,東京都港区虎ノ門5丁目,13103\r\n\r\n"認証, ""花子""",1985-06-20,2,東京都清瀬市中清戸5丁目,13221\n';
    const rows = residentsFromCsv(text);
    expect(rows.map((r) => r.line)).toEqual([2, 4]);
    expect(rows[1]!.resident).toMatchObject({ name: '認証, "花子"', dateOfBirth: '1985-06-20', municipality: '13221' });
  });

  it('refuses unknown columns, missing ones, and short rows, naming the line', async () => {
    expect((await refusal(() => residentsFromCsv('name,birth,sex,address,municipality,email\n'))).params).toMatchObject({ line: 1, field: 'email' });
    expect((await refusal(() => residentsFromCsv('name,birth,sex,address\n'))).params).toMatchObject({ line: 1, field: 'municipality' });
    expect((await refusal(() => residentsFromCsv('name,birth,sex,address,municipality\na,1977-11-07,1,x\n'))).params).toMatchObject({ line: 2 });
  });
});

describe.each(kinds)('the resident register (%s)', (storeKind) => {
  let store: Store;
  let register: ResidentRegister;
  const clock = new FixedClock('2026-04-01T01:00:00Z');

  beforeAll(async () => {
    store = (await openTestStore(storeKind, { clock }))!;
    register = new ResidentRegister({ store, clock });
  });
  afterAll(async () => disposeTestStore(store));

  it('adds a resident: a full-width space between the names, a record code, the prefecture, an event and an audit record', async () => {
    const r = await register.add(ICHIRO, 'test');
    expect(r).toMatchObject({ name: '公的\u3000一郎', nameSubstitute: '00000', addressSubstitute: '0'.repeat(11), prefecture: '13', status: 'registered', version: 1 });
    expect(r.id).toMatch(/^R[0-9A-Z]{10}$/);
    expect(isValidRecordCode(r.recordCode)).toBe(true);
    const events = await register.events(r.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'registered', version: 1, effectiveOn: '2026-04-01', before: null, actor: 'test' });
    expect(await store.audit.list({ action: 'register.add', target: `resident:${r.id}` })).toHaveLength(1);
    expect((await register.search({ text: '公的一郎', municipality: '13103' })).map((x) => x.id)).toContain(r.id);
    expect((await register.search({ text: r.recordCode })).map((x) => x.id)).toEqual([r.id]);
  });

  it('refuses bad residents precisely, naming the field', async () => {
    const cases: [Partial<NewResident>, string, Record<string, unknown>][] = [
      [{ name: '  ' }, 'RESIDENT_INVALID', { field: 'name' }],
      [{ sex: '3' }, 'RESIDENT_INVALID', { field: 'sex' }],
      [{ dateOfBirth: '1977-02-30' }, 'RESIDENT_INVALID', { field: 'dateOfBirth' }],
      [{ dateOfBirth: '2030-01-01' }, 'RESIDENT_INVALID', { field: 'dateOfBirth' }],
      [{ municipality: '99999' }, 'MUNICIPALITY_UNKNOWN', { municipality: '99999' }],
      [{ address: '大阪府大阪市中央区大手前2丁目' }, 'ADDRESS_OUTSIDE_MUNICIPALITY', { prefix: '東京都港区' }],
      [{ nameSubstitute: '0010' }, 'RESIDENT_INVALID', { field: 'nameSubstitute' }],
      [{ recordCode: '12345678904' }, 'RESIDENT_INVALID', { field: 'recordCode' }],
    ];
    const before = await store.residents.count();
    for (const [change, code, params] of cases) {
      const e = await refusal(register.add({ ...ICHIRO, ...change }, 'test'));
      expect(e.code).toBe(code);
      expect(e.params).toMatchObject(params);
    }
    expect(await store.residents.count()).toBe(before);
  });

  it('imports all residents of a file in one transaction, or none', async () => {
    const before = await store.residents.count();
    const bad = residentsFromCsv('name,birth,sex,address,municipality\n個人 太郎,1990-01-01,1,東京都港区芝1丁目,13103\n個人 次郎,1990-13-01,1,東京都港区芝1丁目,13103\n');
    const e = await refusal(register.addAll(bad.map((r) => r.resident), 'test', bad.map((r) => r.line)));
    expect(e).toMatchObject({ code: 'REGISTER_IMPORT_INVALID', params: { line: 3, field: 'dateOfBirth' } });
    expect(await store.residents.count()).toBe(before);
    const good = residentsFromCsv('name,birth,sex,address,municipality\n個人 太郎,1990-01-01,1,東京都港区芝1丁目,13103\n');
    await register.addAll(good.map((r) => r.resident), 'test');
    expect(await store.residents.count()).toBe(before + 1);
  });

  it('keeps every change as an event with the state before and after, and says what the change did', async () => {
    const r = await register.add(ICHIRO, 'test');
    const within = await register.move(r.id, { address: '東京都港区芝公園4丁目', effectiveOn: '2026-03-20' }, 'test');
    expect(within).toMatchObject({ type: 'move', moveScope: 'within-municipality', changedFacts: ['address'] });
    const across = await register.move(r.id, { address: '東京都清瀬市中清戸5丁目', municipality: '13221' }, 'test');
    expect(across.moveScope).toBe('other-municipality');
    const prefecture = await register.move(r.id, { address: '大阪府大阪市中央区大手前2丁目', municipality: '27128' }, 'test');
    expect(prefecture).toMatchObject({ moveScope: 'other-prefecture', after: { prefecture: '27', municipality: '27128' } });
    const renamed = await register.rename(r.id, { name: '認証 一郎', reason: 'marriage' }, 'test');
    expect(renamed.changedFacts).toEqual(['name']);
    const corrected = await register.correct(r.id, { dateOfBirth: '1977-11-08', reason: 'typed wrongly at entry' }, 'test');
    expect(corrected.changedFacts).toEqual(['dateOfBirth']);
    await register.death(r.id, { effectiveOn: '2026-03-31' }, 'test');

    const events = await register.events(r.id);
    expect(events.map((e) => e.type)).toEqual(['registered', 'move', 'move', 'move', 'rename', 'correction', 'death']);
    expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(events[1]!.before!.address).toBe('東京都港区虎ノ門5丁目');
    expect(events[1]!.after.address).toBe('東京都港区芝公園4丁目');
    expect(events[1]!.effectiveOn).toBe('2026-03-20');
    expect(events[4]!.details).toMatchObject({ reason: 'marriage' });
    const now = (await register.get(r.id))!;
    expect(now).toMatchObject({ status: 'deceased', name: '認証\u3000一郎', municipality: '27128', prefecture: '27', version: 7 });
    // A dead resident's record takes no further change.
    expect((await refusal(register.rename(r.id, { name: '別 名' }, 'test'))).code).toBe('RESIDENT_DECEASED');
  });

  it('refuses a change that changes nothing, a change of a stale version, and a correction without a reason', async () => {
    const r = await register.add(ICHIRO, 'test');
    expect((await refusal(register.move(r.id, { address: ICHIRO.address }, 'test'))).code).toBe('RESIDENT_UNCHANGED');
    expect((await refusal(register.correct(r.id, { sex: '2', reason: ' ' }, 'test'))).params).toMatchObject({ field: 'reason' });
    // Two clerks at once: a write from a version already replaced changes nothing (and the register refuses it).
    const first = await store.transaction((tx) => tx.residents.update(r.id, r.version, { ...r, address: '東京都港区芝1丁目' }, 1));
    const second = await store.transaction((tx) => tx.residents.update(r.id, r.version, { ...r, address: '東京都港区芝2丁目' }, 2));
    expect([first, second]).toEqual([true, false]);
    expect((await register.get(r.id)).address).toBe('東京都港区芝1丁目');
  });

  it('publishes every change as an event in order, for the CA to follow (its outbox)', async () => {
    const r = await register.add(ICHIRO, 'test');
    const before = await register.eventsAfter(0, 10_000);
    const moved = await register.move(r.id, { address: '東京都港区芝1丁目' }, 'clerk');
    const renamed = await register.rename(r.id, { name: '認証 一郎' }, 'clerk');
    const after = await register.eventsAfter(before.at(-1)?.id ?? 0);
    expect(after.map((e) => e.id)).toEqual([moved.eventId, renamed.eventId]);
    expect(after[0]).toMatchObject({ residentId: r.id, type: 'move', changedFacts: ['address', 'addressSubstitute'], actor: 'clerk' });
    expect(after[1]).toMatchObject({ type: 'rename', changedFacts: ['name'] });
  });

});
