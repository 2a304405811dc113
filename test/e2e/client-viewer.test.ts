import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAgent, viewerPlugin } from '../../src/client/index.js';
import { FixedClock, systemClock } from '../../src/common/clock.js';
import { GUIDE_EXAMPLE, residentWithCard, SIGN_PIN, type ResidentCard } from '../client/support.js';
import { needs } from '../support/system.js';
import { chromiumAvailable, launchChromium } from './support/browser.js';

/**
 * The certificate viewer (証明書Viewer) of the local client software in headless Chromium, on a card issued
 * on 2004-04-01 for three years (fixed clock): the 基本 tab shows the guide's example exactly, the 詳細 tab
 * the SAN's six fields by name, HTML表示 opens the standalone page, 閉じる closes; screenshots are saved.
 */
const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'tmp', 'screenshots');

describe.runIf(needs('Chromium (/usr/bin/chromium)', chromiumAvailable()))('the certificate viewer in headless Chromium', { timeout: 180_000 }, () => {
  let r: ResidentCard;
  let agent: FastifyInstance;
  let base: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    r = await residentWithCard({ clock: new FixedClock('2004-04-01T10:00:00+09:00') });
    const card = { type: 'image' as const, path: r.card, dataDir: r.t.dir };
    agent = await buildAgent({ card, allowedOrigins: [], clock: systemClock, plugins: [viewerPlugin({ card })] });
    await agent.listen({ port: 0, host: '127.0.0.1' });
    const a = agent.server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    browser = await launchChromium();
    page = await (await browser.newContext({ locale: 'ja-JP', timezoneId: 'Asia/Tokyo' })).newPage();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await agent?.close();
    await r?.t.cleanup();
  }, 120_000);

  const basicValues = async (p: Page) =>
    Object.fromEntries(
      await p.locator('#basic table.basic tr').evaluateAll((rows) => rows.map((tr) => [tr.querySelector('th')!.textContent!.trim(), tr.querySelector('td')!.textContent!.trim()])),
    );

  it('reads the card with the signing password and shows the guide\u2019s example on the 基本 tab', async () => {
    await page.goto(`${base}/viewer`);
    await page.getByLabel('署名用パスワード').fill(SIGN_PIN.toLowerCase());
    await page.locator('#read').click();
    await page.locator('#basic table.basic').waitFor();
    expect(await page.locator('h1').textContent()).toBe('証明書Viewer');
    expect(await basicValues(page)).toEqual(GUIDE_EXAMPLE);
    expect(await page.locator('#details').isVisible()).toBe(false);
    await page.screenshot({ path: join(SCREENSHOTS, 'viewer-basic.png'), fullPage: true });
  });

  it('lists the SAN fields on the 詳細 tab', async () => {
    await page.locator('#tab-details').click();
    await page.locator('#details').waitFor({ state: 'visible' });
    expect(await page.locator('#basic').isVisible()).toBe(false);
    const san = page.locator('#details [data-oid="2.5.29.17"]');
    const text = (await san.textContent()) ?? '';
    for (const field of ['氏名', '公的\u3000一郎', '氏名代替文字の使用位置情報', '00000（代替文字なし）', '性別', '1（男）', '生年月日', '319771107（元号コード3（昭和））= 昭和52年11月7日', '住所', '東京都港区虎ノ門5丁目', '住所代替文字の使用位置情報'])
      expect(text).toContain(field);
    expect(await page.locator('#details [data-oid="2.5.29.15"]').textContent()).toContain('否認防止');
    await page.screenshot({ path: join(SCREENSHOTS, 'viewer-details.png'), fullPage: true });
  });

  it('HTML表示 opens the standalone page; English and Korean show the same facts; 閉じる closes', async () => {
    const popup = page.waitForEvent('popup');
    await page.locator('#html-view').click();
    const html = await popup;
    await html.waitForLoadState();
    expect(await html.locator('html').getAttribute('lang')).toBe('ja');
    expect(await html.locator('table.basic').textContent()).toContain('平成19年3月31日');
    expect(await html.locator('script').count()).toBe(0);
    await html.screenshot({ path: join(SCREENSHOTS, 'viewer-html.png'), fullPage: true });
    await html.close();

    await page.locator('a[lang="en"]').click();
    await page.locator('html[lang="en"]').waitFor();
    const en = await basicValues(page);
    expect(en['Name']).toBe('公的\u3000一郎');
    expect(en['Expires on']).toMatch(/^平成19年3月31日 \(31 March 2007\)$/);
    expect(en['Sex']).toBe('Male (男)');
    await page.locator('a[lang="ko"]').click();
    expect((await basicValues(page))['발행자']).toBe('東京都知事');
    await page.screenshot({ path: join(SCREENSHOTS, 'viewer-basic-ko.png'), fullPage: true });

    await page.locator('#close').click();
    await page.waitForURL(/\/viewer\/closed/);
  });

  it('a wrong password says how many tries are left', async () => {
    await page.goto(`${base}/viewer`);
    await page.getByLabel('署名用パスワード').fill('WRONG1');
    await page.locator('#read').click();
    expect(await page.locator('[role="alert"]').textContent()).toMatch(/4 tries left.*\[PIN_INCORRECT\]/);
  });
});
