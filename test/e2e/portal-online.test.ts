import { constants, privateEncrypt } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCardSession } from '../../src/client/index.js';
import { systemClock } from '../../src/common/clock.js';
import { signDetached } from '../../src/pki/cms-sign.js';
import { toPem } from '../../src/pki/pem.js';
import { VPCD_READER_NAME } from '../../src/reader/index.js';
import { middlewareAvailable } from '../card/support/pcscd.js';
import { SIGN_PIN, type ResidentCard } from '../client/support.js';
import { JPKI_BIN } from '../support/cli.js';
import { needs } from '../support/system.js';
import { chromiumAvailable } from './support/browser.js';
import { SCREENSHOTS, startOnlineWindow, type OnlineWindow } from './support/online-window.js';

/**
 * The portal's online window end to end: the service (portal, OCSP) and the resident's local client agent,
 * the card served into pcscd's vpcd reader, headless Chromium as the resident. The validity check reads the
 * certificate through the agent; online revocation signs a fresh portal challenge with the card. Afterwards
 * `jpki client check` on the card says revoked and `openssl ocsp` agrees within a second; a replayed
 * challenge, a foreign key and a second revocation are refused.
 */
const exec = promisify(execFile);

/** A command run without blocking this process (whose event loop serves the portal and the agent). */
async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
    return { status: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { status: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe.runIf(needs('Chromium (/usr/bin/chromium)', chromiumAvailable()) && needs('pcscd + vpcd + OpenSC + OpenSSL', middlewareAvailable()))('the portal\u2019s online window through the agent and a card in pcscd', { timeout: 180_000 }, () => {
  let w: OnlineWindow | undefined;
  let r: ResidentCard;
  let app: FastifyInstance;
  let base: string;
  let page: Page;
  const revocation: { body?: Record<string, string>; signPem?: string } = {};

  beforeAll(async () => {
    w = await startOnlineWindow();
    ({ r, app, base, page } = w);
  }, 600_000);

  afterAll(async () => {
    await w?.stop();
  }, 120_000);

  /** Clicks `button`, then does what the resident does in the agent's window that opens. */
  async function approveInAgent(click: () => Promise<void>, pin?: string): Promise<void> {
    const popup = page.waitForEvent('popup');
    await click();
    const win = await popup;
    await win.waitForURL(/\/approve\/[0-9a-f]{32}/);
    await win.locator('#approve').waitFor();
    expect(await win.locator('.origin').textContent()).toBe(base);
    if (pin) await win.locator('#pin').fill(pin);
    await win.screenshot({ path: join(SCREENSHOTS, `agent-approve-${pin ? 'sign' : 'read'}.png`) });
    await win.locator('#approve').click();
    await win.locator('.done, .error').first().waitFor({ timeout: 30_000 });
  }

  it('shows the online window and the agent; the validity check says valid', async () => {
    await page.goto(`${base}/online`);
    await page.locator('body[data-ready="true"]').waitFor();
    await page.locator('#agent-status').filter({ hasText: '接続しました' }).waitFor();
    await page.locator('input[value="auth"]').check();
    await approveInAgent(() => page.locator('#check').click());
    const verdict = page.locator('#check-result .verdict');
    await verdict.waitFor({ timeout: 30_000 });
    expect(await verdict.getAttribute('data-status')).toBe('valid');
    expect(await page.locator('#check-result').textContent()).toContain(r.authSerial);
    await page.screenshot({ path: join(SCREENSHOTS, 'portal-online-valid.png'), fullPage: true });
  });

  it('revokes online: the card signs a fresh challenge through the agent; an acceptance notice follows', async () => {
    page.on('request', (req) => {
      if (new URL(req.url()).pathname === '/api/portal/online/revocations') revocation.body = JSON.parse(req.postData() ?? '{}');
    });
    await page.locator('input[value="sign"]').check();
    await page.locator('#reason').selectOption('keyCompromise');
    await page.locator('#confirm').check();
    await approveInAgent(() => page.locator('#revoke').click(), SIGN_PIN);
    const notice = page.locator('#notice');
    await notice.waitFor({ timeout: 30_000 });
    const revokedAt = Date.now();
    const text = (await notice.textContent()) ?? '';
    expect(text).toContain('受理通知');
    expect(text).toContain(r.signSerial);
    expect(text).toContain('東京都知事');
    await page.screenshot({ path: join(SCREENSHOTS, 'portal-online-revoked.png'), fullPage: true });

    // openssl ocsp agrees within a second
    const signPem = join(r.t.dir, 'sign.pem');
    writeFileSync(signPem, toPem(Buffer.from(revocation.body!.certificate!, 'base64'), 'CERTIFICATE'));
    revocation.signPem = signPem;
    // (asynchronously: the server answering runs in this very process)
    let out = '';
    do {
      out = (await run('openssl', ['ocsp', '-issuer', r.caPem, '-cert', signPem, '-url', `${base}/ocsp`, '-CAfile', r.caPem, '-no_nonce'])).stdout;
    } while (!out.includes(': revoked') && Date.now() - revokedAt < 1000);
    expect(out).toContain(`${signPem}: revoked`);
    expect(out).toContain('Reason: keyCompromise');
    expect(Date.now() - revokedAt).toBeLessThan(1000);

    // audited like any other revocation
    const audit = await r.t.services.store.audit.list({ action: 'certificate.revoke', actor: 'portal:online-window' });
    expect(audit.map((a) => a.target)).toContain(`pref-13/${r.signSerial}`);
    expect((await r.t.services.store.audit.verify()).ok).toBe(true);
  });

  it('jpki client check on the card says revoked', async () => {
    const out = await run(process.execPath, [JPKI_BIN, '--data', r.t.dir, 'client', 'check', '--reader', VPCD_READER_NAME], { JPKI_SIGN_PIN: SIGN_PIN });
    expect(out.stdout).toMatch(/^失効 \(revoked\): .*鍵の危殆化.*\(OCSP, serial /);
    expect(out.status).toBe(2);
  });

  it('refuses a replayed challenge, a signature by another key, and a second revocation', async () => {
    const post = (url: string, body: unknown) => app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    const replay = await post('/api/portal/online/revocations', revocation.body);
    expect(replay.statusCode).toBe(409);
    expect(replay.json()).toMatchObject({ error: 'PORTAL_CHALLENGE_UNKNOWN' });

    // a software key of someone else signs a fresh challenge, presented with the resident's certificate
    const challenge = (await post('/api/portal/online/challenges', { purpose: 'revocation' })).json();
    const dir = r.t.dir;
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'other.key'), '-out', join(dir, 'other.pem'), '-subj', '/CN=someone else', '-days', '2', '-outform', 'PEM'], { stdio: 'ignore' });
    const otherDer = Buffer.from(execFileSync('openssl', ['x509', '-in', join(dir, 'other.pem'), '-outform', 'DER']));
    const key = readFileSync(join(dir, 'other.key'), 'utf8');
    const foreign = await signDetached({
      content: Buffer.from(challenge.content, 'base64'),
      certificate: otherDer,
      signingTime: new Date(),
      signDigestInfo: async (di) => privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, di),
    });
    const authDer = await (async () => {
      const s = await openCardSession({ type: 'pcsc', readerName: VPCD_READER_NAME });
      try {
        return await s.certificate('auth');
      } finally {
        await s.close();
      }
    })();
    const byOther = await post('/api/portal/online/revocations', { challengeId: challenge.id, signature: foreign.toString('base64'), certificate: authDer.toString('base64'), reason: 'unspecified' });
    expect(byOther.statusCode).toBe(401);
    expect(byOther.json()).toMatchObject({ error: 'PORTAL_SIGNATURE_INVALID' });

    // the card's own signing key again, for the certificate already revoked
    const fresh = (await post('/api/portal/online/challenges', { purpose: 'revocation' })).json();
    const s = await openCardSession({ type: 'pcsc', readerName: VPCD_READER_NAME });
    const signed = await s.signDetached('sign', Buffer.from(fresh.content, 'base64'), SIGN_PIN, systemClock).finally(() => s.close());
    const again = await post('/api/portal/online/revocations', { challengeId: fresh.id, signature: signed.signature.toString('base64'), certificate: signed.certificate.toString('base64'), reason: 'unspecified' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: 'PORTAL_ALREADY_REVOKED' });
  });
});
