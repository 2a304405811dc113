import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jpki, startJpki } from '../support/cli.js';
import { needs } from '../support/system.js';
import { chromiumAvailable, launchChromium, textOf } from './support/browser.js';

/**
 * The supervisor's screens of the web counter terminal (issue 11) in headless Chromium, against a real
 * `jpki serve` with the demo: operator management (add, lock and unlock, role, password reset) and register
 * changes (a new resident, change of name, move within and out of the municipality, correction, death), in
 * Japanese, English and Korean — and the refusals: a clerk gets neither screen, a supervisor of 清瀬市 can
 * neither see nor change 港区's residents or staff.
 */
const PASSWORD = 'demo-counter-2004';
const KIYOSE_PASSWORD = 'kiyose-desk-2024';

describe.runIf(needs('Chromium (/usr/bin/chromium)', chromiumAvailable()))('the supervisor screens in headless Chromium', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startJpki>>;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let loads = 0;
  const created = { id: '', recordCode: '' };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jpki-e2e-supervisor-'));
    const data = join(dir, 'data');
    server = await startJpki(['--data', data, 'serve', '--port', '0', '--key-algorithm', 'p256'], /jpki listening on/);
    base = `http://127.0.0.1:${/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(server.output())![1]}`;
    // a supervisor of another municipality (清瀬市), next to the demo's
    const added = jpki(['--data', data, 'operator', 'add', '--municipality', '13221', '--name', 'kiyose-supervisor', '--role', 'supervisor'], { env: { JPKI_OPERATOR_PASSWORD: KIYOSE_PASSWORD } });
    expect(added.status).toBe(0);
    browser = await launchChromium();
    context = await browser.newContext({ locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const go = async (p: Page, hash: string) => {
    await p.goto(`${base}/counter?load=${++loads}${hash}`);
    await p.locator('body[data-ready="true"]').waitFor();
  };

  async function login(p: Page, name: string, password = PASSWORD, button = 'ログイン'): Promise<void> {
    await p.goto(`${base}/counter`);
    await p.locator('input[name=name]').fill(name);
    await p.locator('input[name=password]').fill(password);
    await p.getByRole('button', { name: button }).click();
    await p.locator('[data-operator]').waitFor();
  }

  /** The row of an operator in the list. */
  const row = (name: string) => page.locator('tr', { has: page.locator(`[data-operator-name="${name}"]`) });

  it('a supervisor has 職員管理 in the menu; it lists the staff of 港区 only', async () => {
    await login(page, 'minato-supervisor');
    await page.getByRole('link', { name: '職員管理' }).click();
    await page.getByRole('heading', { name: '職員管理' }).waitFor();
    const names = await page.locator('[data-operator-name]').allTextContents();
    expect(names).toEqual(['minato-clerk', 'minato-supervisor（自分）']);
    expect(await textOf(row('minato-clerk'))).toContain('利用可');
    // no lock and no role change of oneself
    expect(await row('minato-supervisor').getByRole('button', { name: 'ロックする' }).count()).toBe(0);
    expect(await row('minato-supervisor').getByRole('button', { name: '窓口職員にする' }).count()).toBe(0);
  });

  it('adds an operator: a weak password is refused beside the field, a good one adds them', async () => {
    const form = page.locator('form.add-operator');
    await form.getByLabel('職員名（ログイン名。英数字と . _ -）').fill('minato-clerk2');
    await form.getByLabel('初期パスワード').fill('short');
    await form.getByRole('button', { name: '追加する' }).click();
    expect(await textOf(form.locator('.field-error'), 'パスワード')).toBe('パスワードは10文字以上で、英字のみ・数字のみでないものにしてください。');
    expect(await form.getByLabel('初期パスワード').getAttribute('aria-invalid')).toBe('true');
    await form.getByLabel('初期パスワード').fill('first-day-2024');
    await form.getByRole('button', { name: '追加する' }).click();
    expect(await textOf(page.getByRole('status'), 'minato-clerk2')).toBe('職員 minato-clerk2 を追加しました。');
    expect(await textOf(row('minato-clerk2'))).toContain('窓口職員');
  });

  it('locks an operator (their login is refused), unlocks them, makes them a supervisor and resets their password', async () => {
    await row('minato-clerk2').getByRole('button', { name: 'ロックする' }).click();
    expect(await textOf(page.getByRole('status'), 'ロック')).toBe('職員 minato-clerk2 をロックしました。ログイン中のセッションは終了しました。');
    expect(await textOf(row('minato-clerk2'))).toContain('ロック中（監督者による）');

    const other = await (await browser.newContext({ locale: 'ja-JP' })).newPage();
    await other.goto(`${base}/counter`);
    await other.locator('input[name=name]').fill('minato-clerk2');
    await other.locator('input[name=password]').fill('first-day-2024');
    await other.getByRole('button', { name: 'ログイン' }).click();
    expect(await textOf(other.getByRole('alert'), 'COUNTER_LOGIN_FAILED')).toContain('職員名またはパスワードが違います');

    await row('minato-clerk2').getByRole('button', { name: 'ロックを解除する' }).click();
    expect(await textOf(page.getByRole('status'), '解除')).toBe('職員 minato-clerk2 のロックを解除しました。');
    await row('minato-clerk2').getByRole('button', { name: '監督者にする' }).click();
    expect(await textOf(page.getByRole('status'), '役割')).toBe('職員 minato-clerk2 の役割を「監督者」にしました。');
    expect(await textOf(row('minato-clerk2'))).toContain('監督者');

    await row('minato-clerk2').locator('summary').click();
    await row('minato-clerk2').getByLabel('minato-clerk2の新しいパスワード').fill('second-day-2024');
    await row('minato-clerk2').getByRole('button', { name: '再設定する' }).click();
    expect(await textOf(page.getByRole('status'), 'パスワード')).toBe('職員 minato-clerk2 のパスワードを再設定しました。');
    await login(other, 'minato-clerk2', 'second-day-2024');
    expect(await other.locator('[data-operator]').textContent()).toBe('minato-clerk2（港区・監督者）');
    await other.context().close();
  });

  it('enters a new resident (転入) and shows the resident-record code', async () => {
    await go(page, '#/residents');
    await page.getByRole('link', { name: '転入・出生などの新規記録' }).click();
    await page.getByRole('heading', { name: '住民の新規記録（転入・出生など）' }).waitFor();
    await page.getByLabel('氏名（姓と名の間に空白）').fill('異動 次郎');
    await page.getByLabel('生年月日（西暦）').fill('1990-03-04');
    await page.getByLabel('住所（都道府県から）').fill('東京都港区芝公園1丁目');
    await page.getByRole('button', { name: '記録する' }).click();
    expect(await textOf(page.getByRole('status'), '記録')).toBe('住民基本台帳に記録しました。');
    created.recordCode = (await textOf(page.locator('.record-code'))).trim();
    created.id = (await page.locator('[data-resident]').getAttribute('data-resident'))!;
    expect(created.recordCode).toMatch(/^\d{11}$/);
  });

  it('records a change of name and a move within 港区; an address outside it is refused beside the field', async () => {
    await go(page, `#/residents/${created.recordCode}`);
    await page.locator('[data-action=changes]').click();
    await page.getByRole('heading', { name: '住民票の異動・修正' }).waitFor();
    await page.getByLabel('氏名の変更').check();
    await page.getByLabel('新しい氏名').fill('異動 二郎');
    await page.getByLabel('変更の理由').selectOption('other');
    await page.getByRole('button', { name: '記録する' }).click();
    expect(await textOf(page.getByRole('status'), '第2版')).toContain('住民票に記録しました（第2版');
    expect(await textOf(page.locator('dl.facts'))).toContain('変わった基本4情報氏名');
    expect(await textOf(page.locator('.result'))).toContain('有効な電子証明書はなかったため、失効したものはありません。');

    await go(page, `#/residents/${created.id}/changes?kind=move`);
    await page.getByLabel('新しい住所', { exact: true }).fill('大阪府大阪市中央区大手前2丁目');
    await page.getByRole('button', { name: '記録する' }).click();
    const beside = page.locator('input[name=address] ~ .field-error');
    expect(await textOf(beside, '住所は')).toBe('住所は「東京都港区」から始まる必要があります。');
    expect(await page.locator('input[name=address]').first().getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('新しい住所', { exact: true }).fill('東京都港区虎ノ門5丁目');
    await page.getByRole('button', { name: '記録する' }).click();
    expect(await textOf(page.getByRole('status'), '第3版')).toContain('第3版');
  });

  it('a correction needs something to correct; then it records it', async () => {
    await go(page, `#/residents/${created.id}/changes?kind=correction`);
    await page.getByLabel('修正の理由').fill('生年月日の誤記');
    await page.getByRole('button', { name: '記録する' }).click();
    expect(await textOf(page.getByRole('alert'))).toBe('修正する事項を少なくとも一つ入力してください。');
    await page.locator('form.register-change input[name=dateOfBirth]').fill('1990-03-05');
    await page.getByRole('button', { name: '記録する' }).click();
    expect(await textOf(page.getByRole('status'), '第4版')).toContain('第4版');
    expect(await textOf(page.locator('dl.facts'))).toContain('生年月日');
  });

  it('in English and Korean', async () => {
    await go(page, `#/residents/${created.id}/changes`);
    await page.getByLabel('表示言語').selectOption('en');
    await page.getByRole('heading', { name: 'Change the resident record' }).waitFor();
    expect(await page.getByLabel('Death').count()).toBe(1);
    await go(page, '#/operators');
    expect(await textOf(page.locator('h2'))).toBe('Operators');
    expect(await textOf(row('minato-clerk'))).toContain('Active');
    await page.getByLabel('Language', { exact: true }).selectOption('ko');
    await page.getByRole('heading', { name: '직원 관리' }).waitFor();
    expect(await textOf(row('minato-clerk'))).toContain('사용 가능');
    await page.getByLabel('표시 언어', { exact: true }).selectOption('ja');
    await page.getByRole('heading', { name: '職員管理' }).waitFor();
  });

  it('a move out of 港区 says where the resident went; a death is recorded', async () => {
    await go(page, `#/residents/${created.id}/changes?kind=move`);
    await page.getByLabel('新しい住所', { exact: true }).fill('東京都清瀬市中清戸5丁目');
    await page.getByLabel('新しい住所の市区町村コード（他の市区町村へ転出する場合）').fill('13221');
    await page.getByRole('button', { name: '記録する' }).click();
    expect(await textOf(page.locator('.result .alert.info'))).toBe('この住民は清瀬市に転出しました。以後の手続は転出先で行います。');
    // 港区 no longer serves them
    await go(page, `#/residents/${created.id}`);
    expect(await textOf(page.getByRole('alert'), 'COUNTER_OUT_OF_SCOPE')).toContain('他の市区町村に属しています');

    const { residents } = await api<{ residents: { id: string; name: string }[] }>(page, `/residents?q=${encodeURIComponent('公的　花子')}`);
    await go(page, `#/residents/${residents[0]!.id}/changes?kind=death`);
    await page.getByRole('button', { name: '記録する' }).click();
    expect(await textOf(page.getByRole('status'), '記録しました')).toContain('住民票に記録しました');
    expect(await textOf(page.locator('dl.facts'))).toContain('消除（死亡）');
  });

  it('a clerk sees neither screen: no menu entry, no action, and the API refuses', async () => {
    const clerk = await (await browser.newContext({ locale: 'ja-JP' })).newPage();
    await login(clerk, 'minato-clerk');
    expect(await clerk.getByRole('link', { name: '職員管理' }).count()).toBe(0);
    const { residents } = await api<{ residents: { id: string }[] }>(clerk, `/residents?q=${encodeURIComponent('公的　一郎')}`);
    await go(clerk, `#/residents/${residents[0]!.id}`);
    expect(await clerk.locator('[data-action=changes]').count()).toBe(0);
    await go(clerk, '#/operators');
    expect(await textOf(clerk.getByRole('alert'), 'COUNTER_SUPERVISOR_ONLY')).toContain('この操作は監督者のみが行えます。');
    await go(clerk, `#/residents/${residents[0]!.id}/changes`);
    await clerk.getByLabel('氏名の変更').check();
    await clerk.getByLabel('新しい氏名').fill('公的 三郎');
    await clerk.getByRole('button', { name: '記録する' }).click();
    expect(await textOf(clerk.getByRole('alert'), 'COUNTER_SUPERVISOR_ONLY')).toContain('監督者のみ');
    await clerk.context().close();
  });

  it('a supervisor of 清瀬市 neither sees nor changes 港区: its residents and its staff are refused', async () => {
    const kiyose = await (await browser.newContext({ locale: 'ja-JP' })).newPage();
    await login(kiyose, 'kiyose-supervisor', KIYOSE_PASSWORD);
    await go(kiyose, '#/operators');
    expect(await kiyose.locator('[data-operator-name]').allTextContents()).toEqual(['kiyose-clerk', 'kiyose-supervisor（自分）']);
    // 港区's 公的 一郎, by his resident-record code as the papers show it
    const minatoPage = page;
    const { residents } = await api<{ residents: { id: string; recordCode: string }[] }>(minatoPage, `/residents?q=${encodeURIComponent('公的　一郎')}`);
    await go(kiyose, `#/residents/${residents[0]!.recordCode}/changes`);
    expect(await textOf(kiyose.getByRole('alert'), 'COUNTER_OUT_OF_SCOPE')).toContain('他の市区町村に属しています');
    expect(await kiyose.locator('form.register-change').count()).toBe(0);
    // straight to the API, with the session's CSRF token: 港区's clerk cannot be locked, nor their password reset
    for (const action of ['lock', 'password', 'role']) {
      const r = await post(kiyose, `/operators/minato-clerk/${action}`, action === 'password' ? { password: 'taken-over-2024' } : action === 'role' ? { role: 'supervisor' } : undefined);
      expect(r).toEqual({ status: 403, error: 'COUNTER_OUT_OF_SCOPE' });
    }
    const move = await post(kiyose, `/residents/${residents[0]!.id}/move`, { address: '東京都清瀬市中清戸1丁目', municipality: '13221' });
    expect(move).toEqual({ status: 403, error: 'COUNTER_OUT_OF_SCOPE' });
    await kiyose.context().close();
    // nothing changed at 港区
    await go(page, '#/operators');
    expect(await textOf(row('minato-clerk'))).toContain('利用可');
  });

  it('the moved-out resident is 清瀬市\u2019s now: its supervisor sees them', async () => {
    const kiyose = await (await browser.newContext({ locale: 'ja-JP' })).newPage();
    await login(kiyose, 'kiyose-supervisor', KIYOSE_PASSWORD);
    await go(kiyose, `#/residents/${created.recordCode}`);
    expect(await textOf(kiyose.locator('.resident-name'))).toBe('異動　二郎');
    expect(await kiyose.locator('[data-action=changes]').count()).toBe(1);
    await kiyose.context().close();
  });
});

async function api<T>(p: Page, path: string): Promise<T> {
  return p.evaluate(async (url) => {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  }, `/api/counter${path}`) as Promise<T>;
}

/** A POST from the page as its own script would send it: the session cookie, its CSRF token, an idempotency key. */
async function post(p: Page, path: string, body: unknown): Promise<{ status: number; error: string }> {
  return p.evaluate(
    async ({ url, body }) => {
      const me = (await (await fetch('/api/counter/me')).json()) as { csrfToken: string };
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken, 'idempotency-key': crypto.randomUUID() },
        body: JSON.stringify(body ?? {}),
      });
      return { status: r.status, error: ((await r.json()) as { error: string }).error };
    },
    { url: `/api/counter${path}`, body },
  );
}
