import { describe, it, expect, beforeAll } from 'vitest';
import { generateKeyPairSync, sign as nodeSign, X509Certificate, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { encodeTbsCertificate, signCertificate } from './certificate-builder.js';
import { residentCertificateTbs, residentSubject, residentValidity, caValidity, selfSignedCaTbs, crossCertificateTbs } from './jpki-profile.js';
import { encodeName } from './names.js';
import { keyIdentifierOf } from './extensions.js';
import { readCertificate, readTbsCertificate } from './certificate-reader.js';
import { digestOf, type Signer, type SignatureAlgorithm } from './signer.js';
import { lintCertificate } from './lint/index.js';
import { splitSigned } from './signed.js';

function softSigner(privateKey: KeyObject, publicKey: KeyObject, algorithm: SignatureAlgorithm): Signer {
  return {
    algorithm,
    publicKey: publicKey.export({ type: 'spki', format: 'der' }),
    sign: async (data) => nodeSign(digestOf(algorithm), data, privateKey),
  };
}

describe('TBSCertificate builder', () => {
  let caKeys: { privateKey: KeyObject; publicKey: KeyObject };
  let leafKeys: { privateKey: KeyObject; publicKey: KeyObject };
  beforeAll(() => {
    caKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    leafKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  });

  it('produces the same bytes as @peculiar/x509 for the same fields (RSA PKCS#1 v1.5 is deterministic)', async () => {
    const issuer = encodeName([{ C: 'JP' }, { O: 'JPKI' }, { CN: '東京都知事' }]);
    const spki = leafKeys.publicKey.export({ type: 'spki', format: 'der' });
    const serial = Buffer.from('4a1b2c3d4e5f60718293a4b5c6d7e8f9', 'hex');
    const notBefore = new Date('2026-04-01T01:00:00Z');
    const notAfter = new Date('2029-03-31T14:59:59Z');
    const ours = residentCertificateTbs({
      kind: 'auth',
      serial,
      signatureAlgorithm: 'RSA-SHA256',
      issuer: { subject: issuer, keyId: keyIdentifierOf(caKeys.publicKey.export({ type: 'spki', format: 'der' })) },
      subjectPublicKeyInfo: spki,
      subject: residentSubject('auth', 'ABC123'),
      notBefore,
      notAfter,
      pointers: { crlDistributionPoints: ['http://127.0.0.1:8080/crl/pref-13.crl'], ocsp: ['http://127.0.0.1:8080/ocsp'] },
    });
    const signer = softSigner(caKeys.privateKey, caKeys.publicKey, 'RSA-SHA256');
    const der = await signCertificate(ours, signer);

    // The same certificate through the library, fed our extensions as raw values.
    const view = readCertificate(der);
    const webKey = await crypto.subtle.importKey('pkcs8', caKeys.privateKey.export({ type: 'pkcs8', format: 'der' }), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
    const lib = await x509.X509CertificateGenerator.create({
      serialNumber: serial.toString('hex'),
      issuer: new x509.Name(new Uint8Array(issuer)),
      subject: new x509.Name(new Uint8Array(residentSubject('auth', 'ABC123'))),
      notBefore,
      notAfter,
      publicKey: new x509.PublicKey(new Uint8Array(spki)),
      signingKey: webKey,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      extensions: view.extensions.map((e) => new x509.Extension(e.oid, e.critical, new Uint8Array(e.value))),
    });
    expect(Buffer.from(lib.rawData).toString('hex')).toBe(der.toString('hex'));
  });

  it('writes GeneralizedTime from 2050 and UTCTime before, as RFC 5280 requires', () => {
    const spki = leafKeys.publicKey.export({ type: 'spki', format: 'der' });
    const tbs = encodeTbsCertificate({
      serial: Buffer.from([0x45, 1, 2, 3, 4, 5, 6, 7, 8]),
      signatureAlgorithm: 'RSA-SHA256',
      issuer: encodeName([{ CN: 'x' }]),
      notBefore: new Date('2049-12-31T23:59:59Z'),
      notAfter: new Date('2050-01-01T00:00:00Z'),
      subject: encodeName([{ CN: 'y' }]),
      subjectPublicKeyInfo: spki,
      extensions: [],
    });
    const hex = tbs.toString('hex');
    expect(hex).toContain(Buffer.from('491231235959Z').toString('hex'));
    expect(hex).toContain(`180f${Buffer.from('20500101000000Z').toString('hex')}`);
  });

  it('self-signed CA and cross-certificates parse in node:crypto and OpenSSL terms', async () => {
    const signer = softSigner(caKeys.privateKey, caKeys.publicKey, 'RSA-SHA256');
    const subject = encodeName([{ C: 'JP' }, { O: 'JPKI' }, { CN: 'root' }]);
    const v = caValidity(new Date('2026-04-01T01:00:00Z'), 10);
    expect(v.notBefore.toISOString()).toBe('2026-03-31T15:00:00.000Z');
    expect(v.notAfter.toISOString()).toBe('2036-03-31T14:59:59.000Z');
    const root = new X509Certificate(await signCertificate(selfSignedCaTbs({ serial: Buffer.from('41'.repeat(16), 'hex'), signatureAlgorithm: 'RSA-SHA256', subject, subjectPublicKeyInfo: signer.publicKey, ...v }), signer));
    expect(root.ca).toBe(true);
    expect(root.verify(caKeys.publicKey)).toBe(true);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const cross = new X509Certificate(
      await signCertificate(
        crossCertificateTbs({
          serial: Buffer.from('42'.repeat(16), 'hex'),
          signatureAlgorithm: 'RSA-SHA256',
          issuer: { subject, keyId: keyIdentifierOf(signer.publicKey) },
          subject: encodeName([{ CN: 'other' }]),
          subjectPublicKeyInfo: other.publicKey.export({ type: 'spki', format: 'der' }),
          ...v,
          policies: ['2.999.1'],
          mappings: [{ issuerDomainPolicy: '2.999.1', subjectDomainPolicy: '2.999.2' }],
          pointers: { crlDistributionPoints: ['http://x/arl.crl'] },
        }),
        signer,
      ),
    );
    expect(cross.ca).toBe(true);
    expect(cross.checkIssued(root)).toBe(true);
    expect(cross.verify(caKeys.publicKey)).toBe(true);
    const lib = new x509.X509Certificate(cross.raw);
    expect(lib.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(true);
    expect(lib.getExtension('2.5.29.33')?.critical).toBe(true);
  });
});

describe('resident validity (3 years, ends 23:59:59 JST)', () => {
  it.each([
    ['2004-04-01T00:30:00+09:00', '2007-03-31T14:59:59.000Z'],
    ['2026-11-27T08:00:00Z', '2029-11-26T14:59:59.000Z'],
    ['2026-11-27T16:00:00Z', '2029-11-27T14:59:59.000Z'], // already 28 Nov in Japan
    ['2024-02-29T03:00:00Z', '2027-02-28T14:59:59.000Z'],
    ['2025-03-01T03:00:00Z', '2028-02-29T14:59:59.000Z'],
  ])('issued %s → notAfter %s', (issued, end) => {
    expect(residentValidity(new Date(issued)).notAfter.toISOString()).toBe(end);
  });
});

describe('resident certificates of one issuer (the issuer\u2019s extensions are encoded once)', () => {
  const caSpki = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' });
  const otherSpki = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' });
  const leafSpki = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' });
  const issuer = { subject: encodeName([{ C: 'JP' }, { CN: '東京都知事' }]), keyId: keyIdentifierOf(caSpki), altName: encodeName([{ C: 'JP' }, { OU: '東京都知事' }]) };
  const partition = (code: string) => ({
    crlDistributionPoints: [`http://127.0.0.1:8080/crl/pref-13/${code}.crl`],
    freshestCrl: [`http://127.0.0.1:8080/crl/pref-13/${code}-delta.crl`],
    ocsp: ['http://127.0.0.1:8080/ocsp'],
    caIssuers: ['http://127.0.0.1:8080/ca/pref-13.cer'],
  });
  const tbs = (i: typeof issuer, pointers: ReturnType<typeof partition>) =>
    residentCertificateTbs({
      kind: 'auth',
      serial: Buffer.from('4a'.repeat(16), 'hex'),
      signatureAlgorithm: 'RSA-SHA256',
      issuer: i,
      subjectPublicKeyInfo: leafSpki,
      subject: residentSubject('auth', 'X'),
      ...residentValidity(new Date('2026-04-01T01:00:00Z')),
      pointers,
    });
  const copy = (i: typeof issuer) => ({ subject: Buffer.from(i.subject), keyId: Buffer.from(i.keyId), altName: Buffer.from(i.altName) });
  const ext = (der: Buffer, oid: string) => readTbsExtension(der, oid);

  it('each certificate carries its own partition\u2019s pointers, byte for byte as built from fresh inputs', () => {
    for (const code of ['13103', '13101', '13103', '13308', '13101']) {
      const shared = tbs(issuer, partition(code));
      expect(shared.equals(tbs(copy(issuer), partition(code)))).toBe(true);
      expect(ext(shared, '2.5.29.31').toString('latin1')).toContain(`/crl/pref-13/${code}.crl`);
      expect(ext(shared, '2.5.29.46').toString('latin1')).toContain(`/crl/pref-13/${code}-delta.crl`);
    }
  });

  it('a new issuerAltName or a new key identifier is encoded anew', () => {
    const renamed = { ...issuer, altName: encodeName([{ C: 'JP' }, { OU: '大阪府知事' }]) };
    expect(ext(tbs(renamed, partition('13103')), '2.5.29.18').toString('utf8')).toContain('大阪府知事');
    expect(ext(tbs(issuer, partition('13103')), '2.5.29.18').toString('utf8')).toContain('東京都知事');
    const rekeyed = { ...issuer, keyId: keyIdentifierOf(otherSpki) };
    expect(ext(tbs(rekeyed, partition('13103')), '2.5.29.35').subarray(4).equals(keyIdentifierOf(otherSpki))).toBe(true);
    expect(ext(tbs(issuer, partition('13103')), '2.5.29.35').subarray(4).equals(keyIdentifierOf(caSpki))).toBe(true);
  });
});

/** The extnValue of one extension of a TBSCertificate. */
function readTbsExtension(tbs: Buffer, oid: string): Buffer {
  const e = readTbsCertificate(tbs).extensions.find((x) => x.oid === oid);
  if (!e) throw new Error(`no extension ${oid}`);
  return Buffer.from(e.value);
}

describe('lints (lint before sign)', () => {
  const caKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const leaf = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const caSpki = caKey.publicKey.export({ type: 'spki', format: 'der' });
  const ctx = { kind: 'sign' as const, issuerKeyId: keyIdentifierOf(caSpki), issuerNotAfter: new Date('2036-03-31T14:59:59Z') };
  const facts = { name: '公的　一郎', dateOfBirth: '1977-11-07', sex: '1', address: '東京都港区虎ノ門5丁目' };
  const base = {
    kind: 'sign' as const,
    serial: Buffer.from('4a'.repeat(16), 'hex'),
    signatureAlgorithm: 'RSA-SHA256' as const,
    issuer: { subject: encodeName([{ CN: 'ca' }]), keyId: keyIdentifierOf(caSpki) },
    subjectPublicKeyInfo: leaf.publicKey.export({ type: 'spki', format: 'der' }),
    subject: residentSubject('sign', 'X', ['Tokyo-to']),
    facts,
    ...residentValidity(new Date('2026-04-01T01:00:00Z')),
    pointers: { crlDistributionPoints: ['http://x/crl'] },
  };

  it('passes a certificate built by the profile', () => {
    expect(lintCertificate(residentCertificateTbs(base), ctx)).toEqual([]);
  });

  it.each<[string, Partial<typeof base>, object]>([
    ['serial-is-positive-with-64-random-bits', { serial: Buffer.from([1, 2, 3]) }, {}],
    ['key-usage-matches-kind', {}, { kind: 'auth' }],
    ['key-identifiers-match', {}, { issuerKeyId: Buffer.alloc(20) }],
    ['validity-fits-profile', { notAfter: new Date('2029-03-31T10:00:00Z') }, {}],
    ['validity-fits-profile', {}, { issuerNotAfter: new Date('2027-01-01T00:00:00Z') }],
    ['public-key-is-strong', { subjectPublicKeyInfo: small.publicKey.export({ type: 'spki', format: 'der' }) }, {}],
  ])('%s catches a bad certificate', (lint, change, ctxChange) => {
    const problems = lintCertificate(residentCertificateTbs({ ...base, ...change }), { ...ctx, ...ctxChange });
    expect(problems.map((p) => p.lint)).toContain(lint);
  });

  it('resident-facts-valid: the register\u2019s rules on the facts as they will be signed (an Osaka address, an unknown municipality, a birth in the future)', () => {
    const tbs = residentCertificateTbs(base);
    const lints = (residentFacts: object) => lintCertificate(tbs, { ...ctx, residentFacts }).filter((p) => p.lint === 'resident-facts-valid');
    expect(lints({ prefecture: '13', today: '2026-04-01', municipality: { code: '13103', entry: { prefecture: '13', name: '港区' } } })).toEqual([]);
    expect(lints({ prefecture: '27' })[0]!.message).toMatch(/address: .* is not in 大阪府/);
    expect(lints({ prefecture: '13', municipality: { code: '99999', entry: undefined } })[0]!.message).toMatch(/municipality: no municipality with code "99999"/);
    expect(lints({ prefecture: '13', municipality: { code: '27128', entry: { prefecture: '27', name: '大阪市中央区' } } })[0]!.message).toMatch(/27128 is in 大阪府, not in 東京都/);
    expect(lints({ today: '1970-01-01' })[0]!.message).toMatch(/dateOfBirth: 1977-11-07 is in the future/);
  });

  it('resident-facts-match-kind catches facts in an auth certificate context', () => {
    const tbs = residentCertificateTbs(base);
    expect(lintCertificate(tbs, { ...ctx, kind: 'auth' }).map((p) => p.lint)).toContain('resident-facts-match-kind');
  });

  it('splitSigned finds the TBS again', async () => {
    const signer = softSigner(caKey.privateKey, caKey.publicKey, 'RSA-SHA256');
    const tbs = residentCertificateTbs(base);
    const der = await signCertificate(tbs, signer);
    expect(Buffer.from(splitSigned(der).tbs).equals(tbs)).toBe(true);
  });
});
