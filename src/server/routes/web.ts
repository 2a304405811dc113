import type { FastifyInstance, FastifyReply } from 'fastify';
import { JpkiError } from '../../common/errors.js';
import { webAsset, webPage } from './web-assets.js';

/**
 * The browser pages (docs/web.md). A page is an HTML file of the `web/` tree served at a route; its scripts,
 * styles and catalogues come from `/web/…`. Pages talk to the server only through its HTTP API. A later
 * page (the portal, the user client, the agency site) adds one line here and its folder under `web/`.
 */
export interface WebPageRoute {
  url: string;
  /** Below `web/`. */
  file: string;
  /** The page talks to the resident's local client agent (its CSP allows the agent in connect-src). */
  agent?: boolean;
}

export const WEB_PAGES: readonly WebPageRoute[] = [
  { url: '/counter', file: 'counter/index.html' },
  // The papers handed to the resident, one print layout for all of them (web/counter/print/).
  ...['certificate-copy', 'usage-guide', 'receipt', 'notice'].map((paper) => ({ url: `/counter/print/${paper}`, file: 'counter/print.html' })),
  // The public portal (docs/portal.md): one page script, the view chosen by the path.
  { url: '/', file: 'portal/index.html' },
  { url: '/client', file: 'portal/index.html' },
  { url: '/trust-anchors', file: 'portal/index.html' },
  { url: '/online', file: 'portal/index.html', agent: true },
  // The sample agency's e-application site (docs/agency.md): the procedures, each form, and the staff's list.
  { url: '/agency', file: 'agency/index.html' },
  { url: '/agency/moving-out', file: 'agency/index.html', agent: true },
  { url: '/agency/residence-certificate', file: 'agency/index.html', agent: true },
  { url: '/agency/staff', file: 'agency/index.html' },
];

/**
 * Only our own files: no inline script or style, no other origin (the counter works without any outside
 * network resource), no framing (a framed counter page could be click-jacked into issuing).
 */
function contentSecurityPolicy(connect: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    ["connect-src 'self'", ...connect].join(' '),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function securityHeaders(reply: FastifyReply, connect: readonly string[] = []): FastifyReply {
  return reply
    .header('content-security-policy', contentSecurityPolicy(connect))
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

function notFound(url: string): JpkiError {
  return new JpkiError('NOT_FOUND', 'not-found', `no such resource: GET ${url.split('?')[0]}`);
}

export interface WebRoutesOptions {
  /** The resident's local client agent, allowed in connect-src of the pages that use it. */
  agentUrl?: string;
}

export async function webRoutes(app: FastifyInstance, opts: WebRoutesOptions = {}): Promise<void> {
  for (const page of WEB_PAGES) {
    const connect = page.agent && opts.agentUrl ? [new URL(opts.agentUrl).origin] : [];
    app.get(page.url, async (request, reply) => {
      const html = await webPage(page.file);
      if (!html) throw notFound(request.url);
      // Pages show personal data once logged in: never kept by a cache.
      return securityHeaders(reply, connect).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
    });
    if (page.url !== '/') app.get(`${page.url}/`, async (_request, reply) => reply.redirect(page.url, 308));
  }

  app.get<{ Params: { '*': string } }>('/web/*', async (request, reply) => {
    const asset = await webAsset(request.params['*']);
    if (!asset) throw notFound(request.url);
    // Revalidated every time (a changed file must show at once), answered 304 when unchanged.
    securityHeaders(reply).header('cache-control', 'no-cache').header('etag', asset.etag);
    if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
    return reply.header('content-type', asset.type).send(asset.body);
  });
}
