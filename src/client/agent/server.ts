import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Clock } from '../../common/clock.js';
import { isJpkiError } from '../../common/errors.js';
import { formatJapaneseDate } from '../../pki/era.js';
import { withCard, type CardSource } from '../card-session.js';
import { ClientError, clientErrorOf } from '../errors.js';
import { html, raw, type RawHtml } from '../html.js';
import type { Lang } from '../labels.js';
import { agentText, pickLang, type AgentMessageKey } from './messages.js';
import { RequestRegistry, type AgentRequest } from './requests.js';

/**
 * The local client agent (docs/agent-protocol.md): a small HTTP server on 127.0.0.1 through which web pages
 * of allow-listed origins read the resident's certificate and have something signed by the card. The PIN is
 * typed into the agent's own window, never into the calling site. Nothing secret is logged: fastify's logger
 * is off, and `onEvent` gets only the request type, the origin and the outcome.
 */
export const AGENT_VERSION = '1.0.0';
export const DEFAULT_AGENT_PORT = 8741;
export const DEFAULT_AGENT_ORIGINS = ['http://127.0.0.1:8080'];

export interface AgentOptions {
  card: CardSource;
  /** Origins (scheme://host[:port]) whose pages may use the agent. */
  allowedOrigins: readonly string[];
  clock: Clock;
  /** One line per request outcome (no PIN, content, signature or certificate ever). */
  onEvent?: (line: string) => void;
  /** Extra routes on the same server (the local certificate viewer). */
  plugins?: ((app: FastifyInstance, ctx: AgentContext) => Promise<void>)[];
}

export interface AgentContext {
  /** The agent's own origin, known once it listens (http://127.0.0.1:<port>). */
  ownOrigin(): string;
  /** The card, one use at a time. */
  useCard<T>(fn: Parameters<typeof withCard<T>>[1]): Promise<T>;
}

/** Normalises an origin as browsers send it; null for anything that is not scheme://host[:port]. */
export function normaliseOrigin(text: string): string | null {
  try {
    const u = new URL(text);
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.pathname !== '/' || u.search || u.hash || u.username) return null;
    return u.origin;
  } catch {
    return null;
  }
}

const AGENT_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export async function buildAgent(options: AgentOptions): Promise<FastifyInstance> {
  const allowed = new Set(options.allowedOrigins.map((o) => normaliseOrigin(o) ?? o));
  const registry = new RequestRegistry(options.clock);
  const log = options.onEvent ?? (() => undefined);
  const app = Fastify({ logger: false, bodyLimit: 2 << 20 });
  let cardQueue: Promise<unknown> = Promise.resolve();
  let own = 'http://127.0.0.1';
  const ctx: AgentContext = {
    ownOrigin: () => own,
    useCard: (fn) => {
      const run = cardQueue.then(() => withCard(options.card, fn));
      cardQueue = run.catch(() => undefined);
      return run;
    },
  };
  app.addHook('onListen', async () => {
    const a = app.server.address();
    if (a && typeof a === 'object') own = `http://127.0.0.1:${a.port}`;
  });

  app.setErrorHandler((error, _request, reply) => {
    if (isJpkiError(error)) {
      const status = { malformed: 400, unauthenticated: 401, forbidden: 403, 'not-found': 404, conflict: 409, locked: 423, unavailable: 503, internal: 500 }[error.kind];
      void reply.status(status).send({ error: error.code, message: status >= 500 ? 'internal error' : error.message });
      return;
    }
    const fe = error as { statusCode?: number; code?: string; message: string };
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      void reply.status(fe.statusCode).send({ error: fe.code ?? 'BAD_REQUEST', message: fe.message });
      return;
    }
    void reply.status(500).send({ error: 'INTERNAL', message: 'internal error' });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: 'NOT_FOUND', message: `no such resource: ${request.method} ${request.url.split('?')[0]}` });
  });

  // DNS rebinding: a page of any site could make its own name resolve to 127.0.0.1; only our own names pass.
  app.addHook('onRequest', async (request) => {
    const host = (request.headers.host ?? '').toLowerCase();
    if (!/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host)) throw new ClientError('AGENT_HOST_NOT_ALLOWED', 'forbidden', 'the agent answers only to 127.0.0.1 / localhost');
  });

  /** The calling page's origin, checked against the allow-list; sets the CORS headers for it. */
  function allowedOrigin(request: FastifyRequest, reply: FastifyReply): string {
    const raw = request.headers.origin;
    const origin = typeof raw === 'string' ? normaliseOrigin(raw) : null;
    if (!origin || !allowed.has(origin)) {
      log(`refused a request from ${typeof raw === 'string' ? JSON.stringify(raw.slice(0, 100)) : 'a page without an Origin'}: not on the allow-list`);
      throw new ClientError('AGENT_ORIGIN_NOT_ALLOWED', 'forbidden', `the origin ${typeof raw === 'string' ? raw.slice(0, 100) : '(none)'} is not allowed to use this agent (--allow-origin)`);
    }
    reply.header('access-control-allow-origin', origin).header('vary', 'Origin').header('cache-control', 'no-store');
    return origin;
  }

  app.options('/v1/*', async (request, reply) => {
    allowedOrigin(request, reply);
    return reply
      .status(204)
      .header('access-control-allow-methods', 'GET, POST')
      .header('access-control-allow-headers', 'content-type')
      .header('access-control-allow-private-network', 'true')
      .header('access-control-max-age', '600')
      .send();
  });

  app.get('/v1/status', async (request, reply) => {
    allowedOrigin(request, reply);
    const card = await ctx.useCard(async () => true).catch(() => false);
    return { version: AGENT_VERSION, reader: options.card.type === 'pcsc' ? options.card.readerName : `card image ${options.card.path}`, card };
  });

  app.post('/v1/requests', async (request, reply) => {
    const origin = allowedOrigin(request, reply);
    const r = registry.create(origin, request.body);
    log(`${r.body.type} request (${r.body.key}) from ${origin}: waiting for the resident`);
    return reply.status(201).send({ id: r.id, approveUrl: `${own}/approve/${r.id}`, expiresAt: new Date(r.expiresAt).toISOString() });
  });

  app.get<{ Params: { id: string } }>('/v1/requests/:id', async (request, reply) => {
    const origin = allowedOrigin(request, reply);
    const answer = /^[0-9a-f]{32}$/.test(request.params.id) ? registry.answer(request.params.id, origin) : null;
    if (!answer) throw new ClientError('AGENT_REQUEST_UNKNOWN', 'not-found', 'no such request (it was never made by this origin, expired, or was already delivered)');
    return answer;
  });

  // ---- the resident's window ----------------------------------------------------------------------------

  function page(reply: FastifyReply, lang: Lang, body: RawHtml, status = 200): FastifyReply {
    return reply
      .status(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', AGENT_PAGE_CSP)
      .header('x-frame-options', 'DENY')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .send(
        html`<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${agentText(lang, 'title')}</title><style>${raw(AGENT_STYLE)}</style></head><body><main><h1>${agentText(lang, 'title')}</h1>${body}</main></body></html>`
          .html,
      );
  }

  app.get<{ Params: { id: string }; Querystring: { lang?: string } }>('/approve/:id', async (request, reply) => {
    const lang = pickLang(request.query.lang, request.headers['accept-language']);
    const r = /^[0-9a-f]{32}$/.test(request.params.id) ? registry.forApproval(request.params.id) : null;
    if (!r || r.state !== 'pending') return page(reply, lang, html`<p role="alert" class="error">${agentText(lang, r?.state === 'expired' ? 'expired' : 'gone')}</p>`, r ? 410 : 404);
    return page(reply, lang, approvalForm(r, lang));
  });

  app.post<{ Params: { id: string }; Querystring: { lang?: string } }>('/approve/:id', async (request, reply) => {
    const lang = pickLang(request.query.lang, request.headers['accept-language']);
    const form = (request.body ?? {}) as Record<string, string | undefined>;
    // Only the agent's own page posts here: its origin and the form's secret token.
    if (normaliseOrigin(String(request.headers.origin ?? '')) !== own) throw new ClientError('AGENT_ORIGIN_NOT_ALLOWED', 'forbidden', 'decisions are taken only in the agent\u2019s own window');
    const r = /^[0-9a-f]{32}$/.test(request.params.id) ? registry.forApproval(request.params.id) : null;
    if (!r || r.state !== 'pending' || r.working) return page(reply, lang, html`<p role="alert" class="error">${agentText(lang, r?.state === 'expired' ? 'expired' : 'gone')}</p>`, r ? 410 : 404);
    if (form.token !== r.formToken) throw new ClientError('AGENT_FORM_INVALID', 'forbidden', 'the approval form is not the agent\u2019s own');
    if (form.decision === 'refuse') {
      registry.finish(r, { state: 'refused' });
      log(`${r.body.type} request from ${r.origin}: refused by the resident`);
      return page(reply, lang, html`<p role="status" class="done">${agentText(lang, 'refused')}</p>`);
    }
    if (form.decision !== 'approve') throw new ClientError('AGENT_FORM_INVALID', 'malformed', 'decide with 承認 or 拒否');
    r.working = true;
    try {
      const result = await ctx.useCard(async (card) => {
        if (r.body.type === 'certificate') {
          const der = await card.certificate(r.body.key, r.body.key === 'sign' ? form.pin : undefined);
          return { certificate: der.toString('base64') };
        }
        const signed = await card.signDetached(r.body.key, r.content!, form.pin ?? '', options.clock);
        return { signature: signed.signature.toString('base64'), certificate: signed.certificate.toString('base64') };
      });
      registry.finish(r, { state: 'done', result });
      log(`${r.body.type} request from ${r.origin}: done`);
      return page(reply, lang, html`<h2>${agentText(lang, 'doneTitle')}</h2><p role="status" class="done">${agentText(lang, 'done')}</p>`);
    } catch (e) {
      const err = clientErrorOf(e);
      const error = isJpkiError(err) && err.kind !== 'internal' ? { code: err.code, message: err.message } : { code: 'AGENT_FAILED', message: 'the card operation failed' };
      registry.finish(r, { state: 'failed', error });
      log(`${r.body.type} request from ${r.origin}: failed [${error.code}]`);
      return page(reply, lang, html`<h2>${agentText(lang, 'failed')}</h2><p role="alert" class="error">${error.message} [${error.code}]</p>`, 200);
    } finally {
      r.working = false;
    }
  });

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  for (const plugin of options.plugins ?? []) await plugin(app, ctx);
  return app;
}

function approvalForm(r: AgentRequest, lang: Lang): RawHtml {
  const t = (k: AgentMessageKey, p?: Record<string, string | number>) => agentText(lang, k, p);
  const body = r.body;
  const needsPin = body.type === 'sign' || body.key === 'sign';
  const rows: RawHtml[] = [html`<tr><th>${t('asks')}</th><td><strong class="origin">${r.origin}</strong></td></tr>`];
  rows.push(html`<tr><th></th><td>${t(body.type === 'sign' ? 'whatSign' : 'whatCertificate')}: ${t(body.key === 'sign' ? 'keySign' : 'keyAuth')}</td></tr>`);
  if (body.type === 'sign') {
    rows.push(html`<tr><th>${t('summary')}</th><td class="summary">${body.summary}</td></tr>`);
    rows.push(html`<tr><th>${t('contentType')}</th><td>${body.contentType}</td></tr>`);
    rows.push(html`<tr><th>${t('size')}</th><td>${t('bytes', { n: r.content!.length })}</td></tr>`);
    rows.push(html`<tr><th>${t('digest')}</th><td><code class="digest">${r.contentSha256}</code></td></tr>`);
    const text = utf8Text(r.content!);
    if (text !== null) rows.push(html`<tr><th>${t('text')}</th><td><pre class="content">${text}</pre></td></tr>`);
  }
  const expires = new Date(r.expiresAt);
  const time = `${formatJapaneseDate(expires)} ${new Intl.DateTimeFormat('ja-JP', { timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(expires)}`;
  return html`<table>${rows}</table>
<form method="post" action="/approve/${r.id}?lang=${lang}">
<input type="hidden" name="token" value="${r.formToken}">
${needsPin ? html`<p><label for="pin">${t(body.key === 'sign' ? 'pinSign' : 'pinAuth')}</label><br><input id="pin" name="pin" type="password" autocomplete="off" inputmode="${body.key === 'auth' ? 'numeric' : 'text'}" maxlength="16" autofocus></p>` : ''}
<p class="note">${t('note')}</p>
<p class="buttons"><button type="submit" name="decision" value="approve" id="approve">${t('approve')}</button> <button type="submit" name="decision" value="refuse" id="refuse">${t('refuse')}</button></p>
<p class="expires">${t('expires', { time })}</p>
</form>`;
}

/** The content as text when it is UTF-8 without control characters other than tab and newlines. */
function utf8Text(bytes: Buffer): string | null {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? null : text;
  } catch {
    return null;
  }
}

const AGENT_STYLE = `body{font-family:system-ui,"Noto Sans CJK JP",sans-serif;margin:0;background:#f4f6f8;color:#111}
main{max-width:40rem;margin:1rem auto;background:#fff;padding:1rem 1.5rem;border:1px solid #ccd}
h1{font-size:1.1rem;border-bottom:2px solid #1f4e8c;padding-bottom:.4rem}
th{text-align:left;vertical-align:top;padding:.3rem .6rem .3rem 0;white-space:nowrap;font-weight:600}
td{padding:.3rem 0;word-break:break-all}.origin{font-size:1.1rem;color:#8c1f1f}
pre{white-space:pre-wrap;background:#f7f7f7;padding:.5rem;max-height:16rem;overflow:auto}
button{font-size:1rem;padding:.4rem 1.4rem;margin-right:.6rem}#approve{background:#1f4e8c;color:#fff;border:0}
.error{color:#8c1f1f;font-weight:600}.done{color:#1f6b2e;font-weight:600}.note,.expires{font-size:.9rem;color:#444}
input[type=password]{font-size:1.1rem;padding:.3rem;width:14rem}`;
