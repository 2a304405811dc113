import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { availableStoreKinds } from '../support/stores.js';
import { cardSigns, createCounterInstallation, issueOnto, key, PASSWORD, refusal, SIGN_PIN, type CounterInstallation } from './support.js';

const kinds = await availableStoreKinds();

/**
 * Municipalities across the country at the counter, end to end: a supervisor enters the resident (code typed
 * with its check digit), a clerk of that municipality issues the card, and the signing certificate's subject
 * names the prefecture and the municipality in romaji (the register's data file, src/register/data/).
 */
const CASES = [
  { code: '01100', typed: '011002', who: '札幌 市民', address: '北海道札幌市白石区本通1丁目', l: ['Hokkaido', 'Sapporo-shi'], pref: 'pref-01' },
  { code: '01101', typed: '０１１０１１', who: '中央 区民', address: '北海道札幌市中央区北1条西2丁目', l: ['Hokkaido', 'Sapporo-shi Chuo-ku'], pref: 'pref-01' },
  { code: '27127', typed: '27127-6', who: '梅田 北子', address: '大阪府大阪市北区梅田1丁目', l: ['Osaka-fu', 'Osaka-shi Kita-ku'], pref: 'pref-27' },
  { code: '13308', typed: '133086', who: '奥多摩 村人', address: '東京都西多摩郡奥多摩町氷川215', l: ['Tokyo-to', 'Nishitama-gun Okutama-machi'], pref: 'pref-13' },
] as const;

describe.each(kinds)('municipalities of the whole country at the counter (%s)', (storeKind) => {
  let t: CounterInstallation;
  let app: FastifyInstance;

  beforeAll(async () => {
    t = await createCounterInstallation(storeKind, { prefectures: ['01', '13', '27'] });
    app = await buildApp(t.services);
  });
  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  it.each(CASES)('$code $address: entered through the API with the code as typed, issued at the counter, L= in romaji', async (c) => {
    await t.services.counter.operators.add({ name: `sv-${c.code}`, municipality: c.typed, role: 'supervisor', password: PASSWORD }, 'test');
    const clerk = await t.operator(`clerk-${c.code}`, c.code);
    expect(clerk.municipality).toBe(c.code);

    const login = await app.inject({ method: 'POST', url: '/api/counter/login', payload: { name: `sv-${c.code}`, password: PASSWORD, session: 'bearer' } });
    const auth = { authorization: `Bearer ${login.json().token as string}`, 'idempotency-key': key() };
    const added = await app.inject({
      method: 'POST',
      url: '/api/counter/residents',
      headers: auth,
      payload: { name: c.who, dateOfBirth: '1990-04-01', sex: '2', address: c.address, municipality: c.typed },
    });
    expect(added.statusCode).toBe(201);
    const view = added.json().resident as { id: string; municipality: string; recordCode: string };
    expect(view.municipality).toBe(c.code);
    const resident = await t.services.register.get(view.id);

    // the clerk finds the resident by the record code typed with hyphens
    const rc = resident.recordCode;
    const found = await t.services.counter.searchResidents(clerk, { text: `${rc.slice(0, 4)}-${rc.slice(4, 8)}-${rc.slice(8)}` });
    expect(found.map((r) => r.id)).toEqual([resident.id]);

    const card = await t.blankCard();
    const result = await issueOnto(t, clerk, resident, card);
    expect(result.application).toMatchObject({ status: 'completed' });
    const stored = await t.services.store.certificates.byResident(resident.id);
    for (const s of stored) expect(s).toMatchObject({ caId: c.pref, crlPartition: c.code });
    const { verified, certificate } = await cardSigns(t, card, SIGN_PIN);
    expect(verified).toBe(true);
    for (const l of c.l) expect(certificate.subject).toContain(`L=${l}`);
  });

  it('refuses an unknown municipality code, and a code with a wrong check digit, saying which', async () => {
    const e = await refusal(t.services.register.add({ name: '不明 太郎', dateOfBirth: '1980-01-01', sex: '1', address: '北海道どこか', municipality: '01999' }, 'test'));
    expect(e).toMatchObject({ code: 'MUNICIPALITY_UNKNOWN' });
    expect(e.message).toMatch(/no municipality with code "01999"/);
    const d = await refusal(t.services.register.add({ name: '誤記 太郎', dateOfBirth: '1980-01-01', sex: '1', address: '北海道札幌市中央区', municipality: '011012' }, 'test'));
    expect(d.message).toMatch(/check digit of 011012 is wrong \(011011 would be right\)/);
    // an address not beginning with prefecture + municipality name (the 郡 is part of the name)
    const a = await refusal(t.services.register.add({ name: '奥多摩 次郎', dateOfBirth: '1980-01-01', sex: '1', address: '東京都奥多摩町氷川1', municipality: '13308' }, 'test'));
    expect(a).toMatchObject({ code: 'ADDRESS_OUTSIDE_MUNICIPALITY' });
    expect(a.message).toContain('東京都西多摩郡奥多摩町');
  });
});
