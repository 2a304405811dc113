import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from './errors.js';

/**
 * What one client may hold of the server (issue 10, hole 4): without these a stalled request body stayed
 * open for ever (fastify's requestTimeout is 0 by default), and 200 stalled 1 MiB bodies held 165 MB.
 */
export interface ServerLimits {
  /** Largest request body (bytes); larger ones are refused before they are read. */
  bodyLimit: number;
  /** The whole request — headers and body — must arrive within this (ms); else 408 and the socket closes. */
  requestTimeoutMs: number;
  /** The headers must arrive within this (ms). */
  headersTimeoutMs: number;
  /** A socket with no traffic either way for this long (ms) is closed (a body stalled mid-way, a dead peer). */
  idleTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (ms). */
  keepAliveTimeoutMs: number;
  /** Connections open at once; further ones are dropped at accept until some close. */
  maxConnections: number;
  /** How often the server looks for requests past their time (ms; Node's default is 30 s). */
  checkIntervalMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  bodyLimit: 1 << 20,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  keepAliveTimeoutMs: 10_000,
  maxConnections: 1024,
  checkIntervalMs: 1000,
};

/** The fastify options that enforce the limits (maxConnections is set on the server once it exists). */
export function limitOptions(l: ServerLimits) {
  return {
    bodyLimit: l.bodyLimit,
    requestTimeout: l.requestTimeoutMs,
    connectionTimeout: l.idleTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    http: { headersTimeout: Math.min(l.headersTimeoutMs, l.requestTimeoutMs), connectionsCheckingInterval: l.checkIntervalMs },
  };
}

/**
 * Errors Node's HTTP parser raises before there is a request (fastify's clientErrorHandler): an unparsable
 * request line or header, headers too large, a request past its time. Answered in the project's JSON with
 * `Connection: close` — the socket is closed after it, and the client is told so.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, body]: [number, ErrorBody] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, { error: 'REQUEST_TIMEOUT', message: 'the request did not arrive in time' }]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, { error: 'REQUEST_HEADERS_TOO_LARGE', message: 'the request headers are too large' }]
        : [400, { error: 'REQUEST_MALFORMED', message: 'the request is not valid HTTP/1.1' }];
  const json = JSON.stringify(body);
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
    );
  socket.destroy();
}

/**
 * Errors fastify raises before a route is found (fastify's frameworkErrors: FST_ERR_BAD_URL,
 * FST_ERR_MAX_PARAM_LENGTH, FST_ERR_ASYNC_CONSTRAINT): the project's JSON, and the connection is closed.
 */
export function frameworkErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  void reply
    .status(status)
    .header('connection', 'close')
    .send({ error: error.code ?? 'BAD_REQUEST', message: error.code === 'FST_ERR_BAD_URL' ? 'the URL is not validly encoded' : error.message } satisfies ErrorBody);
}

/** Whether an error is fastify's own refusal of a request it could not read (bad body, media type, size). */
export function isFrameworkClientError(error: unknown): boolean {
  const fe = error as Partial<FastifyError>;
  return typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500 && typeof fe.code === 'string' && fe.code.startsWith('FST_ERR');
}
