import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Clock } from '../common/clock.js';
import { MAX_REQUEST_BYTES, type OcspAnswer, type OcspResponder } from '../ocsp/index.js';
import { getRequestDer, ocspHeaders } from './routes/ocsp.js';

const EMPTY = Buffer.alloc(0);
const DIGITS = /^\d+$/;

/**
 * The plain OCSP requests, answered before fastify sees them (issue 12: fastify's routing, content-type
 * parsing, hooks and reply object were a third of the cached path's work). It takes only what the OCSP route
 * would answer without any of fastify's refusals: `POST /ocsp` (or `/ocsp/`) with `Content-Type:
 * application/ocsp-request` and a Content-Length of at most 64 KiB, and `GET /ocsp/<base64>` without a `%`
 * escape and without a body; neither with `If-None-Match` or `Expect`. Everything else — chunked or oversized
 * bodies, other content types, broken escapes, conditional requests, every other route — goes to fastify
 * unchanged. The answer is the route's own: the same responder, status, headers (`ocspHeaders`) and body
 * (test/server/ocsp-fast-path.test.ts compares the bytes with the fastify route's).
 *
 * Returns true when it took the request.
 */
export function ocspFastPath(deps: { responder: OcspResponder; clock: Clock }): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { responder, clock } = deps;
  const send = (res: ServerResponse, a: OcspAnswer) => {
    const headers = ocspHeaders(a, clock.now().getTime());
    headers['content-length'] = String(a.der.length);
    res.writeHead(200, headers);
    res.end(a.der);
  };
  const answer = (der: Buffer, res: ServerResponse) => {
    const hit = responder.cached(der);
    if (hit) send(res, hit);
    // respond() never rejects; a failure to write goes to a socket that is gone
    else void responder.respond(der).then((a) => send(res, a)).catch(() => res.destroy());
  };
  return (req, res) => {
    const url = req.url ?? '';
    const h = req.headers;
    if (h['if-none-match'] !== undefined || h.expect !== undefined || h['transfer-encoding'] !== undefined) return false;
    const length = h['content-length'];
    if (req.method === 'POST') {
      if ((url !== '/ocsp' && url !== '/ocsp/') || h['content-type'] !== 'application/ocsp-request') return false;
      if (length === undefined || !DIGITS.test(length) || Number(length) > MAX_REQUEST_BYTES) return false;
      readBody(req, Number(length), (der) => answer(der, res));
      return true;
    }
    if (req.method === 'GET' && url.startsWith('/ocsp/') && !url.includes('%') && (length === undefined || length === '0')) {
      req.resume();
      answer(getRequestDer(url), res);
      return true;
    }
    return false;
  };
}

/** Reads a body of a known length (Node's parser ends it there); a client that goes away gets nothing. */
function readBody(req: IncomingMessage, length: number, done: (body: Buffer) => void): void {
  req.on('error', () => undefined);
  if (length === 0) {
    req.resume();
    req.once('end', () => done(EMPTY));
    return;
  }
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  req.on('data', (c: Buffer) => {
    if (!first) first = c;
    else (chunks ??= [first]).push(c);
  });
  req.once('end', () => done(chunks ? Buffer.concat(chunks) : (first ?? EMPTY)));
}

/** Puts the fast path in front of the server's request handler (fastify's). */
export function installOcspFastPath(server: Server, fast: (req: IncomingMessage, res: ServerResponse) => boolean): void {
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (fast(req, res)) return;
    for (const handle of handlers) handle(req, res);
  });
}
