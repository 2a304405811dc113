import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquirePcscdLock, cardInReader, ensurePcscd, middlewareAvailable, OPENSC_PKCS11, slotOf, tool, type Pcscd } from '../card/support/pcscd.js';
import { jpki, startJpki } from '../support/cli.js';
import { needs } from '../support/system.js';
import { chromiumAvailable, launchChromium, paperReady, textOf } from './support/browser.js';
import { serveCard } from './support/card.js';
import { comparable, pdfText } from './support/pdf-text.js';

/**
 * The web counter terminal end to end: a real `jpki serve` (demo seeded, fresh data directory) as a child
 * process, driven through headless Chromium exactly as an operator would — log in, find 公的 一郎, run the
 * issuance wizard onto the blank demo card, print the certificate copy and the usage guide (to PDF too),
 * then the card signs through pcscd + OpenSC with the signing password the resident set in the browser.
 * Then PIN services, another municipality's operator, and revocation. The tests run in order and share
 * the installation, the browser and what earlier tests issued.
 */
const PASSWORD = 'demo-counter-2004';
const SIGN_TOKEN = 'JPKI (Digital Signature PIN)';
/** Typed in lower case in the browser: the terminal upper-cases it, as the card's rules say. */
const SIGN_PASSWORD_TYPED = 'jpki2004';
const SIGN_PASSWORD = 'JPKI2004';
const AUTH_PIN = '4821';
const NEW_SIGN_PASSWORD = 'KOUTEKI77';

describe.runIf(needs('Chromium (/usr/bin/chromium)', chromiumAvailable()))('the web counter terminal in headless Chromium', () => {
  let dir: string;
  let dataDir: string;
  let cardFile: string;
  let server: Awaited<ReturnType<typeof startJpki>>;
  let base: string;
  let browser: Browser;
  let minato: BrowserContext;
  let page: Page;
  let releasePcscd: (() => Promise<void>) | undefined;
  let pcscd: Pcscd | undefined;
  let card: { stop: () => Promise<void> } | undefined;
  // What earlier tests issued, for the later ones.
  const issued = { residentId: '', application: '', receipt: '', signPem: '', authPem: '', notice: '' };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jpki-e2e-counter-'));
    dataDir = join(dir, 'data');
    cardFile = join(dataDir, 'demo-cards', '13103-1.card');
    server = await startJpki(['--data', dataDir, 'serve', '--port', '0', '--key-algorithm', 'p256'], /jpki listening on/);
    base = `http://127.0.0.1:${/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(server.output())![1]}`;
    browser = await launchChromium();
    minato = await browser.newContext({ locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
    page = await minato.newPage();
  });

  afterAll(async () => {
    await card?.stop();
    await pcscd?.stop();
    await releasePcscd?.();
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a screen with a fresh load of the page (the session cookie carries over); waits until it is drawn. */
  let loads = 0;
  const go = async (p: Page, hash: string) => {
    await p.goto(`${base}/counter?load=${++loads}${hash}`);
    await p.locator('body[data-ready="true"]').waitFor();
  };

  async function login(p: Page, name: string): Promise<void> {
    await p.goto(`${base}/counter`);
    await p.getByLabel('職員名').fill(name);
    await p.getByLabel('パスワード').fill(PASSWORD);
    await p.getByRole('button', { name: 'ログイン' }).click();
    await p.locator('[data-operator]').waitFor();
  }

  async function openPaper(href: string): Promise<Page> {
    const paper = await minato.newPage();
    await paper.goto(new URL(href, base).toString());
    await paperReady(paper);
    return paper;
  }

  it('logs in as minato-clerk; a wrong password is refused with the API\u2019s Japanese message', async () => {
    await page.goto(`${base}/counter`);
    expect(await textOf(page.locator('h2'))).toBe('職員ログイン');
    expect(await page.locator('html').getAttribute('lang')).toBe('ja');
    await page.getByLabel('職員名').fill('minato-clerk');
    await page.getByLabel('パスワード').fill('not-the-password-1');
    await page.getByRole('button', { name: 'ログイン' }).click();
    const refusal = page.getByRole('alert');
    expect(await textOf(refusal, 'COUNTER_LOGIN_FAILED')).toContain('職員名またはパスワードが違います。');

    await login(page, 'minato-clerk');
    expect(await page.locator('[data-operator]').textContent()).toBe('minato-clerk（港区・窓口職員）');
    expect(await textOf(page.locator('h2'))).toBe('住民検索');
  });

  it('the language switch shows English and Korean labels, and the API then answers in that language', async () => {
    const { residents } = await api<{ residents: { id: string; name: string }[] }>(page, '/residents?q=' + encodeURIComponent('公的'));
    issued.residentId = residents.find((r) => r.name === '公的\u3000一郎')!.id;

    await page.getByLabel('表示言語').selectOption('en');
    await page.getByRole('heading', { name: 'Find a resident' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.locator('.main-nav').textContent()).toContain('Day\u2019s ledger');
    expect(await page.getByRole('button', { name: 'Log out' }).count()).toBe(1);
    expect(await page.getByLabel('Name or resident-record code').count()).toBe(1);

    // A refusal in English: the application form's address differs from the register.
    await go(page, `#/residents/${issued.residentId}/issue`);
    expect(await textOf(page.locator('legend'), 'Application form')).toBe('Application form');
    await page.getByLabel('Address').fill('東京都港区虎ノ門6丁目');
    await page.getByRole('button', { name: 'Accept the application' }).click();
    expect(await textOf(page.getByRole('alert'), 'COUNTER_FORM_MISMATCH')).toContain('The form\u2019s "address" does not match the resident register.');

    await page.getByLabel('Language').selectOption('ko');
    await page.getByRole('heading', { name: '전자증명서 신규 발급' }).waitFor();
    expect(await page.getByLabel('주소').inputValue()).toBe('東京都港区虎ノ門6丁目'); // the switch keeps what was typed
    expect(await page.locator('nav.main-nav').textContent()).toContain('주민 검색');
    await page.getByRole('button', { name: '신청 접수' }).click();
    expect(await textOf(page.getByRole('alert'), '주소')).toContain('신청서의 「주소」이(가) 주민기본대장 기록과 일치하지 않습니다.');

    await page.getByLabel('표시 언어').selectOption('ja');
    await page.getByRole('heading', { name: '電子証明書の新規発行' }).waitFor();
    // The operator's language setting followed the switch (the API would answer in it without ?lang=).
    const me = await api<{ operator: { language: string } }>(page, '/me');
    expect(me.operator.language).toBe('ja');
  });

  it('finds 公的 一郎 and runs the issuance wizard onto the blank demo card; every submit is double-clicked', async () => {
    await page.getByRole('link', { name: '住民検索' }).click();
    await page.getByLabel('氏名または住民票コード').fill('公的');
    await page.getByRole('button', { name: '検索' }).click();
    await page.getByRole('link', { name: '公的\u3000一郎' }).click();
    await page.getByRole('heading', { name: '住民の記録' }).waitFor();
    const facts = await page.locator('dl.facts').textContent();
    expect(facts).toContain('昭和52年11月7日');
    expect(facts).toContain('男');
    expect(facts).toContain('東京都港区虎ノ門5丁目');
    await page.getByRole('link', { name: '電子証明書の新規発行' }).click();
    // Every submission the browser sends: a double click must send one.
    const posts: string[] = [];
    const onRequest = (r: Request) => {
      if (r.method() === 'POST') posts.push(new URL(r.url()).pathname.replace(/A-13103-\d{4}-\d{6}/, 'A'));
    };
    page.on('request', onRequest);

    // 1. the application form, pre-filled from the register; a mismatch is refused precisely
    await page.getByLabel('住所').fill('東京都港区虎ノ門6丁目');
    await page.getByRole('button', { name: '申請を受け付ける' }).click();
    expect(await textOf(page.getByRole('alert'), 'COUNTER_FORM_MISMATCH')).toContain('申請書の「住所」が住民基本台帳の記録と一致しません。');
    await page.getByLabel('住所').fill('東京都港区虎ノ門5丁目');
    await page.getByRole('button', { name: '申請を受け付ける' }).dblclick();

    // 2. photo ID
    await page.locator('form[data-step="identity"]').waitFor();
    issued.application = (await page.locator('.application-number').textContent())!.replace('申請番号', '').trim();
    expect(issued.application).toMatch(/^A-13103-\d{4}-\d{6}$/);
    await page.getByLabel('本人確認書類の種類').selectOption('passport');
    await page.getByLabel('書類の記号番号').fill('TK1234567');
    await page.getByRole('button', { name: '本人確認を記録する' }).dblclick();

    // 3. the fee
    await page.locator('form[data-step="fee"]').waitFor();
    expect(await page.getByLabel('受領額（円）').inputValue()).toBe('500');
    await page.getByRole('button', { name: '手数料を受領する' }).dblclick();

    // 4. the key-pair generation device: the blank card is in; the resident sets both secrets
    await page.locator('form[data-step="device"]').waitFor();
    expect(await textOf(page.locator('.device-status'), '未発行のICカード')).toMatch(/^未発行のICカード（カード番号 [0-9A-F]+）が入っています。$/);
    const issue = page.getByRole('button', { name: '鍵ペアを生成して電子証明書を発行する' });
    const signFirst = page.getByLabel('署名用電子証明書のパスワード', { exact: true });
    const signSecond = page.getByLabel('署名用電子証明書のパスワード（確認のためもう一度）');
    const authFirst = page.getByLabel('利用者証明用電子証明書の暗証番号', { exact: true });
    const authSecond = page.getByLabel('利用者証明用電子証明書の暗証番号（確認のためもう一度）');
    // checked in the browser first: the rules of each secret, and the repeated entry
    await signFirst.fill('abcdef');
    await signSecond.fill('abcdef');
    await authFirst.fill('12a4');
    await authSecond.fill('12a4');
    await issue.click();
    expect(await textOf(page.locator('.field-error'), 'パスワードの規則')).toBe('パスワードの規則に合っていません（英大文字と数字で6～16文字、英字と数字を両方含む）。');
    expect(await textOf(page.locator('.field-error'), '数字4桁')).toBe('暗証番号は数字4桁です。');
    expect(await signFirst.getAttribute('aria-invalid')).toBe('true');
    await signFirst.fill(SIGN_PASSWORD_TYPED);
    await signSecond.fill('jpki2005');
    await authFirst.fill('1107');
    await authSecond.fill('1107');
    await issue.click();
    expect(await textOf(page.locator('.field-error'), '一致')).toBe('確認のための入力が一致しません。');
    // then by the server: 1107 is the resident's birthday
    await signSecond.fill(SIGN_PASSWORD_TYPED);
    expect(await signFirst.inputValue()).toBe(SIGN_PASSWORD);
    await issue.click();
    expect(await textOf(page.getByRole('alert'), 'COUNTER_PIN_GUESSABLE')).toContain('利用者証明用電子証明書の暗証番号に生年月日や同じ数字の繰り返しなど推測されやすいものは使えません。');
    await authFirst.fill(AUTH_PIN);
    await authSecond.fill(AUTH_PIN);
    await issue.dblclick();

    // 5. hand-over, with the receipt number
    await page.locator('.handover').waitFor({ timeout: 60_000 });
    issued.receipt = (await page.locator('.receipt-number').textContent())!;
    expect(issued.receipt).toMatch(/^R-13103-\d{4}-000001$/);
    expect(await page.locator('.steps li[aria-current="step"]').getAttribute('data-step')).toBe('done');
    expect(await page.locator('a[data-paper]').count()).toBe(3);
    page.off('request', onRequest);
    expect(posts).toEqual([
      '/api/counter/issuances', // the mismatch, refused
      '/api/counter/issuances',
      '/api/counter/issuances/A/identity',
      '/api/counter/issuances/A/fee',
      '/api/counter/issuances/A/device', // the guessable PIN, refused
      '/api/counter/issuances/A/device',
    ]);
  }, 180_000);

  it('the day\u2019s ledger shows the double-clicked issuance once: one application, one receipt, 500 yen', async () => {
    await page.getByRole('link', { name: '業務日誌' }).click();
    await page.getByRole('heading', { name: '業務日誌' }).waitFor();
    const rows = page.locator('table.ledger-entries tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain(issued.application);
    expect(await rows.first().textContent()).toContain('新規発行');
    expect(await page.locator('[data-total="receipts"]').textContent()).toBe('1件');
    expect(await page.locator('[data-total="fees"]').textContent()).toBe('500円');
    const ledger = await api<{ entries: { number: string; kind: string }[]; totals: { receipts: number; fees: number } }>(page, '/ledger');
    expect(ledger.entries.map((e) => e.kind)).toEqual(['issuance']);
    expect(ledger.totals).toMatchObject({ receipts: 1, fees: 500 });
  });

  it('prints the certificate copy: both certificates, issuer 東京都知事, era dates, 昭和52年11月7日 and 男, fingerprints, PEM — on screen and in the PDF', async () => {
    await go(page, `#/residents/${issued.residentId}`);
    const copy = await openPaper((await page.locator('a[data-paper="certificate-copy"]').first().getAttribute('href'))!);
    try {
      expect(await copy.locator('h1').textContent()).toBe('電子証明書の写し');
      const sign = copy.locator('section.certificate[data-kind="sign"]');
      const signText = (await sign.textContent())!;
      for (const text of ['署名用電子証明書', '東京都知事', '昭和52年11月7日', '男', '公的\u3000一郎', '東京都港区虎ノ門5丁目', 'C=JP, L=Tokyo-to, L=Minato-ku, CN=']) expect(signText).toContain(text);
      expect(await sign.locator('[data-fact="dateOfBirth"]').textContent()).toBe('昭和52年11月7日');
      expect(await sign.locator('[data-fact="sex"]').textContent()).toBe('男');
      const validity = await sign.locator('.era-date').allTextContents();
      expect(validity).toHaveLength(2);
      for (const d of validity) expect(d).toMatch(/^令和(\d+|元)年\d{1,2}月\d{1,2}日$/);
      expect(await copy.locator('section.certificate[data-kind="auth"]').textContent()).toContain('利用者証明用電子証明書');

      // What is shown is the certificate itself: the PEM's serial and fingerprints are the ones printed.
      for (const kind of ['sign', 'auth'] as const) {
        const section = copy.locator(`section.certificate[data-kind="${kind}"]`);
        const pem = (await section.locator('pre.pem').textContent())!;
        const x = new X509Certificate(pem);
        expect(x.serialNumber.toLowerCase()).toBe(await section.getAttribute('data-serial'));
        expect(await section.locator('[data-fingerprint="sha256"]').textContent()).toBe(x.fingerprint256);
        expect(await section.locator('[data-fingerprint="sha1"]').textContent()).toBe(x.fingerprint);
        if (kind === 'sign') issued.signPem = pem;
        else issued.authPem = pem;
      }

      // Printed: A4, without the toolbar.
      await copy.emulateMedia({ media: 'print' });
      expect(await copy.locator('#toolbar').isVisible()).toBe(false);
      const pdf = pdfText(await copy.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true }));
      const inPdf = comparable(pdf);
      for (const text of ['電子証明書の写し', '東京都知事', '生年月日昭和52年11月7日', '性別男', new X509Certificate(issued.signPem).fingerprint256, new X509Certificate(issued.authPem).fingerprint256]) {
        expect(inPdf).toContain(comparable(text));
      }
    } finally {
      await copy.close();
    }
  }, 120_000);

  it('prints the usage guide: the fingerprints of pref-13 and jpki-bridge are those `jpki ca list` prints, SHA-1 and SHA-256, in the PDF too', async () => {
    const listed = jpki(['--data', dataDir, 'ca', 'list', '--json']);
    expect(listed.status, listed.stderr).toBe(0);
    const cas = JSON.parse(listed.stdout) as { id: string; name: string; sha1: string; sha256: string }[];
    const guide = await openPaper((await page.locator('a[data-paper="usage-guide"]').first().getAttribute('href'))!);
    try {
      expect(await guide.locator('h1').textContent()).toBe('電子証明書利用のご案内');
      const pdf = comparable(pdfText(await guide.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true })));
      for (const id of ['pref-13', 'jpki-bridge']) {
        const ca = cas.find((c) => c.id === id)!;
        const block = guide.locator(`.authority[data-ca="${id}"]`);
        expect(await block.locator('[data-fingerprint="sha1"]').textContent()).toBe(ca.sha1);
        expect(await block.locator('[data-fingerprint="sha256"]').textContent()).toBe(ca.sha256);
        expect(await block.textContent()).toContain(ca.name);
        expect(pdf).toContain(comparable(ca.sha1));
        expect(pdf).toContain(comparable(ca.sha256));
      }
      const text = (await guide.locator('article').textContent())!;
      for (const t of ['東京都知事', 'パスワード', '5回続けて間違えるとロック', '3回続けて間違えるとロック', '住所を異動したとき', base]) expect(text).toContain(t);
      expect(text).toMatch(/有効期間は令和\d+年\d{1,2}月\d{1,2}日までです/);

      // The paper in English keeps its official Japanese title, with the English one under it.
      await guide.getByLabel('表示言語').selectOption('en');
      await guide.locator('.paper-subtitle').waitFor();
      expect(await guide.locator('.paper-subtitle').textContent()).toBe('Using your electronic certificates');
      expect(await guide.locator('h1').textContent()).toBe('電子証明書利用のご案内');
      await guide.getByLabel('Language').selectOption('ja');
    } finally {
      await guide.close();
    }
  }, 120_000);

  it('prints the receipt (領収書), found by its number on the ledger screen: 500 yen, numbered, to 公的 一郎', async () => {
    await go(page, '#/ledger');
    await page.getByLabel('領収書・受理通知書の番号').fill(issued.receipt.toLowerCase());
    const opened = minato.waitForEvent('page');
    await page.getByRole('button', { name: '書類を開く' }).click();
    const receipt = await opened;
    await paperReady(receipt);
    try {
      expect(new URL(receipt.url()).pathname).toBe('/counter/print/receipt');
      const text = (await receipt.locator('article').textContent())!;
      for (const t of ['領収書', issued.receipt, '公的\u3000一郎 様', '500円', '電子証明書発行手数料', '港区長', issued.application]) expect(text).toContain(t);
    } finally {
      await receipt.close();
    }
  });

  describe.runIf(needs('pcscd + vpcd + OpenSC + openssl', middlewareAvailable()))('the issued card through pcscd and OpenSC', () => {
    it('signs with the signing password the resident set in the browser; openssl verifies with the public key of the certificate copy', async () => {
      // pcscd is shared with test/card/pcsc-stack.test.ts: one test file at a time.
      releasePcscd = await acquirePcscdLock(10 * 60_000);
      pcscd = await ensurePcscd();
      if (cardInReader()) throw new Error('another card is already in "Virtual PCD 00 00" (a `jpki card serve` left running?)');
      card = await serveCard(dataDir, cardFile);
      try {
        expect(signAndVerify(SIGN_PASSWORD, 'first')).toBe('Verified OK');
      } finally {
        await card.stop();
        card = undefined;
      }
    }, 15 * 60_000); // it may wait for the card stack test to give pcscd back
  });

  /** pkcs11-tool signs on the card's signing slot (id 02); openssl checks it with the copy's certificate. */
  function signAndVerify(pin: string, name: string): string {
    const data = join(dir, `${name}.txt`);
    const sig = join(dir, `${name}.sig`);
    const certPem = join(dir, `${name}-sign.pem`);
    const pub = join(dir, `${name}-sign.pub.pem`);
    writeFileSync(data, `電子申請書 ${name} — 公的 一郎\n`);
    writeFileSync(certPem, `${issued.signPem}\n`);
    const signed = tool('pkcs11-tool', ['--module', OPENSC_PKCS11, '--slot', slotOf(SIGN_TOKEN), '--login', '--pin', pin, '--sign', '--mechanism', 'SHA256-RSA-PKCS', '--id', '02', '-i', data, '-o', sig]);
    if (signed.status !== 0) return `pkcs11-tool failed: ${signed.output}`;
    const key = tool('openssl', ['x509', '-in', certPem, '-pubkey', '-noout', '-out', pub]);
    expect(key.status, key.output).toBe(0);
    // The user-authentication certificate's key must not verify it: the check can fail.
    const authPem = join(dir, `${name}-auth.pem`);
    writeFileSync(authPem, `${issued.authPem}\n`);
    const authPub = join(dir, `${name}-auth.pub.pem`);
    tool('openssl', ['x509', '-in', authPem, '-pubkey', '-noout', '-out', authPub]);
    expect(tool('openssl', ['dgst', '-sha256', '-verify', authPub, '-signature', sig, data]).output).not.toContain('Verified OK');
    return tool('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sig, data]).output.trim();
  }

  it('PIN services: five wrong current signing passwords lock it; a lock release, retried after its answer was lost, sets a new one — once', async () => {
    await go(page, `#/residents/${issued.residentId}/pins`);
    await page.getByRole('heading', { name: 'パスワードの手続' }).waitFor();
    await textOf(page.locator('.device-status'), 'ICカード（カード番号');
    await page.getByLabel('書類の記号番号').fill('DL5551234');
    await page.getByLabel('本人確認書類の種類').selectOption('driving-licence');
    await page.getByLabel('新しいパスワード（住民が入力）').fill('NEWPASS1');
    await page.getByLabel('新しいパスワード（確認のためもう一度）').fill('NEWPASS1');
    const current = page.getByLabel('現在のパスワード（住民が入力）');
    const submit = page.getByRole('button', { name: '手続を行う' });
    const messages: string[] = [];
    for (let i = 0; i < 5; i++) {
      await current.fill('WRONG123');
      await submit.click();
      const alert = page.locator('.messages [role="alert"]');
      await alert.waitFor();
      messages.push((await alert.textContent())!);
      await page.evaluate(() => document.querySelector('.messages')!.replaceChildren());
    }
    expect(messages[0]).toContain('現在の署名用電子証明書のパスワードが違います。あと4回間違えるとロックされます。');
    expect(messages[3]).toContain('あと1回間違えると');
    // the fifth wrong entry locks it
    expect(messages[4]).toContain('署名用電子証明書のパスワードはロックされています。ロック解除申請が必要です。');
    expect(messages[4]).toContain('[COUNTER_PIN_LOCKED]');

    // Lock release: the server does it, but its answer never reaches the browser.
    await page.getByLabel('ロック解除（続けて誤入力した場合）').check();
    expect(await current.isVisible()).toBe(false);
    await page.getByLabel('新しいパスワード（住民が入力）').fill(NEW_SIGN_PASSWORD.toLowerCase());
    await page.getByLabel('新しいパスワード（確認のためもう一度）').fill(NEW_SIGN_PASSWORD);
    const keys: string[] = [];
    const onRequest = (r: Request) => {
      if (new URL(r.url()).pathname === '/api/counter/pin-unlocks') keys.push(r.headers()['idempotency-key'] ?? '');
    };
    page.on('request', onRequest);
    let lost = false;
    await page.route(
      (url) => url.pathname === '/api/counter/pin-unlocks',
      async (route) => {
        if (lost) return route.continue();
        lost = true;
        const answered = await route.fetch();
        expect(answered.status()).toBe(201);
        await route.abort('connectionreset');
      },
    );
    await submit.click();
    expect(await textOf(page.getByRole('alert'), 'NETWORK')).toContain('同じ申請として扱われ');
    await submit.click();
    await page.locator('.notice-number').waitFor();
    page.off('request', onRequest);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[A-Za-z0-9_.:-]{8,128}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(await textOf(page.locator('.messages'))).toContain('同じ申請は既に処理されていました。');
    expect(await page.locator('.result').textContent()).toContain('残り試行回数：5回（最大5回）');
    issued.notice = (await page.locator('.notice-number').textContent())!;

    const ledger = await api<{ entries: { kind: string }[] }>(page, '/ledger');
    expect(ledger.entries.filter((e) => e.kind === 'pin-unlock')).toHaveLength(1);
    expect(ledger.entries.filter((e) => e.kind === 'pin-change')).toHaveLength(0);

    const notice = await openPaper((await page.locator('a[data-paper="notice"]').getAttribute('href'))!);
    try {
      expect(await notice.locator('h1').textContent()).toBe('パスワードロック解除申請受付通知書');
      expect(await notice.locator('article').textContent()).toContain(issued.notice);
    } finally {
      await notice.close();
    }
  }, 180_000);

  describe.runIf(needs('pcscd + vpcd + OpenSC + openssl', middlewareAvailable()))('the card after the lock release', () => {
    it('signs through OpenSC with the new signing password; the old one is refused', async () => {
      releasePcscd ??= await acquirePcscdLock();
      pcscd ??= await ensurePcscd();
      card = await serveCard(dataDir, cardFile);
      try {
        expect(signAndVerify(SIGN_PASSWORD, 'old')).toContain('CKR_PIN_INCORRECT');
        expect(signAndVerify(NEW_SIGN_PASSWORD, 'new')).toBe('Verified OK');
      } finally {
        await card.stop();
        card = undefined;
        await pcscd.stop();
        pcscd = undefined;
        await releasePcscd();
        releasePcscd = undefined;
      }
    }, 300_000);
  });

  it('an operator of another municipality (kiyose-clerk) cannot find, open, act on or print anything of 公的 一郎', async () => {
    const kiyose = await browser.newContext({ locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
    try {
      const k = await kiyose.newPage();
      await login(k, 'kiyose-clerk');
      expect(await k.locator('[data-operator]').textContent()).toBe('kiyose-clerk（清瀬市・窓口職員）');
      await k.getByLabel('氏名または住民票コード').fill('公的');
      await k.getByRole('button', { name: '検索' }).click();
      expect(await textOf(k.getByRole('status'), '該当する住民はいません。')).toBe('該当する住民はいません。');

      const refusal = 'この住民（または申請・書類）は他の市区町村に属しています。自分の市区町村の住民に対してのみ処理できます。';
      for (const hash of [`#/residents/${issued.residentId}`, `#/residents/${issued.residentId}/issue`, `#/residents/${issued.residentId}/revoke`, `#/residents/${issued.residentId}/pins`, `#/issuances/${issued.application}`]) {
        await go(k, hash);
        const alert = k.getByRole('alert');
        expect(await textOf(alert), hash).toContain(refusal);
        expect(await alert.getAttribute('data-code')).toBe('COUNTER_OUT_OF_SCOPE');
        expect(await k.locator('h2').textContent()).toBe('処理できません');
        expect(await k.locator('main form, main [data-action]').count(), hash).toBe(0);
        expect(await k.locator('main').textContent()).not.toContain('昭和52年11月7日');
      }
      for (const href of [
        `/counter/print/certificate-copy?number=${issued.application}`,
        `/counter/print/usage-guide?number=${issued.application}`,
        `/counter/print/receipt?number=${issued.receipt}`,
        `/counter/print/notice?number=${issued.notice}`,
      ]) {
        await k.goto(`${base}${href}`);
        await paperReady(k);
        expect(await textOf(k.getByRole('alert')), href).toContain(refusal);
        expect(await k.locator('#paper').textContent()).not.toContain('公的');
      }
      // and the API refuses the action itself, not only the screens
      const tried = await k.evaluate(async (residentId) => {
        const me = (await (await fetch('/api/counter/me')).json()) as { csrfToken: string };
        const r = await fetch('/api/counter/revocations?lang=ja', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken, 'idempotency-key': 'kiyose-tries-1' },
          body: JSON.stringify({ residentId, form: { name: '公的 一郎', dateOfBirth: '1977-11-07', address: '東京都港区虎ノ門5丁目' }, identity: { type: 'passport', number: 'X1' }, reason: 'lost' }),
        });
        return { status: r.status, body: (await r.json()) as { error: string } };
      }, issued.residentId);
      expect(tried).toMatchObject({ status: 403, body: { error: 'COUNTER_OUT_OF_SCOPE' } });
    } finally {
      await kiyose.close();
    }
  }, 120_000);

  it('revocation at the counter: reason lost, the card handed in, the notice of acceptance printed; both certificates show revoked', async () => {
    await go(page, `#/residents/${issued.residentId}`);
    await page.getByRole('link', { name: '失効申請・秘密鍵危殆化届出' }).click();
    await page.getByRole('heading', { name: '電子証明書の失効申請・秘密鍵危殆化届出' }).waitFor();
    await page.getByLabel('本人確認書類の種類').selectOption('driving-licence');
    await page.getByLabel('書類の記号番号').fill('DL5551234');
    const revoke = page.getByRole('button', { name: '失効させる' });
    await revoke.click();
    expect(await textOf(page.locator('.field-error'), '理由')).toBe('理由を選んでください。');
    await page.getByLabel('紛失').check();
    await page.getByLabel('ICカードを回収した').check();
    await revoke.dblclick();
    await page.locator('.notice-number').waitFor();
    const notice = (await page.locator('.notice-number').textContent())!;
    expect(notice).toMatch(/^N-13103-\d{4}-\d{6}$/);
    const revoked = page.locator('.result tbody tr');
    expect(await revoked.count()).toBe(2);
    for (const row of await revoked.allTextContents()) expect(row).toContain('keyCompromise (1)');

    const paper = await openPaper((await page.locator('a[data-paper="notice"]').getAttribute('href'))!);
    try {
      expect(await paper.locator('h1').textContent()).toBe('電子証明書失効申請等受理通知書');
      const text = (await paper.locator('article').textContent())!;
      for (const t of [notice, '紛失', 'keyCompromise (1)', '公的\u3000一郎']) expect(text).toContain(t);
      expect(await paper.locator('dd', { hasText: 'あり' }).count()).toBe(1);
    } finally {
      await paper.close();
    }

    await go(page, `#/residents/${issued.residentId}`);
    const statuses = await page.locator('.status-revoked').allTextContents();
    expect(statuses).toEqual(['失効', '失効']);
    const ledger = await api<{ entries: { kind: string }[]; totals: { notices: number; receipts: number } }>(page, '/ledger');
    expect(ledger.entries.filter((e) => e.kind === 'revocation')).toHaveLength(1);
    expect(ledger.totals).toMatchObject({ receipts: 1, notices: 2 });
  }, 120_000);

  it('logs out: the session is gone and the terminal is back at the login screen', async () => {
    await go(page, '#/residents');
    await page.getByRole('button', { name: 'ログアウト' }).click();
    expect(await textOf(page.getByRole('status'), 'ログアウトしました。')).toBe('ログアウトしました。');
    expect(await page.getByRole('button', { name: 'ログイン' }).count()).toBe(1);
    const me = await page.evaluate(async () => (await fetch('/api/counter/me')).status);
    expect(me).toBe(401);
  });
});

/** A GET of the counter API with the page's own session cookie (what the page itself may read). */
async function api<T>(p: Page, path: string): Promise<T> {
  return p.evaluate(async (url) => {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  }, `/api/counter${path}`) as Promise<T>;
}
