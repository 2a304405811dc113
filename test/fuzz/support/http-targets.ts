/**
 * Every HTTP route the app registers (walked from `app.routeList`, so routes added later — the portal, the
 * agency, the client agent — are attacked as soon as they are registered): hostile path parameters, query
 * strings, bodies of every content type, headers, with no session, a clerk's, a supervisor's or a forged one.
 * No answer may be a 5xx; a JSON error is `{ error, message[, params] }` without a stack; OCSP answers are
 * OCSP responses that are not internalError; afterwards the audit chain verifies (nothing half-written).
 */
import fc from 'fast-check';
import { AsnConvert } from '@peculiar/asn1-schema';
import { OCSPResponse, OCSPResponseStatus } from '@peculiar/asn1-ocsp';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../../../src/server/app.js';
import { createCounterInstallation, PASSWORD, type CounterInstallation } from '../../counter/support.js';
import type { StoreKind } from '../../support/stores.js';
import { hostileBytes, hostileJson, hostileString, readCorpus, type FuzzJson, type FuzzTarget } from './fuzz.js';

/** One request as kept in the corpus: everything needed to send it again. */
export interface HttpCase {
  [k: string]: FuzzJson;
  method: string;
  route: string;
  params: Record<string, string>;
  query: Record<string, string>;
  auth: 'none' | 'clerk' | 'supervisor' | 'forged' | 'cookie';
  body: null | { type: string; json: FuzzJson } | { type: string; hex: string };
  idempotencyKey: string | null;
}

interface Fixture {
  t: CounterInstallation;
  app: FastifyInstance;
  tokens: Record<'clerk' | 'supervisor', string>;
  known: string[];
}

/** Percent-encodes any string as UTF-8 (lone surrogates too, which encodeURIComponent refuses). */
const encodeSegment = (v: string) => [...Buffer.from(v, 'utf8')].map((b) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`)).join('');

const paramNames = (route: string) => [...route.matchAll(/:(\w+)/g)].map((m) => m[1]!);

function pathOf(c: HttpCase): string {
  let path = c.route.replace(/:(\w+)/g, (_, name: string) => encodeSegment(c.params[name] ?? ''));
  if (path.endsWith('*')) path = path.slice(0, -1) + (c.params['*'] ?? '');
  return path;
}

async function send(f: Fixture, c: HttpCase) {
  const headers: Record<string, string> = {};
  if (c.auth === 'clerk' || c.auth === 'supervisor') headers.authorization = `Bearer ${f.tokens[c.auth]}`;
  if (c.auth === 'forged') headers.authorization = 'Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  if (c.auth === 'cookie') headers.cookie = 'jpki_counter_session=%E0%A4%A';
  if (c.idempotencyKey !== null) headers['idempotency-key'] = c.idempotencyKey;
  const opts: InjectOptions = { method: c.method as InjectOptions['method'], url: pathOf(c), query: c.query, headers };
  if (c.body) {
    headers['content-type'] = c.body.type;
    opts.payload = 'json' in c.body ? JSON.stringify(c.body.json) : Buffer.from(c.body.hex, 'hex');
  }
  return f.app.inject(opts);
}

async function checkCase(f: Fixture, c: HttpCase): Promise<void> {
  const r = await send(f, c);
  const where = `${c.method} ${pathOf(c)} (${c.auth})`;
  if (r.statusCode >= 500) throw new Error(`${where} answered ${r.statusCode}: ${r.body.slice(0, 300)}`);
  if (/\n\s+at /.test(r.body)) throw new Error(`${where} showed a stack trace`);
  const type = String(r.headers['content-type'] ?? '');
  if (type.startsWith('application/ocsp-response')) {
    let status: number;
    try {
      status = AsnConvert.parse(r.rawPayload, OCSPResponse).responseStatus;
    } catch (e) {
      throw new Error(`${where}: not an OCSP response (${(e as Error).message})`);
    }
    if (status === OCSPResponseStatus.internalError) throw new Error(`${where}: OCSP internalError`);
  }
  if (r.statusCode >= 400) {
    if (!type.startsWith('application/json')) throw new Error(`${where}: a ${r.statusCode} that is not JSON (${type})`);
    const body = r.json() as Record<string, unknown>;
    if (typeof body.error !== 'string' || typeof body.message !== 'string') throw new Error(`${where}: error body ${r.body.slice(0, 200)} is not { error, message }`);
    for (const k of Object.keys(body)) if (!['error', 'message', 'params'].includes(k)) throw new Error(`${where}: error body has ${k}`);
  }
}

async function openFixture(storeKind: StoreKind = 'sqlite'): Promise<Fixture> {
  const t = await createCounterInstallation(storeKind);
  await t.services.crlUpdater.runOnce();
  const app = await buildApp(t.services);
  await t.services.counter.operators.add({ name: 'fuzz-clerk', municipality: '13103', role: 'clerk', password: PASSWORD }, 'test');
  await t.services.counter.operators.add({ name: 'fuzz-supervisor', municipality: '13103', role: 'supervisor', password: PASSWORD }, 'test');
  const resident = await t.addResident();
  const device = await t.services.counter.addDevice({ municipality: '13103', name: 'fuzz desk', uri: `file:${await t.blankCard()}` }, 'test');
  const tokens = { clerk: '', supervisor: '' };
  for (const who of ['clerk', 'supervisor'] as const) {
    const r = await app.inject({ method: 'POST', url: '/api/counter/login', payload: { name: `fuzz-${who}`, password: PASSWORD, session: 'bearer' } });
    tokens[who] = (r.json() as { token: string }).token;
  }
  const issuer = (await t.services.ca.get('pref-13')).certificate;
  return { t, app, tokens, known: [resident.id, device.id, 'pref-13', 'pref-13.crl', 'pref-13.cer', '13103', 'delta.crl', '13103.crl', 'fuzz-clerk', issuer.subarray(0, 8).toString('base64')] };
}

function caseArbitrary(f: Fixture): fc.Arbitrary<HttpCase> {
  const routes = f.app.routeList;
  const value = fc.oneof(hostileString, fc.constantFrom(...f.known));
  const body: fc.Arbitrary<HttpCase['body']> = fc.oneof(
    fc.constant(null),
    hostileJson.map((json) => ({ type: 'application/json', json })),
    fc.dictionary(fc.constantFrom('name', 'password', 'session', 'residentId', 'form', 'reason', 'pin', 'newPin', 'device', 'signPin', 'authPin', 'amount', 'type', 'number', 'language', 'municipality', 'role', 'address', 'dateOfBirth', 'sex'), hostileJson, { maxKeys: 6 }).map((json) => ({ type: 'application/json', json })),
    fc.tuple(fc.constantFrom('application/json', 'application/ocsp-request', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', ''), hostileBytes([])).map(([type, b]) => ({ type, hex: Buffer.from(b).toString('hex') })),
  );
  return fc.constantFrom(...routes).chain((route) =>
    fc.record({
      method: fc.constant(route.method),
      route: fc.constant(route.url),
      params: fc.record(Object.fromEntries([...paramNames(route.url), ...(route.url.endsWith('*') ? ['*'] : [])].map((n) => [n, value]))) as fc.Arbitrary<Record<string, string>>,
      query: fc.dictionary(fc.oneof(hostileString, fc.constantFrom('lang', 'residentId', 'operator', 'date', 'q', 'municipality', 'name')), value, { maxKeys: 3 }),
      auth: fc.constantFrom('none', 'clerk', 'supervisor', 'forged', 'cookie') as fc.Arbitrary<HttpCase['auth']>,
      body: route.method === 'GET' ? fc.constant(null) : body,
      idempotencyKey: fc.option(hostileString, { nil: null }),
    }),
  );
}

function httpTarget(storeKind: StoreKind, testRuns: number): FuzzTarget<HttpCase> {
  return {
    name: storeKind === 'sqlite' ? 'http-routes' : `http-routes-${storeKind}`,
    corpus: 'http-routes',
    description: `every registered HTTP route on ${storeKind === 'sqlite' ? 'SQLite' : 'PostgreSQL'}: hostile path parameters, queries, bodies, content types and sessions`,
    testRuns,
    kind: 'json',
    async open() {
      const f = await openFixture(storeKind);
      return {
        arbitrary: caseArbitrary(f),
        check: (c: HttpCase) => checkCase(f, c),
        async verifyState() {
          const v = await f.t.services.store.audit.verify();
          if (!v.ok) throw new Error(`the audit chain no longer verifies after the attack: ${JSON.stringify(v)}`);
        },
        async close() {
          await f.app.close();
          await f.t.cleanup();
        },
      };
    },
  };
}

export const httpRoutes = httpTarget('sqlite', 400);
/** The same on PostgreSQL, which refuses what SQLite keeps (a NUL in text: it was a 500). */
export const httpRoutesPostgres = httpTarget('postgres', 200);

/** The routes the fixture's app registers (for the test that every route was attacked). */
export async function registeredRoutes(): Promise<string[]> {
  const f = await openFixture();
  try {
    return f.app.routeList.map((r) => `${r.method} ${r.url}`);
  } finally {
    await f.app.close();
    await f.t.cleanup();
  }
}

export const HTTP_TARGETS = [httpRoutes, httpRoutesPostgres];
export { readCorpus };
