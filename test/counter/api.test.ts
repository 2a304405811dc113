import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { fingerprint } from '../../src/pki/signed.js';
import type { Resident } from '../../src/register/index.js';
import { availableStoreKinds } from '../support/stores.js';
import { AUTH_PIN, cardSigns, createCounterInstallation, form, key, PASSPORT, PASSWORD, SIGN_PIN, type CounterInstallation } from './support.js';

const kinds = await availableStoreKinds();

type Method = 'GET' | 'POST';

describe.each(kinds)('the counter HTTP API (%s)', (storeKind) => {
  let t: CounterInstallation;
  let app: FastifyInstance;
  let ichiro: Resident;
  let deviceId: string;
  let card: string;

  beforeAll(async () => {
    t = await createCounterInstallation(storeKind);
    app = await buildApp(t.services);
    for (const [name, m, role] of [
      ['minato-clerk', '13103', 'clerk'],
      ['minato-supervisor', '13103', 'supervisor'],
      ['osaka-clerk', '27128', 'clerk'],
      ['osaka-supervisor', '27128', 'supervisor'],
    ] as const)
      await t.services.counter.operators.add({ name, municipality: m, role, password: PASSWORD }, 'test');
    ichiro = await t.addResident();
    card = await t.blankCard('minato-desk.card');
    deviceId = (await t.services.counter.addDevice({ municipality: '13103', name: 'desk 1', uri: `file:${card}` }, 'test')).id;
    await t.services.counter.addDevice({ municipality: '27128', name: 'desk 1', uri: `file:${await t.blankCard()}` }, 'test');
  });
  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  async function bearer(name: string): Promise<Record<string, string>> {
    const r = await app.inject({ method: 'POST', url: '/api/counter/login', payload: { name, password: PASSWORD, session: 'bearer' } });
    expect(r.statusCode).toBe(200);
    return { authorization: `Bearer ${r.json().token as string}` };
  }

  const call = (auth: Record<string, string>, method: Method, url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method, url: `/api/counter${url}`, headers: { ...auth, ...(method === 'POST' ? { 'idempotency-key': key() } : {}), ...headers }, ...(payload !== undefined ? { payload: payload as object } : {}) });

  const expectError = (r: LightMyRequestResponse, status: number, code: string) => {
    expect({ status: r.statusCode, code: r.json().error }).toEqual({ status, code });
    expect(r.body).not.toMatch(/\n\s+at /);
  };

  it('logs in with an HttpOnly, SameSite=Strict cookie; writes need the CSRF token; logout ends the session', async () => {
    const login = await app.inject({ method: 'POST', url: '/api/counter/login', payload: { name: 'minato-clerk', password: PASSWORD } });
    expect(login.statusCode).toBe(200);
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/^jpki_counter_session=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    const body = login.json();
    expect(body.token).toBeUndefined();
    expect(body.operator).toMatchObject({ name: 'minato-clerk', municipality: '13103', municipalityName: '港区', role: 'clerk' });
    const session = { cookie: cookie.split(';')[0]! };

    const me = await call(session, 'GET', '/me');
    expect(me.json()).toMatchObject({ operator: { name: 'minato-clerk' }, csrfToken: body.csrfToken });
    expect(me.headers['cache-control']).toBe('no-store');
    expectError(await call(session, 'POST', '/issuances', { residentId: ichiro.id, form: form(ichiro) }), 403, 'COUNTER_CSRF_TOKEN_INVALID');
    expectError(await call(session, 'POST', '/issuances', { residentId: ichiro.id, form: form(ichiro) }, { 'x-csrf-token': 'x'.repeat(32) }), 403, 'COUNTER_CSRF_TOKEN_INVALID');
    const ok = await call(session, 'POST', '/issuances', { residentId: ichiro.id, form: form(ichiro) }, { 'x-csrf-token': body.csrfToken });
    expect(ok.statusCode).toBe(201);

    const out = await call(session, 'POST', '/logout', undefined, { 'x-csrf-token': body.csrfToken });
    expect(out.statusCode).toBe(200);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expectError(await call(session, 'GET', '/me'), 401, 'COUNTER_SESSION_REQUIRED');
  });

  it('answers in the operator\u2019s language: Japanese first, English or Korean on request', async () => {
    const wrong = { name: 'minato-clerk', password: 'not-the-password' };
    const ja = await app.inject({ method: 'POST', url: '/api/counter/login', payload: wrong });
    expectError(ja, 401, 'COUNTER_LOGIN_FAILED');
    expect(ja.json().message).toBe('職員名またはパスワードが違います。5回続けて失敗するとしばらくログインできなくなります。');
    expect(ja.headers['content-language']).toBe('ja');
    const en = await app.inject({ method: 'POST', url: '/api/counter/login', payload: wrong, headers: { 'accept-language': 'en-GB,en;q=0.9' } });
    expect(en.json().message).toBe('Unknown operator or wrong password. After 5 failed logins an account is locked for a while.');
    const ko = await app.inject({ method: 'POST', url: '/api/counter/login?lang=ko', payload: wrong });
    expect(ko.json().message).toBe('직원 이름 또는 비밀번호가 틀립니다. 5회 연속 실패하면 잠시 로그인할 수 없습니다.');
    // a successful login resets the failure count
    await bearer('minato-clerk');

    const auth = await bearer('minato-clerk');
    const bad = await call(auth, 'POST', '/issuances?lang=en', { residentId: ichiro.id, form: { ...form(ichiro), dateOfBirth: '1977/11/07' } });
    expectError(bad, 400, 'COUNTER_REQUEST_INVALID');
    expect(bad.json()).toMatchObject({ params: { field: 'form.dateOfBirth', problem: 'format' }, message: 'The field "form.dateOfBirth" is not acceptable (wrong format).' });
    const missingKey = await app.inject({ method: 'POST', url: '/api/counter/issuances', headers: auth, payload: { residentId: ichiro.id, form: form(ichiro) } });
    expectError(missingKey, 400, 'COUNTER_IDEMPOTENCY_KEY_REQUIRED');
    expectError(await call(auth, 'GET', '/no/such/route'), 404, 'NOT_FOUND');
    // Only JSON: a cross-site form's text/plain body is refused before any route runs.
    const plain = await app.inject({ method: 'POST', url: '/api/counter/login', headers: { 'content-type': 'text/plain' }, payload: JSON.stringify({ name: 'minato-clerk', password: PASSWORD }) });
    expect(plain.statusCode).toBe(415);
    expect(plain.headers['set-cookie']).toBeUndefined();
  });

  it('runs the issuance wizard end to end; a retried submission replays its first answer', async () => {
    const auth = await bearer('minato-clerk');
    const found = await call(auth, 'GET', `/residents?q=${encodeURIComponent('公的 一郎')}`);
    expect(found.json().residents.map((r: { id: string }) => r.id)).toContain(ichiro.id);
    const overview = (await call(auth, 'GET', `/residents/${ichiro.id}`)).json();
    expect(overview.resident).toMatchObject({ name: '公的\u3000一郎', dateOfBirthJa: '昭和52年11月7日', municipalityName: '港区' });

    const open = await call(auth, 'POST', '/issuances', { residentId: ichiro.id, form: form(ichiro) });
    expect(open.statusCode).toBe(201);
    const number = open.json().number as string;
    expect((await call(auth, 'POST', `/issuances/${number}/identity`, PASSPORT)).json().step).toBe('fee');
    expect((await call(auth, 'POST', `/issuances/${number}/fee`, { amount: 500 })).json().step).toBe('device');
    const status = (await call(auth, 'GET', `/devices/${deviceId}`)).json();
    expect(status).toMatchObject({ id: deviceId, cardPresent: true, blank: true });

    const k = key();
    const device = await call(auth, 'POST', `/issuances/${number}/device`, { deviceId, signPin: SIGN_PIN, authPin: AUTH_PIN }, { 'idempotency-key': k });
    expect(device.statusCode).toBe(200);
    const result = device.json();
    expect(result.application.status).toBe('completed');
    const again = await call(auth, 'POST', `/issuances/${number}/device`, { deviceId, signPin: SIGN_PIN, authPin: AUTH_PIN }, { 'idempotency-key': k });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(result);
    expect((await cardSigns(t, card, SIGN_PIN)).verified).toBe(true);

    const receipt = (await call(auth, 'GET', `/receipts/${result.receipt.number}`)).json();
    expect(receipt).toMatchObject({ number: result.receipt.number, type: 'receipt', amount: 500, applicationNumber: number, operator: 'minato-clerk' });
    const copy = (await call(auth, 'GET', `/issuances/${number}/certificate-copy`)).json();
    expect(copy.sign.facts).toMatchObject({ name: '公的\u3000一郎', dateOfBirthJa: '昭和52年11月7日', sexJa: '男', address: '東京都港区虎ノ門5丁目' });
    const guide = (await call(auth, 'GET', `/issuances/${number}/usage-guide`)).json();
    expect(guide.prefecturalCa.sha256).toBe(fingerprint((await t.services.ca.get('pref-13')).certificate, 'sha256'));
    expect(guide.bridgeCa.sha256).toBe(fingerprint((await t.services.ca.get('jpki-bridge')).certificate, 'sha256'));
    const list = (await app.inject({ method: 'GET', url: '/ca' })).json() as { id: string; sha256: string; sha1: string }[];
    expect(list.find((c) => c.id === 'jpki-bridge')!.sha1).toBe(guide.bridgeCa.sha1);

    const ledger = (await call(auth, 'GET', '/ledger?date=2026-04-01')).json();
    expect(ledger).toMatchObject({ date: '2026-04-01', municipality: '13103', scope: 'own', operator: 'minato-clerk' });
    expect(ledger.entries.find((e: { number: string }) => e.number === number)).toMatchObject({ residentName: '公的\u3000一郎', status: 'completed' });
    expect(ledger.totals.fees).toBe(500 * ledger.totals.receipts);
    const all = (await call(await bearer('minato-supervisor'), 'GET', '/ledger?date=2026-04-01')).json();
    expect(all.scope).toBe('all');
    expectError(await call(auth, 'GET', '/ledger?operator=minato-supervisor'), 403, 'COUNTER_SUPERVISOR_ONLY');
  });

  it('register changes are for supervisors; a move answers with the certificates it revoked', async () => {
    const r = await t.addResident({ name: '転居 太郎' });
    const clerk = await bearer('minato-clerk');
    const supervisor = await bearer('minato-supervisor');
    expectError(await call(clerk, 'POST', `/residents/${r.id}/move`, { address: '東京都港区芝1丁目' }), 403, 'COUNTER_SUPERVISOR_ONLY');
    const moved = await call(supervisor, 'POST', `/residents/${r.id}/move`, { address: '東京都港区芝1丁目' });
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({ resident: { address: '東京都港区芝1丁目' }, event: { type: 'move', moveScope: 'within-municipality' }, revoked: [] });
    const added = await call(supervisor, 'POST', '/residents', { name: '新規 住民', dateOfBirth: '2000-01-01', sex: '2', address: '東京都港区芝2丁目', municipality: '13103' });
    expect(added.statusCode).toBe(201);
    expectError(await call(supervisor, 'POST', '/residents', { name: '他市 住民', dateOfBirth: '2000-01-01', sex: '2', address: '大阪府豊中市本町1丁目', municipality: '27203' }), 403, 'COUNTER_OUT_OF_SCOPE');
  });

  it('refuses an operator of another municipality on EVERY counter route that concerns the resident (walked from the registered routes)', async () => {
    // Papers of the resident: a completed issuance (with a receipt) and a revocation (with a notice).
    const r = await t.addResident({ name: '範囲 確認' });
    const clerk = t.services.counter.operators;
    const minato = await clerk.authenticate('minato-clerk', PASSWORD);
    const { issuance, revocation } = t.services.counter;
    const app1 = (await issuance.open(minato, { residentId: r.id, form: form(r) }, key())).result;
    await issuance.identity(minato, app1.number, PASSPORT, key());
    await issuance.fee(minato, app1.number, { amount: 500 }, key());
    const issued = (await issuance.device(minato, app1.number, { device: { uri: `file:${await t.blankCard()}` }, signPin: SIGN_PIN, authPin: AUTH_PIN }, key())).result;
    const revoked = (await revocation.revoke(minato, { residentId: r.id, form: form(r), identity: PASSPORT, reason: 'unneeded', certificates: ['sign'] }, key())).result;

    const routes = app.counterRoutes;
    const concerning = routes.filter((x) => x.scope.kind === 'resident' || x.scope.kind === 'application' || x.scope.kind === 'document');
    // Every other route is listed here on purpose: a new route must be classified, not forgotten.
    const others = routes.filter((x) => !concerning.includes(x)).map((x) => `${x.method} ${x.url} ${x.scope.kind}${x.supervisor ? ' supervisor' : ''}`);
    expect(others.sort()).toEqual(
      [
        'POST /api/counter/login public',
        'POST /api/counter/logout operator',
        'GET /api/counter/me operator',
        'POST /api/counter/me/language operator',
        'GET /api/counter/residents operator',
        'POST /api/counter/residents operator supervisor',
        'GET /api/counter/ledger operator',
        'GET /api/counter/operators operator supervisor',
        'POST /api/counter/operators operator supervisor',
        'POST /api/counter/operators/:name/unlock operator supervisor',
        'POST /api/counter/operators/:name/lock operator supervisor',
        'POST /api/counter/operators/:name/role operator supervisor',
        'POST /api/counter/operators/:name/password operator supervisor',
        'GET /api/counter/devices operator',
        'GET /api/counter/devices/:id operator',
      ].sort(),
    );
    expect(concerning.length).toBeGreaterThanOrEqual(18);

    for (const name of ['osaka-clerk', 'osaka-supervisor']) {
      const auth = await bearer(name);
      for (const route of concerning) {
        const number = route.url.includes('/notices/') ? revoked.notice.number : route.scope.kind === 'document' ? issued.receipt.number : app1.number;
        const url = route.url.replace(':residentId', r.id).replace(':number', number).replace('/api/counter', '');
        const body = route.method === 'POST' ? { residentId: r.id } : undefined;
        const before = (await t.services.store.audit.list({ action: 'counter.refused', actor: `operator:${name}` })).length;
        const res = await call(auth, route.method as Method, url, body);
        expect({ route: `${route.method} ${route.url}`, status: res.statusCode, error: res.json().error }).toEqual({
          route: `${route.method} ${route.url}`,
          status: 403,
          error: 'COUNTER_OUT_OF_SCOPE',
        });
        expect((await t.services.store.audit.list({ action: 'counter.refused', actor: `operator:${name}` })).length).toBe(before + 1);
      }
      // The operator-wide routes show nothing of the other municipality.
      const search = (await call(auth, 'GET', `/residents?q=${encodeURIComponent('範囲')}`)).json();
      expect(search.residents).toEqual([]);
      const ledger = (await call(auth, 'GET', '/ledger?date=2026-04-01')).json();
      expect(ledger.entries.filter((e: { residentId: string }) => e.residentId === r.id)).toEqual([]);
      expect((await call(auth, 'GET', '/devices')).json().devices.every((d: { municipality: string }) => d.municipality === '27128')).toBe(true);
      expectError(await call(auth, 'GET', `/devices/${deviceId}`), 404, 'COUNTER_DEVICE_NOT_FOUND');
    }
    // Nothing was changed by the refused calls.
    expect((await t.services.store.certificates.byResident(r.id)).filter((c) => c.revokedAt === null)).toHaveLength(1);
  });
});
