import { timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isJpkiError } from '../../../common/errors.js';
import { CounterError, negotiateLanguage, translate, type Counter, type Language, type Operator } from '../../../counter/index.js';
import { HTTP_STATUS, type ErrorBody } from '../../errors.js';
import { isFrameworkClientError } from '../../limits.js';

/**
 * Who may call a counter route, declared on every route (`config.scope`) and enforced in ONE place, the
 * guard below, before the body is even validated:
 * - public: no session (login only);
 * - operator: any logged-in operator; the route only ever reads the operator's own municipality;
 * - resident: the route names a resident (`residentId` in the path, body or query) who must live in the
 *   operator's municipality;
 * - application / document: the route names an application or a receipt/notice (`:number`) that must
 *   belong to the operator's municipality.
 * `supervisor: true` additionally requires the supervisor role. Refusals are audited by the counter.
 */
export type CounterScope =
  | { kind: 'public' }
  | { kind: 'operator' }
  | { kind: 'resident'; from: 'params' | 'body' | 'query' }
  | { kind: 'application' }
  | { kind: 'document' };

export interface CounterRouteConfig {
  scope: CounterScope;
  supervisor?: boolean;
}

export interface CounterRequestState {
  lang: Language;
  operator?: Operator;
  /** How the session came: the cookie (needs the CSRF header on writes) or an Authorization bearer token. */
  via?: 'cookie' | 'bearer';
  token?: string;
  csrfToken?: string;
  expiresAt?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    counter?: CounterRouteConfig;
  }
  interface FastifyRequest {
    counterState?: CounterRequestState;
  }
}

export const SESSION_COOKIE = 'jpki_counter_session';
export const CSRF_HEADER = 'x-csrf-token';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      // A badly %-encoded value (found by fuzzing: it was a 500) is no session, not an error of ours.
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function languageOf(request: FastifyRequest, operator?: Operator): Language {
  const q = (request.query as Record<string, unknown> | undefined)?.lang;
  return negotiateLanguage({ query: typeof q === 'string' ? q : undefined, operator: operator?.language, acceptLanguage: request.headers['accept-language'] });
}

export function state(request: FastifyRequest): CounterRequestState {
  return (request.counterState ??= { lang: languageOf(request) });
}

/** The operator of the request (the guard has run, so there is one on every non-public route). */
export function operatorOf(request: FastifyRequest): Operator {
  const o = request.counterState?.operator;
  if (!o) throw new CounterError('COUNTER_SESSION_REQUIRED', 'no valid session: log in again');
  return o;
}

export function idempotencyKey(request: FastifyRequest): string {
  const v = request.headers[IDEMPOTENCY_HEADER];
  if (typeof v !== 'string' || v.length === 0)
    throw new CounterError('COUNTER_IDEMPOTENCY_KEY_REQUIRED', 'this submission needs an Idempotency-Key header (one new value per user action)', { field: 'Idempotency-Key' });
  return v;
}

function stringField(source: unknown, name: string): string | undefined {
  const v = source && typeof source === 'object' ? (source as Record<string, unknown>)[name] : undefined;
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** The guard: session, CSRF, municipality scope, role — in that order. Runs as preValidation. */
export function counterGuard(counter: Counter) {
  return async (request: FastifyRequest): Promise<void> => {
    const config = request.routeOptions.config.counter;
    const st = state(request);
    // Only the not-found handler has no config: every route declares one (index.ts refuses it otherwise).
    if (!config) return;
    if (config.scope.kind === 'public') return;

    const auth = request.headers.authorization;
    const bearer = typeof auth === 'string' && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '').trim() : undefined;
    const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
    const token = bearer ?? cookie;
    if (!token) throw new CounterError('COUNTER_SESSION_REQUIRED', 'log in first (session cookie or Authorization: Bearer token)');
    const session = await counter.operators.resume(token);
    Object.assign(st, { operator: session.operator, via: bearer ? 'bearer' : 'cookie', token, csrfToken: session.csrfToken, expiresAt: session.expiresAt });
    st.lang = languageOf(request, session.operator);

    // A cookie is sent by the browser on its own; a write must also prove it comes from our page.
    if (st.via === 'cookie' && !SAFE_METHODS.has(request.method)) {
      const header = request.headers[CSRF_HEADER];
      if (typeof header !== 'string' || !sameToken(header, session.csrfToken))
        throw new CounterError('COUNTER_CSRF_TOKEN_INVALID', `a state-changing request with the session cookie needs the ${CSRF_HEADER} header from login or /me`);
    }

    const action = `${request.method} ${request.routeOptions.url}`;
    const scope = config.scope;
    if (scope.kind === 'resident') {
      const source = scope.from === 'params' ? request.params : scope.from === 'body' ? request.body : request.query;
      const id = stringField(source, 'residentId');
      // Without a resident id the request is malformed; validation answers that.
      if (id) await counter.assertResidentInScope(session.operator, id, action);
    } else if (scope.kind === 'application') {
      const n = stringField(request.params, 'number');
      if (n) await counter.assertApplicationInScope(session.operator, n, action);
    } else if (scope.kind === 'document') {
      const n = stringField(request.params, 'number');
      if (n) await counter.assertDocumentInScope(session.operator, n, action);
    }
    if (config.supervisor) await counter.assertSupervisor(session.operator, action);
  };
}

/** Errors of the counter routes, in the operator's language (the status still comes from server/errors.ts). */
export function counterErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  const lang = request.counterState?.lang ?? languageOf(request);
  void reply.header('content-language', lang);
  if (isJpkiError(error)) {
    const status = HTTP_STATUS[error.kind];
    const known = translate(error.code, error.params, lang);
    // 5xx never carry internal detail: only the catalogue's words for codes it knows (no card, aborted…).
    if (status >= 500 && (error.kind === 'internal' || known === undefined)) {
      request.log.error({ err: error }, 'counter request failed');
      void reply.status(status).send({ error: error.kind === 'internal' ? 'INTERNAL' : error.code, message: translate('INTERNAL', {}, lang)! } satisfies ErrorBody);
      return;
    }
    void reply.status(status).send({ error: error.code, message: known ?? error.message, params: error.params } satisfies ErrorBody);
    return;
  }
  const fe = error as FastifyError;
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    if (isFrameworkClientError(fe)) void reply.header('connection', 'close');
    void reply.status(fe.statusCode).send({ error: fe.code ?? 'BAD_REQUEST', message: translate('BAD_REQUEST', {}, lang)! } satisfies ErrorBody);
    return;
  }
  request.log.error({ err: error }, 'counter request failed');
  void reply.status(500).send({ error: 'INTERNAL', message: translate('INTERNAL', {}, lang)! } satisfies ErrorBody);
}
