import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { createTestInstallation, type TestInstallation } from '../support/installation.js';
import { needs } from '../support/system.js';
import { chromiumAvailable, launchChromium } from './support/browser.js';

/**
 * The portal's public pages in headless Chromium: home at `/` (what the service is, how to get a
 * certificate), the client software page, and the trust anchors with both fingerprints, downloads and how to
 * compare — in Japanese, then English and Korean.
 */
const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'tmp', 'screenshots');

describe.runIf(needs('Chromium (/usr/bin/chromium)', chromiumAvailable()))('the portal\u2019s pages', { timeout: 120_000 }, () => {
  let t: TestInstallation;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    t = await createTestInstallation({ prefectures: ['01', '13', '47'] });
    app = await buildApp(t.services, { agentUrl: 'http://127.0.0.1:8741' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const a = app.server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    browser = await launchChromium();
    page = await (await browser.newContext({ locale: 'ja-JP', timezoneId: 'Asia/Tokyo' })).newPage();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await t?.cleanup();
  });

  const open = async (path: string) => {
    await page.goto(`${base}${path}`);
    await page.locator('body[data-ready="true"]').waitFor();
  };

  it('home: what the service is and how to get a certificate', async () => {
    await open('/');
    expect(await page.locator('h1').textContent()).toBe('公的個人認証サービス ポータルサイト');
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain('公的個人認証サービスとは');
    expect(text).toContain('手数料500円');
    expect(await page.locator('main a[href="/online"]').count()).toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, 'portal-home.png'), fullPage: true });
  });

  it('the client page gives the install and use commands with this portal\u2019s address', async () => {
    await open('/client');
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain('npm ci');
    expect(text).toContain(`jpki client fingerprints --compare ${base}/api/portal/trust-anchors`);
    expect(text).toContain(`jpki client agent --allow-origin ${base}`);
  });

  it('trust anchors: every prefectural CA and the bridge CA with SHA-1 and SHA-256, downloads, how to compare', async () => {
    await open('/trust-anchors');
    const rows = page.locator('table.anchors tbody tr');
    await rows.first().waitFor();
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-ca')))).toEqual(['pref-01', 'pref-13', 'pref-47', 'jpki-bridge']);
    const { anchors } = (await app.inject({ url: '/api/portal/trust-anchors' })).json();
    const tokyo = page.locator('tr[data-ca="pref-13"]');
    expect(await tokyo.textContent()).toContain('東京都知事');
    expect(await tokyo.textContent()).toContain(`SHA-256: ${anchors[1].sha256}`);
    expect(await tokyo.textContent()).toContain(`SHA-1: ${anchors[1].sha1}`);
    expect(await tokyo.locator('a[download]').getAttribute('href')).toBe(anchors[1].certificateUrl);
    expect(await page.locator('main').textContent()).toContain('大文字・小文字と区切り記号');
    await page.screenshot({ path: join(SCREENSHOTS, 'portal-trust-anchors.png'), fullPage: true });
    await page.locator('select[name="lang"]').selectOption('en');
    await page.locator('html[lang="en"]').waitFor();
    expect(await page.locator('h1').textContent()).toBe('JPKI portal (公的個人認証サービス)');
    await page.locator('select[name="lang"]').selectOption('ko');
    expect(await page.locator('h2').first().textContent()).toBe('자기 서명 인증서 지문과 CRL');
  });

  it('the online window allows the agent, and only it, in its Content-Security-Policy', async () => {
    const online = await app.inject({ url: '/online' });
    expect(online.headers['content-security-policy']).toContain("connect-src 'self' http://127.0.0.1:8741");
    expect((await app.inject({ url: '/' })).headers['content-security-policy']).toContain("connect-src 'self';");
    const bad = await app.inject({ method: 'POST', url: '/api/portal/online/status', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ certificate: 'aGVsbG8gd29ybGQ=' }) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'PORTAL_CERTIFICATE_INVALID' });
  });
});
