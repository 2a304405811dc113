import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jpki } from '../support/cli.js';
import { commandExists, needs } from '../support/system.js';
import { residentWithCard, SIGN_PIN, type ResidentCard } from './support.js';

/**
 * `jpki client` on a card image issued at the counter: signing (checked by `openssl cms -verify`), the PIN
 * commands, and bad input — every refusal one line with a code, never a stack trace.
 */
let r: ResidentCard;

beforeAll(async () => {
  r = await residentWithCard();
});

afterAll(async () => {
  await r?.t.cleanup();
});

const client = (args: string[], env: Record<string, string> = {}) => jpki(['--data', r.t.dir, 'client', ...args], { env: { JPKI_SIGN_PIN: '', JPKI_AUTH_PIN: '', ...env }, input: '' });

function oneLineError(stderr: string, code: string): void {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^jpki: .+ \\[${code}\\]$`));
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('jpki client sign', () => {
  it('makes a detached CMS that openssl cms -verify accepts, and rejects after the file changes', () => {
    if (!needs('openssl', commandExists('openssl'))) return;
    const file = join(r.t.dir, '転出届.txt');
    writeFileSync(file, '転出届\n氏名: 公的 一郎\n');
    const signed = client(['sign', file, '--out', `${file}.p7s`, '--card', r.card], { JPKI_SIGN_PIN: SIGN_PIN });
    expect(signed.stderr).toBe('');
    expect(signed.status).toBe(0);
    const verify = () =>
      spawnSync('openssl', ['cms', '-verify', '-binary', '-content', file, '-in', `${file}.p7s`, '-inform', 'DER', '-CAfile', r.caPem, '-purpose', 'any', '-out', '/dev/null'], { encoding: 'utf8' });
    const ok = verify();
    expect(ok.stderr).toContain('Verification successful');
    expect(ok.status).toBe(0);
    const printed = spawnSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', `${file}.p7s`], { encoding: 'utf8' }).stdout;
    for (const attr of ['contentType', 'messageDigest', 'signingTime', 'id-smime-aa-signingCertificateV2']) expect(printed).toContain(attr);
    writeFileSync(file, '転出届\n氏名: 公的 二郎\n');
    const bad = verify();
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).not.toContain('Verification successful');
  });

  it('says how many tries are left after a wrong PIN, and that a locked PIN needs the counter', () => {
    const file = join(r.t.dir, 'x.txt');
    writeFileSync(file, 'x');
    const wrong = client(['sign', file, '--out', `${file}.p7s`, '--card', r.card], { JPKI_SIGN_PIN: 'WRONG1' });
    expect(wrong.status).not.toBe(0);
    oneLineError(wrong.stderr, 'PIN_INCORRECT');
    expect(wrong.stderr).toContain('4 tries left');
    const status = client(['pin', 'status', '--card', r.card, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ sign: { triesLeft: 4, maxTries: 5, blocked: false }, auth: { triesLeft: 3 } });
    // the right one restores the counter
    expect(client(['show', '--card', r.card], { JPKI_SIGN_PIN: SIGN_PIN }).status).toBe(0);
    expect(JSON.parse(client(['pin', 'status', '--card', r.card, '--json']).stdout).sign.triesLeft).toBe(5);
  });

  it('changes the user-authentication PIN', () => {
    const changed = client(['pin', 'change', '--pin', 'auth', '--card', r.card], { JPKI_AUTH_PIN: '4821', JPKI_NEW_PIN: '9035' });
    expect(changed.stderr).toBe('');
    expect(changed.status).toBe(0);
    const old = client(['pin', 'change', '--pin', 'auth', '--card', r.card], { JPKI_AUTH_PIN: '4821', JPKI_NEW_PIN: '4821' });
    oneLineError(old.stderr, 'PIN_INCORRECT');
    expect(client(['pin', 'change', '--pin', 'auth', '--card', r.card], { JPKI_AUTH_PIN: '9035', JPKI_NEW_PIN: '4821' }).status).toBe(0);
  });
});

describe('bad input', () => {
  it('a file that is not a certificate', () => {
    const file = join(r.t.dir, 'not-a-cert.pem');
    writeFileSync(file, 'hello, this is not a certificate\n');
    const out = client(['show', '--cert', file]);
    expect(out.status).toBe(65);
    oneLineError(out.stderr, 'CLIENT_NOT_A_CERTIFICATE');
    const missing = client(['show', '--cert', join(r.t.dir, 'nope.der')]);
    oneLineError(missing.stderr, 'CLIENT_FILE_UNREADABLE');
  });

  it('a card with no certificate', async () => {
    const blank = await r.t.blankCard();
    const out = client(['show', '--auth', '--card', blank]);
    expect(out.status).not.toBe(0);
    oneLineError(out.stderr, 'CLIENT_NO_CERTIFICATE');
    const fp = client(['fingerprints', '--card', blank]);
    oneLineError(fp.stderr, 'CLIENT_NO_CERTIFICATE');
  });

  it('no card at all', () => {
    const out = client(['show', '--auth', '--card', join(r.t.dir, 'no-such-card.img')]);
    oneLineError(out.stderr, 'CARD_ABSENT');
  });
});
