import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jpki, startJpki } from '../support/cli.js';
import { needs } from '../support/system.js';
import { chromiumAvailable, launchChromium, textOf } from './support/browser.js';

/**
 * Issue 11, traps 8 and 9, in headless Chromium against a real `jpki serve` with the demo:
 *  8. a fresh browser opens the counter terminal in its own language (not the operator's stored setting),
 *     until a language is chosen on it;
 *  9. the resident page links the notices of revocations and PIN services; the 4-digit PIN is called a PIN
 *     (暗証番号), not a password; a server-side refusal about a field appears beside that field; the device
 *     step of a new issuance warns when the card in the device is not blank.
 */
const PASSWORD = 'demo-counter-2004';

describe.runIf(needs('Chromium (/usr/bin/chromium)', chromiumAvailable()))('the counter terminal\u2019s first hour (issue 11, traps 8 and 9)', () => {
  let dir: string;
  let data: string;
  let server: Awaited<ReturnType<typeof startJpki>>;
  let base: string;
  let browser: Browser;
  const ichiro = { id: '', recordCode: '' };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jpki-e2e-firsthour-'));
    data = join(dir, 'data');
    server = await startJpki(['--data', data, 'serve', '--port', '0', '--key-algorithm', 'p256'], /jpki listening on/);
    base = `http://127.0.0.1:${/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(server.output())![1]}`;
    const list = jpki(['--data', data, 'register', 'list', '--json']);
    const r = (JSON.parse(list.stdout) as { id: string; recordCode: string; name: string }[]).find((x) => x.name === '公的\u3000一郎')!;
    Object.assign(ichiro, { id: r.id, recordCode: r.recordCode });
    // 公的 一郎 gets his card at the CLI counter (the demo device's card), then the revocation of one of them
    const env = { JPKI_OPERATOR_PASSWORD: PASSWORD, JPKI_SIGN_PIN: 'KOUTEKI77', JPKI_AUTH_PIN: '4826' };
    const card = join(data, 'demo-cards', '13103-1.card');
    const desk = ['--operator', 'minato-clerk', '--resident', ichiro.recordCode, '--id-type', 'passport', '--id-number', 'TK1234567'];
    const issued = jpki(['--data', data, 'counter', 'issue', ...desk, '--card', card], { env });
    expect(issued.stderr).toBe('');
    const revoked = jpki(['--data', data, 'counter', 'revoke', ...desk, '--reason', 'unneeded', '--certificates', 'sign'], { env });
    expect(revoked.stderr).toBe('');
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function fresh(locale: string): Promise<Page> {
    const p = await (await browser.newContext({ locale, timezoneId: 'Asia/Tokyo' })).newPage();
    await p.goto(`${base}/counter`);
    await p.locator('body[data-ready="true"]').waitFor();
    return p;
  }

  async function login(p: Page, name: string, button: string): Promise<void> {
    await p.locator('input[name=name]').fill(name);
    await p.locator('input[name=password]').fill(PASSWORD);
    await p.getByRole('button', { name: button }).click();
    await p.locator('[data-operator]').waitFor();
  }

  it('trap 8: a fresh Korean browser opens in Korean, an English one in English, and stays so after login', async () => {
    const ko = await fresh('ko-KR');
    expect(await ko.locator('html').getAttribute('lang')).toBe('ko');
    expect(await textOf(ko.locator('h2'))).toBe('직원 로그인');
    await login(ko, 'minato-clerk', '로그인');
    expect(await textOf(ko.locator('h2'))).toBe('주민 검색');
    // the operator's setting followed this browser's language
    expect(await ko.evaluate(async () => ((await (await fetch('/api/counter/me')).json()) as { operator: { language: string } }).operator.language)).toBe('ko');

    const en = await fresh('en-US');
    expect(await en.locator('html').getAttribute('lang')).toBe('en');
    expect(await textOf(en.locator('h2'))).toBe('Operator login');
    // the same operator, whose stored setting is now Korean: this browser stays English
    await login(en, 'minato-clerk', 'Log in');
    expect(await en.locator('html').getAttribute('lang')).toBe('en');
    // chosen on this browser: it stays after a reload
    await en.getByLabel('Language', { exact: true }).selectOption('ja');
    await en.reload();
    await en.locator('body[data-ready="true"]').waitFor();
    expect(await en.locator('html').getAttribute('lang')).toBe('ja');
    await ko.context().close();
    await en.context().close();
  });

  it('trap 9: the resident page links the revocation\u2019s notice; PIN services call the 4-digit PIN a PIN', async () => {
    const p = await fresh('ja-JP');
    await login(p, 'minato-clerk', 'ログイン');
    await p.goto(`${base}/counter#/residents/${ichiro.recordCode}`);
    const notice = p.locator('tr', { hasText: '失効申請' }).locator('a[data-paper=notice]');
    expect(await textOf(notice)).toMatch(/^受理通知書 N-/);
    expect(await notice.getAttribute('href')).toMatch(/^\/counter\/print\/notice\?number=N-/);

    await p.locator('[data-action=pins]').click();
    await p.getByRole('heading', { name: 'パスワードの手続' }).waitFor();
    expect(await p.getByLabel('現在のパスワード（住民が入力）').count()).toBe(1);
    await p.getByLabel('利用者証明用電子証明書の暗証番号').check();
    expect(await p.getByLabel('現在の暗証番号（住民が入力）').count()).toBe(1);
    expect(await p.getByLabel('新しい暗証番号（住民が入力）').count()).toBe(1);
    expect(await p.getByLabel('新しい暗証番号（確認のためもう一度）').count()).toBe(1);
    expect(await p.getByLabel('現在のパスワード（住民が入力）').count()).toBe(0);
    await p.context().close();
  });

  it('trap 9: a refusal about a field is shown beside it; the device step warns of a card that is not blank', async () => {
    const p = await fresh('ja-JP');
    await login(p, 'minato-clerk', 'ログイン');
    await p.goto(`${base}/counter#/residents/${ichiro.id}/issue`);
    await p.getByLabel('住所').fill('東京都港区虎ノ門6丁目');
    await p.getByRole('button', { name: '申請を受け付ける' }).click();
    expect(await textOf(p.getByRole('alert'), 'COUNTER_FORM_MISMATCH')).toContain('住所');
    const beside = p.locator('input[name=address] ~ .field-error');
    expect(await textOf(beside, '住民基本台帳')).toContain('住民基本台帳');
    expect(await p.locator('input[name=address]').getAttribute('aria-invalid')).toBe('true');

    // the application as the register has it: on to the device step, where the demo card already holds his certificates
    await p.getByLabel('住所').fill('東京都港区虎ノ門5丁目');
    await p.getByRole('button', { name: '申請を受け付ける' }).click();
    await p.locator('form[data-step=identity]').waitFor();
    await p.locator('input[name=idNumber]').fill('TK1234567');
    await p.getByRole('button', { name: '本人確認を記録する' }).click();
    await p.locator('form[data-step=fee]').waitFor();
    await p.getByRole('button', { name: '手数料を受領する' }).click();
    await p.locator('form[data-step=device]').waitFor();
    const warning = p.locator('.device-status[data-warning=card-not-blank]');
    expect(await textOf(warning)).toMatch(/^注意：このICカード（カード番号 .+）には既に電子証明書が記録されています。/);
    await p.context().close();
  });
});
