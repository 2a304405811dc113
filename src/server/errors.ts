import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isJpkiError, type ErrorKind } from '../common/errors.js';
import { isFrameworkClientError } from './limits.js';

/** HTTP status by error kind: the one place the server translates errors. */
export const HTTP_STATUS: Record<ErrorKind, number> = {
  malformed: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  locked: 423,
  unavailable: 503,
  internal: 500,
};

/** The JSON body of every error reply: a stable code and a message; 5xx never carry internal detail. */
export interface ErrorBody {
  error: string;
  message: string;
  params?: Record<string, string | number>;
}

export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (isJpkiError(error)) {
    const status = HTTP_STATUS[error.kind];
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const body: ErrorBody =
      status >= 500 ? { error: error.code, message: 'internal error' } : { error: error.code, message: error.message, params: error.params };
    void reply.status(status).send(body);
    return;
  }
  const fe = error as FastifyError;
  // Fastify's own client errors: bad JSON, body too large, unsupported media type. A body it did not read
  // to the end leaves the connection unusable, so it is closed — and the client is told.
  if (isFrameworkClientError(fe)) {
    void reply.status(fe.statusCode!).header('connection', 'close').send({ error: fe.code, message: fe.message } satisfies ErrorBody);
    return;
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    void reply.status(fe.statusCode).send({ error: fe.code ?? 'BAD_REQUEST', message: fe.message } satisfies ErrorBody);
    return;
  }
  request.log.error({ err: error }, 'request failed');
  void reply.status(500).send({ error: 'INTERNAL', message: 'internal error' } satisfies ErrorBody);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  void reply.status(404).send({ error: 'NOT_FOUND', message: `no such resource: ${request.method} ${request.url.split('?')[0]}` } satisfies ErrorBody);
}
