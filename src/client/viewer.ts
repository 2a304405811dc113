import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AgentContext } from './agent/server.js';
import { normaliseOrigin } from './agent/server.js';
import { pickLang } from './agent/messages.js';
import type { CardSource } from './card-session.js';
import { certificateHtml, certificateSections, CERTIFICATE_STYLE } from './certificate-html.js';
import { viewCertificate } from './certificate-view.js';
import { ClientError, clientErrorOf } from './errors.js';
import { html, raw, type RawHtml } from './html.js';
import { LANGS, type Lang } from './labels.js';
import { viewerText, type ViewerKey } from './viewer-messages.js';
import { isJpkiError } from '../common/errors.js';

/**
 * The certificate viewer (証明書Viewer) in the browser, served by the local client software on 127.0.0.1:
 * tabs 基本 and 詳細, buttons HTML表示 and 閉じる, in ja / en / ko. Server-rendered (the viewer runs where the
 * card is; nothing is fetched from elsewhere), the tabs are CSS (:target), the only script is 閉じる.
 *
 * With a card, the signing password is typed into this page (the signing certificate is readable only after
 * it) and the certificate read is kept for 10 minutes under a random id; with `--cert`, the file is shown.
 */
export type ViewerSource = { card: CardSource } | { certificate: Buffer };

const VIEW_LIFETIME_MS = 10 * 60_000;
const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const CLOSE_SCRIPT = `document.getElementById('close').addEventListener('click',function(e){e.preventDefault();window.close();setTimeout(function(){location.href='/viewer/closed';},150);});`;

export function viewerPlugin(source: ViewerSource) {
  return async (app: FastifyInstance, ctx: AgentContext): Promise<void> => {
    const views = new Map<string, { der: Buffer; at: number }>();
    const formToken = randomBytes(16).toString('hex');
    if ('certificate' in source) views.set('file', { der: source.certificate, at: Infinity });

    const send = (reply: FastifyReply, lang: Lang, title: string, body: RawHtml, status = 200) =>
      reply
        .status(status)
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', CSP)
        .header('x-frame-options', 'DENY')
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store')
        .send(
          html`<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><style>${raw(CERTIFICATE_STYLE + VIEWER_STYLE)}</style><script src="/viewer/close.js" defer></script></head><body><main>${body}</main></body></html>`.html,
        );

    const langLinks = (lang: Lang, path: string) =>
      html`<nav class="langs" aria-label="${viewerText(lang, 'lang')}">${LANGS.map((l) => (l === lang ? html`<strong>${LANG_NAMES[l]}</strong> ` : html`<a href="${path}?lang=${l}" lang="${l}">${LANG_NAMES[l]}</a> `))}</nav>`;

    const t = (lang: Lang, k: ViewerKey) => viewerText(lang, k);

    app.get('/viewer/close.js', async (_req, reply) => reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'no-store').send(CLOSE_SCRIPT));

    app.get<{ Querystring: { lang?: string } }>('/viewer/closed', async (req, reply) => {
      const lang = pickLang(req.query.lang, req.headers['accept-language']);
      return send(reply, lang, t(lang, 'title'), html`<p>${t(lang, 'closed')}</p>`);
    });

    app.get<{ Querystring: { lang?: string } }>('/viewer', async (req, reply) => {
      const lang = pickLang(req.query.lang, req.headers['accept-language']);
      if (views.has('file')) return reply.redirect(`/viewer/c/file?lang=${lang}`, 303);
      return send(
        reply,
        lang,
        t(lang, 'title'),
        html`${langLinks(lang, '/viewer')}<h1>${t(lang, 'title')}</h1>
<form method="post" action="/viewer?lang=${lang}"><input type="hidden" name="token" value="${formToken}">
<p>${t(lang, 'readCard')}</p><p><label for="pin">${t(lang, 'pin')}</label><br><input id="pin" name="pin" type="password" autocomplete="off" maxlength="16" autofocus></p>
<p><button type="submit" name="file" value="sign" id="read">${t(lang, 'read')}</button> <button type="submit" name="file" value="auth" id="read-auth">${t(lang, 'readAuth')}</button></p></form>`,
      );
    });

    app.post<{ Querystring: { lang?: string } }>('/viewer', async (req, reply) => {
      const lang = pickLang(req.query.lang, req.headers['accept-language']);
      const form = (req.body ?? {}) as Record<string, string | undefined>;
      if (normaliseOrigin(String(req.headers.origin ?? '')) !== ctx.ownOrigin() || form.token !== formToken)
        throw new ClientError('AGENT_FORM_INVALID', 'forbidden', 'the viewer reads the card only for its own page');
      if (!('card' in source)) throw new ClientError('CLIENT_NO_CARD', 'not-found', 'this viewer shows a certificate file, not a card');
      const file = form.file === 'auth' ? 'auth' : 'sign';
      try {
        const der = await ctx.useCard((card) => card.certificate(file, file === 'sign' ? form.pin : undefined));
        const id = randomBytes(16).toString('hex');
        const now = Date.now();
        for (const [k, v] of views) if (now - v.at > VIEW_LIFETIME_MS) views.delete(k);
        views.set(id, { der, at: now });
        return reply.redirect(`/viewer/c/${id}?lang=${lang}`, 303);
      } catch (e) {
        const err = clientErrorOf(e);
        const text = isJpkiError(err) && err.kind !== 'internal' ? `${err.message} [${err.code}]` : 'the card could not be read';
        return send(reply, lang, t(lang, 'title'), html`<h1>${t(lang, 'title')}</h1><p role="alert" class="error">${text}</p><p><a href="/viewer?lang=${lang}">${t(lang, 'read')}</a></p>`, 400);
      }
    });

    const viewOf = (id: string) => {
      const v = views.get(id);
      if (!v || Date.now() - v.at > VIEW_LIFETIME_MS) return null;
      return v.der;
    };

    app.get<{ Params: { id: string }; Querystring: { lang?: string } }>('/viewer/c/:id', async (req, reply) => {
      const lang = pickLang(req.query.lang, req.headers['accept-language']);
      const der = viewOf(req.params.id);
      if (!der) return send(reply, lang, t(lang, 'title'), html`<p role="alert" class="error">${t(lang, 'gone')}</p>`, 404);
      const view = viewCertificate(der);
      const base = `/viewer/c/${req.params.id}`;
      return send(
        reply,
        lang,
        t(lang, 'title'),
        html`${langLinks(lang, base)}<h1>${t(lang, 'title')}</h1>
<nav class="tabs" role="tablist"><a role="tab" href="#basic" id="tab-basic">${t(lang, 'basic')}</a> <a role="tab" href="#details" id="tab-details">${t(lang, 'details')}</a></nav>
<div class="tabs-content">${certificateSections(view, lang)}</div>
<p class="buttons"><a class="button" id="html-view" href="${base}/certificate.html?lang=${lang}" target="_blank" rel="noopener">${t(lang, 'htmlView')}</a> <a class="button" id="close" href="/viewer/closed?lang=${lang}">${t(lang, 'close')}</a></p>`,
      );
    });

    app.get<{ Params: { id: string }; Querystring: { lang?: string } }>('/viewer/c/:id/certificate.html', async (req, reply) => {
      const lang = pickLang(req.query.lang, req.headers['accept-language']);
      const der = viewOf(req.params.id);
      if (!der) throw new ClientError('CLIENT_VIEW_GONE', 'not-found', 'this view has expired');
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .header('cache-control', 'no-store')
        .send(certificateHtml(viewCertificate(der), lang));
    });
  };
}

const LANG_NAMES: Record<Lang, string> = { ja: '日本語', en: 'English', ko: '한국어' };

const VIEWER_STYLE = `.tabs a{display:inline-block;padding:.4rem 1.2rem;border:1px solid #99a;border-bottom:0;text-decoration:none;color:#1f4e8c;background:#eef1f5}
.tabs-content{border:1px solid #99a;padding:0 1rem}.tab h2{position:absolute;left:-9999px}
#details{display:none}#details:target{display:block}#details:target+#basic{display:none}
.buttons{margin-top:1rem}.button{display:inline-block;padding:.4rem 1.2rem;border:1px solid #1f4e8c;color:#1f4e8c;text-decoration:none;margin-right:.6rem}
.langs{float:right;font-size:.9rem}.error{color:#8c1f1f;font-weight:600}`;
