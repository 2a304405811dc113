import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_AGENCY_STAFF_PASSWORD } from '../../src/compose/agency.js';
import { middlewareAvailable } from '../card/support/pcscd.js';
import { SIGN_PIN } from '../client/support.js';
import { needs } from '../support/system.js';
import { chromiumAvailable } from './support/browser.js';
import { SCREENSHOTS, startOnlineWindow, type OnlineWindow } from './support/online-window.js';

/**
 * The agency site end to end (issue 9 B): 公的 一郎 opens the 転出届 in headless Chromium, fills it in, signs
 * it with his card — served into pcscd's vpcd reader — through his local client agent (the PIN typed in the
 * agent's window, never on the site), and sends it. The agency verifies the signature and the certificate
 * through the bridges (OCSP from the service) and shows a receipt number; the staff page lists the
 * application with the name and address verified from the certificate.
 */
describe.runIf(needs('Chromium (/usr/bin/chromium)', chromiumAvailable()) && needs('pcscd + vpcd + OpenSC + OpenSSL', middlewareAvailable()))('the agency site through the agent and a card in pcscd', { timeout: 180_000 }, () => {
  let w: OnlineWindow | undefined;
  let base: string;
  let page: Page;
  let receiptNumber = '';

  beforeAll(async () => {
    w = await startOnlineWindow({ publishCrls: true, context: { httpCredentials: { username: 'staff', password: DEMO_AGENCY_STAFF_PASSWORD } } });
    ({ base, page } = w);
  }, 600_000);

  afterAll(async () => {
    await w?.stop();
  }, 120_000);

  it('公的 一郎 fills the 転出届, signs it in the agent with his card, sends it, and gets a receipt number', async () => {
    await page.goto(`${base}/agency`);
    await page.locator('body[data-ready="true"]').waitFor();
    await page.locator('li[data-procedure="moving-out"] a').click();
    await page.waitForURL(`${base}/agency/moving-out`);
    await page.locator('body[data-ready="true"]').waitFor();
    await page.locator('#agent-status [data-agent="ok"]').waitFor();

    await page.locator('#f-name').fill('公的 一郎');
    await page.locator('#f-dateOfBirth').fill('1977-11-07');
    await page.locator('#f-address').fill('東京都港区虎ノ門5丁目');
    await page.locator('#f-newAddress').fill('大阪府大阪市北区中之島1丁目');
    await page.locator('#f-movingDate').fill('2026-12-01');
    await page.locator('#prepare').click();
    const confirmation = page.locator('#confirmation');
    await confirmation.waitFor();
    expect(await confirmation.textContent()).toContain('昭和52年11月7日');
    expect(await confirmation.textContent()).toContain('令和8年12月1日');

    // the agent's window: who asks, what is signed, the PIN typed there
    const popup = page.waitForEvent('popup');
    await page.locator('#sign').click();
    const win = await popup;
    await win.waitForURL(/\/approve\/[0-9a-f]{32}/);
    await win.locator('#approve').waitFor();
    expect(await win.locator('.origin').textContent()).toBe(base);
    expect(await win.locator('body').textContent()).toContain('転出届: 公的 一郎');
    await win.locator('#pin').fill(SIGN_PIN);
    await win.screenshot({ path: join(SCREENSHOTS, 'agency-agent-approve.png') });
    await win.locator('#approve').click();

    await page.locator('#send').waitFor({ timeout: 30_000 });
    await page.locator('#send').click();
    const receipt = page.locator('#receipt');
    await receipt.waitFor({ timeout: 30_000 });
    receiptNumber = ((await receipt.locator('.receipt-number').textContent()) ?? '').trim();
    expect(receiptNumber).toMatch(/^\d{8}-\d{8}$/);
    expect(await receipt.locator('.applicant-name').textContent()).toBe('公的\u3000一郎');
    expect(await receipt.locator('.applicant-address').textContent()).toBe('東京都港区虎ノ門5丁目');
    expect(await receipt.textContent()).toContain('令和');
    await page.screenshot({ path: join(SCREENSHOTS, 'agency-receipt.png'), fullPage: true });
  });

  it('the staff page lists the application with the verified name and address', async () => {
    await page.goto(`${base}/agency/staff`);
    await page.locator('body[data-loaded="true"]').waitFor();
    const row = page.locator(`tr[data-receipt="${receiptNumber}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('accepted');
    expect(await row.locator('[data-verdict]').getAttribute('data-verdict')).toBe('valid');
    expect(await row.locator('.verified-name').textContent()).toBe('公的\u3000一郎');
    expect(await row.locator('.verified-address').textContent()).toBe('東京都港区虎ノ門5丁目');
    expect(await row.locator('.verified-birth').textContent()).toBe('昭和52年11月7日');
    await page.screenshot({ path: join(SCREENSHOTS, 'agency-staff.png'), fullPage: true });

    // in English the same list, dates still in the era calendar
    await page.locator('select[name="lang"]').selectOption('en');
    expect(await page.locator('#applications thead').textContent()).toContain('Name (certificate)');
    await page.locator('select[name="lang"]').selectOption('ja');
  });

  it('a 住民票の写しの請求 whose form is changed on the way after signing is rejected, and the page says why', async () => {
    await page.goto(`${base}/agency/residence-certificate`);
    await page.locator('body[data-ready="true"]').waitFor();
    await page.locator('#f-name').fill('公的 一郎');
    await page.locator('#f-dateOfBirth').fill('1977-11-07');
    await page.locator('#f-address').fill('東京都港区虎ノ門5丁目');
    await page.locator('#f-scope-household').check();
    await page.locator('#f-copies').fill('2');
    await page.locator('#f-purpose').fill('児童手当の申請のため');
    await page.locator('#prepare').click();
    await page.locator('#confirmation').waitFor();
    expect(await page.locator('#confirmation').textContent()).toContain('世帯全員');

    const popup = page.waitForEvent('popup');
    await page.locator('#sign').click();
    const win = await popup;
    await win.locator('#approve').waitFor();
    await win.locator('#pin').fill(SIGN_PIN);
    await win.locator('#approve').click();
    await page.locator('#send').waitFor({ timeout: 30_000 });

    // someone between the page and the agency changes the form after it was signed
    await page.route('**/api/agency/applications?*', async (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}');
      body.form.copies = 9;
      await route.continue({ postData: JSON.stringify(body) });
    });
    await page.locator('#send').click();
    const rejection = page.locator('#rejection');
    await rejection.waitFor({ timeout: 30_000 });
    expect(await rejection.locator('li[data-reason="form-mismatch"]').textContent()).toContain('署名された内容が送信された申請書と一致しません');
    expect(await rejection.locator('.receipt-number').textContent()).toMatch(/^\d{8}-\d{8}$/);
    await page.screenshot({ path: join(SCREENSHOTS, 'agency-rejected.png'), fullPage: true });
    await page.unroute('**/api/agency/applications?*');
  });
});
