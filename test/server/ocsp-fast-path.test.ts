/**
 * The OCSP fast path in front of fastify (src/server/ocsp-fast-path.ts) answers byte for byte as the fastify
 * route does: the same requests over real sockets to an app with the fast path and to one without it (same
 * services, so the same cached responses), compared as raw HTTP bytes with only the Date header left out.
 * An onRequest hook counts what reached fastify, so each case also shows which side answered it.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { FixedClock } from '../../src/common/clock.js';
import { createTestInstallation, type TestInstallation } from '../support/installation.js';
import { issueLeaf, issuerOf, readOcspResponse, requestFor, type IssuerKeys } from '../ocsp/support.js';

/** Sends raw request bytes on a new connection and reads everything until the server closes it. */
function exchange(port: number, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // not half-closed: Node's server drops a request whose client ended its side; `Connection: close` ends it
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
}

function post(body: Buffer, headers: Record<string, string> = { 'Content-Type': 'application/ocsp-request' }, path = '/ocsp'): Buffer {
  const lines = [`POST ${path} HTTP/1.1`, 'Host: localhost', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'transfer-encoding')) lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), body]);
}

function get(path: string, headers: Record<string, string> = {}): Buffer {
  const lines = [`GET ${path} HTTP/1.1`, 'Host: localhost', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`);
}

/** The raw response without its Date header, split into head (text) and body. */
function split(raw: Buffer): { head: string; body: Buffer } {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw
    .subarray(0, end)
    .toString('latin1')
    .split('\r\n')
    .filter((l) => !/^date:/i.test(l))
    .join('\r\n');
  return { head, body: raw.subarray(end + 4) };
}

describe('OCSP fast path in front of fastify', () => {
  let t: TestInstallation;
  let fast: FastifyInstance;
  let plain: FastifyInstance;
  let tokyo: IssuerKeys;
  let good: string;
  let revoked: string;
  let reachedFastify = 0;
  const clock = new FixedClock(Math.floor(Date.now() / 1000) * 1000);
  const port = (app: FastifyInstance) => (app.server.address() as { port: number }).port;

  beforeAll(async () => {
    t = await createTestInstallation({ prefectures: ['13'], clock });
    fast = await buildApp(t.services);
    fast.addHook('onRequest', async () => void reachedFastify++);
    plain = await buildApp(t.services, { ocspFastPath: false });
    await fast.listen({ port: 0, host: '127.0.0.1' });
    await plain.listen({ port: 0, host: '127.0.0.1' });
    tokyo = await issuerOf(t.services, 'pref-13');
    good = (await issueLeaf(t.services)).serial;
    revoked = (await issueLeaf(t.services)).serial;
    await t.services.ca.revoke({ serial: revoked, reason: 'keyCompromise', actor: 'test' });
    await t.services.ocsp.sync();
  });

  afterAll(async () => {
    await fast?.close();
    await plain?.close();
    await t?.cleanup();
  });

  /** Sends the request to fastify's route first (which signs and caches on a miss), then to the fast path. */
  async function both(request: Buffer, fastPathTakesIt: boolean | 'refused before routing'): Promise<{ fast: { head: string; body: Buffer }; plain: { head: string; body: Buffer } }> {
    const p = split(await exchange(port(plain), request));
    const before = reachedFastify;
    const f = split(await exchange(port(fast), request));
    // fastify refuses a broken escape before its onRequest hooks run
    if (fastPathTakesIt !== 'refused before routing') expect(reachedFastify - before, 'requests that reached fastify').toBe(fastPathTakesIt ? 0 : 1);
    return { fast: f, plain: p };
  }

  async function identical(request: Buffer, fastPathTakesIt: boolean | 'refused before routing'): Promise<Buffer> {
    const r = await both(request, fastPathTakesIt);
    expect(r.fast.head).toBe(r.plain.head);
    expect(r.fast.body.equals(r.plain.body)).toBe(true);
    return r.fast.body;
  }

  it('answers good, revoked and never-issued serials as the route does', async () => {
    const g = readOcspResponse(await identical(post(requestFor(tokyo, [good])), true));
    expect(g.responses).toMatchObject([{ serial: good, status: 'good' }]);
    const r = readOcspResponse(await identical(post(requestFor(tokyo, [revoked])), true));
    expect(r.responses).toMatchObject([{ serial: revoked, status: 'revoked' }]);
    const unknown = await identical(post(requestFor(tokyo, [randomBytes(16).toString('hex').replace(/^./, '4')])), true);
    expect(readOcspResponse(unknown).status).toBe(6); // unauthorized
    // base64 and base64url GETs, without escapes
    const der = requestFor(tokyo, [good]);
    await identical(get(`/ocsp/${der.toString('base64')}`), true);
    await identical(get(`/ocsp/${der.toString('base64url')}`), true);
  });

  it('answers malformed, empty and bad-base64 requests with malformedRequest as the route does', async () => {
    for (const body of [randomBytes(200), Buffer.alloc(0), Buffer.from([0x30, 0x03, 0x30, 0x01])]) {
      expect(readOcspResponse(await identical(post(body), true)).status).toBe(1); // malformedRequest
    }
    expect(readOcspResponse(await identical(get('/ocsp/not*base64'), true)).status).toBe(1);
    expect(readOcspResponse(await identical(get('/ocsp/'), true)).status).toBe(1);
  });

  it('answers hostile bodies and GET paths byte for byte as the route does (truncations, bit flips, random bytes)', async () => {
    const der = requestFor(tokyo, [good]);
    const bodies: Buffer[] = [];
    for (let n = 0; n < der.length; n += 7) bodies.push(der.subarray(0, n));
    for (let i = 0; i < 40; i++) {
      const flipped = Buffer.from(der);
      flipped[Math.floor(Math.random() * flipped.length)]! ^= 1 << Math.floor(Math.random() * 8);
      bodies.push(flipped);
    }
    for (let i = 0; i < 20; i++) bodies.push(randomBytes(Math.floor(Math.random() * 300)));
    for (const body of bodies) {
      await identical(post(body), true);
      await identical(get(`/ocsp/${body.toString('base64url')}`), true);
    }
  });

  it('leaves to fastify what fastify refuses or treats specially, with the same answers', async () => {
    const der = requestFor(tokyo, [good]);
    // oversized body, other or missing content types, chunked bodies, query strings, escapes, conditional GETs
    await identical(post(randomBytes(70_000)), false);
    await identical(post(der, { 'Content-Type': 'application/json' }), false);
    await identical(post(der, {}), false);
    await identical(post(der, { 'Content-Type': '' }), false);
    const chunked = Buffer.concat([Buffer.from(`${der.length.toString(16)}\r\n`), der, Buffer.from('\r\n0\r\n\r\n')]);
    await identical(post(chunked, { 'Content-Type': 'application/ocsp-request', 'Transfer-Encoding': 'chunked' }), false);
    await identical(post(der, undefined, '/ocsp?x=1'), false);
    await identical(get(`/ocsp/${encodeURIComponent(der.toString('base64'))}`), false);
    const badEscape = await both(get('/ocsp/%zz'), 'refused before routing');
    expect(badEscape.fast.head).toBe(badEscape.plain.head);
    expect(badEscape.fast.head).toMatch(/^HTTP\/1\.1 400/);
    const etag = /etag: (.*)/i.exec(split(await exchange(port(plain), post(der))).head)![1]!;
    const notModified = await both(get(`/ocsp/${der.toString('base64url')}`, { 'If-None-Match': etag }), false);
    expect(notModified.fast.head).toBe(notModified.plain.head);
    expect(notModified.fast.head).toMatch(/^HTTP\/1\.1 304/);
    await identical(get('/crl/pref-13.crl'), false);
  });

  it('answers a nonce (signed now) with the same status line and headers', async () => {
    const r = await both(post(requestFor(tokyo, [good], { nonce: randomBytes(16) })), true);
    // ECDSA signatures differ in length from one signing to the next
    const withoutLength = (head: string) => head.replace(/content-length: \d+/, '');
    expect(withoutLength(r.fast.head)).toBe(withoutLength(r.plain.head));
    expect(r.fast.head).toMatch(/cache-control: no-store/);
    expect(readOcspResponse(r.fast.body).responses).toMatchObject([{ serial: good, status: 'good' }]);
  });

  it('keeps the connection open: several requests on one socket get their answers in order', async () => {
    const der = requestFor(tokyo, [good]);
    const keepAlive = (body: Buffer) => Buffer.concat([Buffer.from(`POST /ocsp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/ocsp-request\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
    const raw = await exchange(port(fast), Buffer.concat([keepAlive(der), keepAlive(randomBytes(10)), post(der)]));
    const statuses = raw.toString('latin1').match(/HTTP\/1\.1 \d+/g);
    expect(statuses).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 200']);
  });
});
