import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/common/clock.js';
import { viewCertificate } from '../../src/client/index.js';
import { encodeResidentFactsSan } from '../../src/pki/resident-facts.js';
import { toPem } from '../../src/pki/pem.js';
import { jpki } from '../support/cli.js';
import { onCard } from '../counter/support.js';
import { GUIDE_EXAMPLE, residentWithCard, SIGN_PIN, type ResidentCard } from './support.js';

/**
 * The viewer's facts as `jpki client show --cert` prints them, for the guide's example: a certificate issued
 * at Minato-ku's counter on 2004-04-01 (fixed clock) for three years. Then the era boundaries of dates of
 * birth and of issue/expiry dates, on certificates made with @peculiar/x509.
 */

let r: ResidentCard;
let certFile: string;

beforeAll(async () => {
  r = await residentWithCard({ clock: new FixedClock('2004-04-01T10:00:00+09:00') });
  const der = await onCard(r.t, r.card, async (c) => {
    await c.verifyPin('sign', SIGN_PIN);
    return c.readCertificate('sign');
  });
  certFile = join(r.t.dir, 'ichiro-2004.der');
  writeFileSync(certFile, der!);
  writeFileSync(`${certFile}.pem`, toPem(der!, 'CERTIFICATE'));
});

afterAll(async () => {
  await r?.t.cleanup();
});

describe('jpki client show --cert', () => {
  it('prints the seven values of the guide\u2019s example, one label: value a line (DER and PEM alike)', () => {
    for (const file of [certFile, `${certFile}.pem`]) {
      const out = jpki(['--data', r.t.dir, 'client', 'show', '--cert', file]);
      expect(out.stderr).toBe('');
      expect(out.stdout.trim().split('\n')).toEqual(Object.entries(GUIDE_EXAMPLE).map(([k, v]) => `${k}: ${v}`));
    }
  });

  it('shows every field and the six otherNames by name with --details; --html writes a standalone page', () => {
    const out = jpki(['--data', r.t.dir, 'client', 'show', '--cert', certFile, '--details']);
    for (const text of ['氏名代替文字の使用位置情報: 00000（代替文字なし）', '生年月日: 319771107（元号コード3（昭和））= 昭和52年11月7日', '性別: 1（男）', '住所代替文字の使用位置情報', 'CRL配布点', '機関情報アクセス', '鍵用途 [重要]', '拇印 (SHA-256)'])
      expect(out.stdout).toContain(text);
    const html = join(r.t.dir, 'ichiro.html');
    expect(jpki(['--data', r.t.dir, 'client', 'show', '--cert', certFile, '--html', html, '--lang', 'en']).status).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<html lang="en">');
    expect(page).toContain('平成19年3月31日');
    expect(page).not.toMatch(/<script|https?:\/\/[^"]*\.(js|css)/);
  });
});

describe('era boundaries', () => {
  const crypto = webcrypto as unknown as Crypto;
  x509.cryptoProvider.set(crypto);
  const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  let keys: CryptoKeyPair;
  beforeAll(async () => {
    keys = (await crypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as CryptoKeyPair;
  });

  async function certificate(dateOfBirth: string, notBefore: string, notAfter: string): Promise<Buffer> {
    const san = encodeResidentFactsSan({ name: '公的\u3000花子', sex: '2', dateOfBirth, address: '大阪府大阪市北区中之島1丁目' });
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: '01',
      subject: 'C=JP, CN=test',
      issuer: 'C=JP, O=JPKI, OU=Prefectural Governor CA, L=Osaka-fu, CN=大阪府知事',
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      signingAlgorithm: RSA,
      publicKey: keys.publicKey,
      signingKey: keys.privateKey,
      extensions: [new x509.Extension('2.5.29.17', false, new Uint8Array(san))],
    });
    return Buffer.from(cert.rawData);
  }

  const basic = (der: Buffer) => Object.fromEntries(viewCertificate(der).basic.map((b) => [b.field, b.value.ja]));

  it.each([
    ['1989-01-07', '昭和64年1月7日'],
    ['1989-01-08', '平成元年1月8日'],
    ['2019-04-30', '平成31年4月30日'],
    ['2019-05-01', '令和元年5月1日'],
  ])('a date of birth of %s is %s', async (dob, shown) => {
    const b = basic(await certificate(dob, '2024-01-01T00:00:00Z', '2026-12-31T14:59:59Z'));
    expect(b.dateOfBirth).toBe(shown);
    expect(b.sex).toBe('女');
    expect(b.issuer).toBe('大阪府知事');
  });

  it('issue and expiry dates are shown in Japan time, 元年 for a first year', async () => {
    // 2019-04-30T15:00Z is already 1 May in Japan; 1989-01-07T15:00Z is 8 January (Heisei 1).
    const b = basic(await certificate('1970-01-01', '2019-04-30T15:00:00Z', '2019-04-30T14:59:59Z'));
    expect(b.issuedOn).toBe('令和元年5月1日');
    expect(b.expiresOn).toBe('平成31年4月30日');
    const c = basic(await certificate('1970-01-01', '1989-01-07T14:59:59Z', '1989-01-07T15:00:00Z'));
    expect(c.issuedOn).toBe('昭和64年1月7日');
    expect(c.expiresOn).toBe('平成元年1月8日');
  });
});
