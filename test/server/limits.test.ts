/**
 * The HTTP edge under hostile clients, over real sockets (issue 10, holes 4 and 7): stalled and trickled
 * bodies, stalled headers, idle keep-alive connections and a flood of connections are cut off by the
 * limits; whatever the parser or fastify refuses is answered in the project's JSON with Connection: close.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { DEFAULT_LIMITS } from '../../src/server/limits.js';
import { createTestInstallation, type TestInstallation } from '../support/installation.js';

/** What a raw client saw: the bytes the server sent, and whether (and when) the server closed the socket. */
interface Exchange {
  response: string;
  closed: boolean;
  closedAfterMs: number;
}

/** Opens a socket, writes `parts` (strings, or pauses in ms as numbers), and watches until `watchMs`. */
function exchange(port: number, parts: (string | number)[], watchMs: number): Promise<Exchange> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let response = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ response, closed, closedAfterMs: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), watchMs);
    socket.on('data', (d) => (response += d.toString('utf8')));
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
    void (async () => {
      for (const p of parts) {
        if (done) return;
        if (typeof p === 'number') await new Promise((r) => setTimeout(r, p));
        else socket.write(p);
      }
    })();
  });
}

function headerOf(response: string, name: string): string | undefined {
  const head = response.split('\r\n\r\n')[0] ?? '';
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

function bodyOf(response: string): unknown {
  return JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));
}

describe('the HTTP edge over real sockets', () => {
  let t: TestInstallation;
  let app: FastifyInstance;
  let port: number;
  const limits = { requestTimeoutMs: 1000, headersTimeoutMs: 1000, idleTimeoutMs: 3000, keepAliveTimeoutMs: 1000, maxConnections: 8, checkIntervalMs: 100 };

  beforeAll(async () => {
    t = await createTestInstallation({ prefectures: ['13'], publishCrls: true });
    app = await buildApp(t.services, { limits });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  it('has limits by default: a request, headers, idle and keep-alive time, a connection cap', async () => {
    const plain = await buildApp(t.services);
    try {
      expect(plain.server.requestTimeout).toBe(DEFAULT_LIMITS.requestTimeoutMs);
      expect(plain.server.headersTimeout).toBe(DEFAULT_LIMITS.headersTimeoutMs);
      expect(plain.server.keepAliveTimeout).toBe(DEFAULT_LIMITS.keepAliveTimeoutMs);
      expect(plain.server.timeout).toBe(DEFAULT_LIMITS.idleTimeoutMs);
      expect(plain.server.maxConnections).toBe(DEFAULT_LIMITS.maxConnections);
      for (const v of Object.values(DEFAULT_LIMITS)) expect(v).toBeGreaterThan(0);
    } finally {
      await plain.close();
    }
  });

  it('a body that stalls after its headers is answered 408 in JSON and its socket closed', async () => {
    const head = 'POST /api/counter/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"name":"';
    const r = await exchange(port, [head], 15_000);
    expect(r.closed).toBe(true);
    expect(r.response).toMatch(/^HTTP\/1\.1 408 /);
    expect(headerOf(r.response, 'connection')).toBe('close');
    expect(bodyOf(r.response)).toEqual({ error: 'REQUEST_TIMEOUT', message: expect.any(String) });
  });

  it('a body trickled a byte at a time is cut off too: the whole request has a deadline, not only silence', async () => {
    const parts: (string | number)[] = ['POST /api/counter/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"name":"'];
    for (let i = 0; i < 60; i++) parts.push('a', 100);
    const r = await exchange(port, parts, 15_000);
    expect(r.closed).toBe(true);
    // cut before the trickle would have ended (60 × 100 ms)
    expect(r.closedAfterMs).toBeLessThan(6000);
    expect(r.response).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('headers that never end are cut off', async () => {
    const r = await exchange(port, ['GET /ca HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n', 400, 'X-Slower: 2\r\n', 400, 'X-Slowest: 3\r\n'], 15_000);
    expect(r.closed).toBe(true);
    expect(r.response === '' || /^HTTP\/1\.1 408 /.test(r.response)).toBe(true);
  });

  it('an idle keep-alive connection is closed after its time', async () => {
    const r = await exchange(port, ['GET /ca HTTP/1.1\r\nHost: x\r\n\r\n'], 15_000);
    expect(r.response).toMatch(/^HTTP\/1\.1 200 /);
    expect(headerOf(r.response, 'keep-alive')).toBe('timeout=1');
    expect(r.closed).toBe(true);
  });

  it('no more connections than the cap are held at once; the service goes on for others once they go', async () => {
    const sockets: Socket[] = [];
    const held = () =>
      new Promise<Socket>((resolve) => {
        const s = connect(port, '127.0.0.1', () => resolve(s));
        s.on('error', () => undefined);
        // half a request: a stalled client holding its connection
        s.write('GET /ca HTTP/1.1\r\n');
        sockets.push(s);
      });
    for (let i = 0; i < limits.maxConnections; i++) await held();
    await new Promise((r) => setTimeout(r, 100));
    const extra = await exchange(port, ['GET /ca HTTP/1.1\r\nHost: x\r\n\r\n'], 3000);
    expect(extra.closed).toBe(true);
    expect(extra.response).toBe('');
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const after = await fetch(`http://127.0.0.1:${port}/ca`);
    expect(after.status).toBe(200);
  });

  it.each([
    ['headers too large', `GET /ca HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'REQUEST_HEADERS_TOO_LARGE'],
    ['not HTTP', 'BLAH\r\n\r\n', 400, 'REQUEST_MALFORMED'],
    ['an unknown method', 'FOO /ca HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'REQUEST_MALFORMED'],
    ['broken chunked encoding', 'POST /ocsp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400, 'REQUEST_MALFORMED'],
    ['a badly encoded URL', 'GET /crl/%zz.crl HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'FST_ERR_BAD_URL'],
    ['a path segment too long', `GET /crl/${'a'.repeat(200)}.crl HTTP/1.1\r\nHost: x\r\n\r\n`, 414, 'FST_ERR_MAX_PARAM_LENGTH'],
    ['bad JSON', 'POST /api/counter/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{abc}', 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
    ['an empty JSON body', 'POST /api/counter/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n', 400, 'FST_ERR_CTP_EMPTY_JSON_BODY'],
    ['an unsupported media type', 'POST /api/counter/login HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 4\r\n\r\n<a/>', 415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE'],
    ['a body over the limit', `POST /api/counter/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${2 << 20}\r\n\r\n{}`, 413, 'FST_ERR_CTP_BODY_TOO_LARGE'],
  ])('%s: answered in the project\u2019s JSON with Connection: close, and the socket closed', async (_name, request, status, code) => {
    const r = await exchange(port, [request], 5000);
    expect(r.response).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(headerOf(r.response, 'connection')).toBe('close');
    expect(headerOf(r.response, 'content-type')).toMatch(/^application\/json/);
    const body = bodyOf(r.response) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['error', 'message']);
    expect(body.error).toBe(code);
    expect(r.closed).toBe(true);
  });
});
