import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../common/clock.js';
import { errorAnswer, MAX_REQUEST_BYTES, type OcspAnswer, type OcspResponder } from '../../ocsp/index.js';

/**
 * How long HTTP caches may keep a pre-signed response (RFC 5019 §6.2), at most: a cache in front of the
 * responder then serves a revoked certificate's old "good" for five minutes at worst; revalidating with the
 * ETag is cheap. Never longer than the response itself stays valid.
 */
export const OCSP_MAX_AGE_S = 300;

const EMPTY = Buffer.alloc(0);
const CACHE_CONTROL_FULL = `max-age=${OCSP_MAX_AGE_S}, public, no-transform, must-revalidate`;

/** The HTTP headers of an OCSP answer, in the order they are sent (by the route and by the fast path alike). */
export function ocspHeaders(a: OcspAnswer, now: number): Record<string, string> {
  const http = a.http;
  if (!http) return { 'content-type': 'application/ocsp-response', 'cache-control': 'no-store' };
  const left = Math.floor((http.nextUpdate - now) / 1000);
  return {
    'content-type': 'application/ocsp-response',
    'cache-control': left >= OCSP_MAX_AGE_S ? CACHE_CONTROL_FULL : `max-age=${Math.max(0, left)}, public, no-transform, must-revalidate`,
    etag: http.etag,
    'last-modified': http.lastModified,
    expires: http.expires,
  };
}

/**
 * The OCSP responder over HTTP (RFC 6960 Appendix A, RFC 5019 §5): POST `/ocsp` with an
 * application/ocsp-request body, or GET `/ocsp/<base64 or base64url DER, URL-encoded>`. Every answer is an
 * application/ocsp-response with HTTP 200 — malformed input too (status malformedRequest, never a 500).
 * Pre-signed answers carry caching headers; answers with an echoed nonce are marked no-store.
 *
 * Registered as an encapsulated plugin: its lenient body parser and its error handler apply here only.
 */
export async function ocspRoutes(app: FastifyInstance, opts: { responder: OcspResponder; clock: Clock }): Promise<void> {
  const { responder, clock } = opts;

  // The body is DER whatever the client calls it (some send no content type, or a wrong one).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_REQUEST_BYTES }, (_req, body, done) => done(null, body));
  // Oversized or unreadable bodies end up here: they are malformed requests, not server errors.
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const clientError = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500;
    if (!clientError) request.log.error({ err: error }, 'OCSP request failed');
    // HTTP 200 whatever fastify made of it (an empty Content-Type was a 415, found by fuzzing): the OCSP
    // status inside says what went wrong (RFC 6960 Appendix A).
    void send(reply.code(200), request, errorAnswer(clientError ? 'malformedRequest' : 'internalError'));
  });

  const send = (reply: FastifyReply, request: FastifyRequest, a: OcspAnswer): FastifyReply => {
    reply.headers(ocspHeaders(a, clock.now().getTime()));
    if (a.http && request.headers['if-none-match'] === a.http.etag) return reply.code(304).send();
    return reply.send(a.der);
  };

  const handle = (der: Uint8Array, request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply> => {
    const hit = responder.cached(der);
    if (hit) return send(reply, request, hit);
    return responder.respond(der).then((a) => send(reply, request, a));
  };

  const post = (request: FastifyRequest, reply: FastifyReply) => handle(Buffer.isBuffer(request.body) ? request.body : EMPTY, request, reply);
  app.post('/ocsp', post);
  app.post('/ocsp/', post);
  app.get('/ocsp/*', (request, reply) => handle(getRequestDer(request.url), request, reply));
}

/**
 * The DER of a GET request: the path after /ocsp/, URL-decoded, base64 or base64url. Anything that is not
 * clean base64 gives empty bytes, which the responder answers as malformed.
 */
export function getRequestDer(url: string): Buffer {
  const q = url.indexOf('?');
  const path = url.slice('/ocsp/'.length, q < 0 ? undefined : q);
  let text: string;
  try {
    text = decodeURIComponent(path);
  } catch {
    return EMPTY;
  }
  text = text.replace(/-/g, '+').replace(/_/g, '/');
  if (text.length > (MAX_REQUEST_BYTES * 4) / 3 + 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return EMPTY;
  return Buffer.from(text, 'base64');
}
