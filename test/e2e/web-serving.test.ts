import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler, notFoundHandler } from '../../src/server/errors.js';
import { WEB_PAGES, webRoutes } from '../../src/server/routes/web.js';

/**
 * How the server hands out the browser side (src/server/routes/web.ts): the registered pages, the web/
 * tree's TypeScript transpiled on the fly, nothing outside web/, and the headers that keep the pages to
 * their own origin.
 */
describe('serving the web/ tree', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify();
    app.setErrorHandler(errorHandler);
    app.setNotFoundHandler(notFoundHandler);
    await app.register(webRoutes);
  });
  afterAll(() => app.close());

  it('serves every registered page as HTML with a same-origin-only content security policy, never cached', async () => {
    expect(WEB_PAGES.map((p) => p.url)).toContain('/counter');
    for (const page of WEB_PAGES) {
      const r = await app.inject({ url: page.url });
      expect(r.statusCode, page.url).toBe(200);
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers['content-security-policy']).toContain("default-src 'self'");
      expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(r.body).toMatch(/<html lang="ja">/);
      // no outside resource: every script and style comes from /web/
      for (const [, src] of r.body.matchAll(/(?:src|href)="([^"]+)"/g)) expect(src!.startsWith('/web/') || src === 'data:,', `${page.url}: ${src}`).toBe(true);
    }
    expect((await app.inject({ url: '/counter/' })).headers.location).toBe('/counter');
  });

  it('answers /web/…/x.js with x.ts transpiled (types gone), revalidated by ETag', async () => {
    const r = await app.inject({ url: '/web/shared/pin-rules.js' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(r.body).toContain('function pinProblem(pin, value)');
    expect(r.body).toMatch(/export \{[^}]*pinProblem/);
    expect(r.body).not.toMatch(/: PinName/);
    const again = await app.inject({ url: '/web/shared/pin-rules.js', headers: { 'if-none-match': r.headers.etag as string } });
    expect(again.statusCode).toBe(304);
    expect((await app.inject({ url: '/web/shared/base.css' })).headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('serves nothing outside web/ and no raw sources or unlisted types', async () => {
    for (const url of ['/web/../package.json', '/web/%2e%2e/package.json', '/web/..%2fsrc/server/app.js', '/web/shared/pin-rules.ts', '/web/counter/missing.js', '/web/.hidden.css', '/web/counter/index.html%00.js']) {
      const r = await app.inject({ url });
      expect(r.statusCode, url).toBe(404);
      expect(r.json()).toMatchObject({ error: 'NOT_FOUND' });
    }
  });
});
