/**
 * The streaming CRL encoder against @peculiar/x509's X509CrlGenerator (byte for byte: RSA PKCS#1 v1.5 is
 * deterministic) and against OpenSSL: `openssl crl` verifies the signature and prints the fields,
 * `openssl verify -crl_check` finds a revoked leaf, `-use_deltas` takes a delta CRL with its base.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto, KeyObject, sign as nodeSign } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { encodeCrl, type CrlEntryColumns, type CrlEntryInput, type CrlParams } from './crl-encoder.js';
import { scanCrl, verifyCrlSignature, findRevoked } from './crl-scanner.js';
import * as ext from './extensions.js';
import { readSingle, childList, bytesOf, TAG, time } from './der.js';
import { splitSigned } from './signed.js';
import { digestOf, type Signer, type SignatureAlgorithm } from './signer.js';
import { isPkiError } from './errors.js';

const subtle = webcrypto.subtle;
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
const ECDSA = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const CRL_URI = 'http://crl.jpki.example/sign/13101.crl';
/** The fixed clock of these tests; OpenSSL is told the same time with -attime. */
const NOW = new Date('2026-06-01T00:00:00Z');
const THIS_UPDATE = new Date('2026-05-31T23:00:00Z');
const NEXT_UPDATE = new Date('2026-06-02T23:00:00Z');

const toPem = (der: Uint8Array, label: string) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;

/** A Signer over a node:crypto private key (what kms/ hands pki/). */
function softSigner(privateKey: KeyObject, publicKey: Uint8Array, algorithm: SignatureAlgorithm): Signer {
  return { algorithm, publicKey, sign: async (data) => nodeSign(digestOf(algorithm), data, privateKey) };
}

/** The subject Name bytes of a certificate, exactly as encoded in it. */
function subjectOf(certDer: Uint8Array): Uint8Array {
  const tbs = childList(certDer, readSingle(certDer))[0]!;
  const fields = childList(certDer, tbs);
  const i = fields[0]!.tag === 0xa0 ? 1 : 0;
  return bytesOf(certDer, fields[i + 4]!);
}

interface Ca {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  spki: Uint8Array;
  subject: Uint8Array;
  signer: Signer;
}

async function makeCa(alg: typeof RSA | typeof ECDSA, name: string): Promise<Ca> {
  const keys = (await subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const spki = new Uint8Array(await subtle.exportKey('spki', keys.publicKey));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name,
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2036-01-01T00:00:00Z'),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const algorithm: SignatureAlgorithm = alg.name === 'ECDSA' ? 'ECDSA-SHA256' : 'RSA-SHA256';
  const signer = softSigner(KeyObject.from(keys.privateKey), spki, algorithm);
  return { cert, keys, spki, subject: subjectOf(new Uint8Array(cert.rawData)), signer };
}

let dir: string;
let ca: Ca;
let leafKeys: CryptoKeyPair;

async function makeLeaf(serial: string, withCrlDp = true): Promise<string> {
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: `CN=leaf ${serial}, O=JPKI, C=JP`,
    issuer: ca.cert.subject,
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2031-01-01T00:00:00Z'),
    publicKey: leafKeys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: RSA,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
      ...(withCrlDp ? [new x509.CRLDistributionPointsExtension([CRL_URI])] : []),
    ],
  });
  const path = join(dir, `leaf-${serial}.pem`);
  writeFileSync(path, cert.toString('pem'));
  return path;
}

function openssl(args: string[]): { code: number; out: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function writeCrl(name: string, der: Uint8Array): { der: string; pem: string } {
  const d = join(dir, `${name}.der`);
  const p = join(dir, `${name}.pem`);
  writeFileSync(d, der);
  writeFileSync(p, toPem(der, 'X509 CRL'));
  return { der: d, pem: p };
}

function baseParams(over: Partial<CrlParams> = {}): CrlParams {
  return {
    issuer: ca.subject,
    signer: ca.signer,
    thisUpdate: THIS_UPDATE,
    nextUpdate: NEXT_UPDATE,
    extensions: [ext.authorityKeyIdentifier(ext.keyIdentifierOf(ca.spki)), ext.crlNumber(7n)],
    entries: [],
    ...over,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jpki-crl-enc-'));
  ca = await makeCa(RSA, 'C=JP, O=JPKI, OU=JPKI for digital signature');
  writeFileSync(join(dir, 'ca.pem'), ca.cert.toString('pem'));
  leafKeys = (await subtle.generateKey(ECDSA, true, ['sign', 'verify'])) as CryptoKeyPair;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SAMPLE: CrlEntryInput[] = [
  { serial: '0a', revocationDate: new Date('2026-04-01T03:00:00Z'), reason: ext.CRL_REASON.keyCompromise },
  { serial: 'ff01', revocationDate: new Date('2026-04-02T03:00:00.789Z'), reason: ext.CRL_REASON.superseded },
  { serial: '0000a1b2c3', revocationDate: new Date('2026-04-03T03:00:00Z') },
  { serial: '7f' + 'ee'.repeat(19), revocationDate: new Date('2026-04-04T03:00:00Z'), reason: ext.CRL_REASON.certificateHold },
  {
    serial: 'ABCDEF',
    revocationDate: new Date('2026-04-05T03:00:00Z'),
    reason: ext.CRL_REASON.affiliationChanged,
    invalidityDate: new Date('2026-03-30T00:00:00Z'),
  },
  { serial: '1234', revocationDate: new Date('2026-04-06T03:00:00Z'), invalidityDate: new Date('2026-04-06T00:00:00Z') },
  { serial: '2050', revocationDate: new Date('2050-01-01T00:00:00Z'), reason: ext.CRL_REASON.cessationOfOperation },
];

/** X509CrlGenerator writes an empty crlEntryExtensions for entries without extensions (below), so compare these. */
const WITH_EXTENSIONS = SAMPLE.filter((e) => e.reason || e.invalidityDate);

/** The same CRL through @peculiar/x509. */
async function x509Crl(entries: readonly CrlEntryInput[], extensions: Uint8Array[], signingKey = ca.keys.privateKey, alg: object = RSA): Promise<x509.X509Crl> {
  return x509.X509CrlGenerator.create({
    issuer: ca.cert.subjectName,
    thisUpdate: THIS_UPDATE,
    nextUpdate: NEXT_UPDATE,
    signingKey,
    signingAlgorithm: alg as Algorithm,
    extensions: extensions.map((e) => new x509.Extension(new Uint8Array(e))),
    entries: entries.map((e) => ({
      serialNumber: typeof e.serial === 'string' ? e.serial : Buffer.from(e.serial).toString('hex'),
      revocationDate: e.revocationDate,
      ...(e.reason !== undefined ? { reason: e.reason } : {}),
      ...(e.invalidityDate ? { invalidity: e.invalidityDate } : {}),
    })),
  });
}

describe('encodeCrl against @peculiar/x509', () => {
  it('writes the issuer bytes of the CA certificate as @peculiar/x509 does', () => {
    expect(Buffer.from(ca.subject).equals(Buffer.from(ca.cert.subjectName.toArrayBuffer()))).toBe(true);
  });

  it('is byte-for-byte identical to X509CrlGenerator for the same RSA key and fields', async () => {
    const extensions = [ext.authorityKeyIdentifier(ext.keyIdentifierOf(ca.spki)), ext.crlNumber(7n), ext.issuingDistributionPoint({ fullNameUris: [CRL_URI], onlyContainsUserCerts: true })];
    const mine = await encodeCrl(baseParams({ extensions, entries: WITH_EXTENSIONS }));
    const theirs = await x509Crl(WITH_EXTENSIONS, extensions);
    expect(mine.toString('hex')).toBe(Buffer.from(theirs.rawData).toString('hex'));
  });

  it('omits crlEntryExtensions for an entry without any, where X509CrlGenerator writes an empty SEQUENCE (SIZE (1..MAX) forbids it)', async () => {
    const entries = [{ serial: '0000a1b2c3', revocationDate: new Date('2026-04-03T03:00:00Z') }];
    const mine = await encodeCrl(baseParams({ entries }));
    const theirs = new Uint8Array((await x509Crl(entries, baseParams().extensions)).rawData);
    const entryOf = (der: Uint8Array) => Buffer.from(der.subarray(scanCrl(der).revoked.start, scanCrl(der).revoked.end)).toString('hex');
    expect(entryOf(mine)).toBe('3015020400a1b2c3170d3236303430333033303030305a');
    expect(entryOf(theirs)).toBe('3017020400a1b2c3170d3236303430333033303030305a3000');
    expect([...scanCrl(theirs).entries()]).toEqual([...scanCrl(mine).entries()]);
  });

  it('takes serials as bytes too', async () => {
    const entries = WITH_EXTENSIONS.map((e) => ({ ...e, serial: Buffer.from(e.serial as string, 'hex') }));
    const mine = await encodeCrl(baseParams({ entries }));
    const theirs = await x509Crl(WITH_EXTENSIONS, baseParams().extensions);
    expect(mine.toString('hex')).toBe(Buffer.from(theirs.rawData).toString('hex'));
  });

  it('omits an empty revokedCertificates, as X509CrlGenerator does', async () => {
    const mine = await encodeCrl(baseParams());
    const theirs = await x509Crl([], baseParams().extensions);
    expect(mine.toString('hex')).toBe(Buffer.from(theirs.rawData).toString('hex'));
    const { tbs } = splitSigned(mine);
    const fields = childList(tbs, readSingle(tbs));
    expect(fields.map((f) => f.tag)).toEqual([TAG.INTEGER, TAG.SEQUENCE, TAG.SEQUENCE, TAG.UTC_TIME, TAG.UTC_TIME, 0xa0]);
  });

  it('omits crlExtensions when there are none', async () => {
    const mine = await encodeCrl(baseParams({ extensions: [], entries: WITH_EXTENSIONS.slice(0, 2) }));
    const theirs = await x509Crl(WITH_EXTENSIONS.slice(0, 2), []);
    expect(mine.toString('hex')).toBe(Buffer.from(theirs.rawData).toString('hex'));
  });

  it('signs with ECDSA: the same TBS as X509CrlGenerator, and both verify', async () => {
    const ecCa = await makeCa(ECDSA, 'C=JP, O=JPKI, OU=EC test');
    const params = baseParams({ issuer: ecCa.subject, signer: ecCa.signer, entries: WITH_EXTENSIONS, extensions: [ext.crlNumber(1n)] });
    const mine = await encodeCrl(params);
    const theirs = await x509.X509CrlGenerator.create({
      issuer: ecCa.cert.subjectName,
      thisUpdate: THIS_UPDATE,
      nextUpdate: NEXT_UPDATE,
      signingKey: ecCa.keys.privateKey,
      signingAlgorithm: ECDSA,
      extensions: [new x509.Extension(new Uint8Array(ext.crlNumber(1n)))],
      entries: WITH_EXTENSIONS.map((e) => ({
        serialNumber: e.serial as string,
        revocationDate: e.revocationDate,
        ...(e.reason !== undefined ? { reason: e.reason } : {}),
        ...(e.invalidityDate ? { invalidity: e.invalidityDate } : {}),
      })),
    });
    expect(Buffer.from(splitSigned(mine).tbs).equals(Buffer.from(splitSigned(new Uint8Array(theirs.rawData)).tbs))).toBe(true);
    expect(splitSigned(mine).algorithmOid).toBe('1.2.840.10045.4.3.2');
    const parsed = new x509.X509Crl(new Uint8Array(mine));
    expect(await parsed.verify({ publicKey: ecCa.keys.publicKey })).toBe(true);
    expect(verifyCrlSignature(mine, ecCa.spki)).toBe(true);
    expect(verifyCrlSignature(new Uint8Array(theirs.rawData), ecCa.spki)).toBe(true);
  });
});

describe('encodeCrl against OpenSSL', () => {
  it('`openssl crl -CAfile` verifies it and prints the fields, reasons and invalidity dates', async () => {
    const extensions = [
      ext.authorityKeyIdentifier(ext.keyIdentifierOf(ca.spki)),
      ext.crlNumber(7n),
      ext.issuingDistributionPoint({ fullNameUris: [CRL_URI], onlyContainsUserCerts: true }),
    ];
    const files = writeCrl('sample', await encodeCrl(baseParams({ extensions, entries: SAMPLE })));
    const check = openssl(['crl', '-inform', 'DER', '-in', files.der, '-CAfile', join(dir, 'ca.pem'), '-noout']);
    expect(check.out).toMatch(/verify OK/);
    expect(check.code).toBe(0);
    const text = execFileSync('openssl', ['crl', '-inform', 'DER', '-in', files.der, '-noout', '-text']).toString();
    expect(text).toContain('Version 2 (0x1)');
    expect(text).toContain('Issuer: C = JP, O = JPKI, OU = JPKI for digital signature');
    expect(text).toContain('Last Update: May 31 23:00:00 2026 GMT');
    expect(text).toContain('Next Update: Jun  2 23:00:00 2026 GMT');
    expect(text).toMatch(/X509v3 CRL Number:\s+7/);
    expect(text).toMatch(/X509v3 Issuing Distribution Point: critical\s+Full Name:\s+URI:http:\/\/crl\.jpki\.example\/sign\/13101\.crl\s+Only User Certificates/);
    expect(text).toMatch(/Serial Number: 0A\s+Revocation Date: Apr  1 03:00:00 2026 GMT\s+CRL entry extensions:\s+X509v3 CRL Reason Code:\s+Key Compromise/);
    expect(text).toMatch(/Serial Number: FF01\s+Revocation Date: Apr  2 03:00:00 2026 GMT\s+CRL entry extensions:\s+X509v3 CRL Reason Code:\s+Superseded/);
    expect(text).toMatch(/Serial Number: A1B2C3\s+Revocation Date: Apr  3 03:00:00 2026 GMT\s+Serial Number/);
    expect(text).toMatch(/X509v3 CRL Reason Code:\s+Certificate Hold/);
    expect(text).toMatch(/Serial Number: ABCDEF[\s\S]*?Affiliation Changed\s+Invalidity Date:\s+Mar 30 00:00:00 2026 GMT/);
    expect(text).toMatch(/Serial Number: 2050\s+Revocation Date: Jan  1 00:00:00 2050 GMT[\s\S]*?Cessation Of Operation/);
  });

  it('`openssl verify -crl_check` reports the revoked leaf as revoked and accepts the others', async () => {
    const revoked = await makeLeaf('a1b2c3');
    const good = await makeLeaf('0102');
    const extensions = [ext.authorityKeyIdentifier(ext.keyIdentifierOf(ca.spki)), ext.crlNumber(8n), ext.issuingDistributionPoint({ fullNameUris: [CRL_URI] })];
    const files = writeCrl('verify', await encodeCrl(baseParams({ extensions, entries: SAMPLE })));
    const args = ['verify', '-attime', String(NOW.getTime() / 1000), '-crl_check', '-CAfile', join(dir, 'ca.pem'), '-CRLfile', files.pem];
    const r1 = openssl([...args, revoked]);
    expect(r1.out).toMatch(/certificate revoked/);
    expect(r1.code).not.toBe(0);
    const r2 = openssl([...args, good]);
    expect(r2.out).toMatch(/: OK/);
    expect(r2.code).toBe(0);
  });

  it('a delta CRL with deltaCRLIndicator and IDP is accepted by `openssl verify -use_deltas` with its base', async () => {
    const inDelta = await makeLeaf('0f0e');
    const inBase = await makeLeaf('a1b2c3');
    const idp = ext.issuingDistributionPoint({ fullNameUris: [CRL_URI], onlyContainsUserCerts: true });
    const aki = ext.authorityKeyIdentifier(ext.keyIdentifierOf(ca.spki));
    const base = await encodeCrl(baseParams({ extensions: [aki, ext.crlNumber(10n), idp, ext.freshestCrl(['http://crl.jpki.example/sign/13101-delta.crl'])], entries: SAMPLE }));
    const delta = await encodeCrl(
      baseParams({
        thisUpdate: new Date('2026-05-31T23:30:00Z'),
        extensions: [aki, ext.crlNumber(11n), ext.deltaCrlIndicator(10n), idp],
        entries: [
          { serial: '0f0e', revocationDate: new Date('2026-05-31T23:10:00Z'), reason: ext.CRL_REASON.keyCompromise },
          { serial: '0a', revocationDate: new Date('2026-05-31T23:10:00Z'), reason: ext.CRL_REASON.removeFromCRL },
        ],
      }),
    );
    const info = scanCrl(delta);
    expect(info.deltaCrlIndicator).toBe(10n);
    expect(info.crlNumber).toBe(11n);
    const both = join(dir, 'base+delta.pem');
    writeFileSync(both, toPem(base, 'X509 CRL') + toPem(delta, 'X509 CRL'));
    const dText = execFileSync('openssl', ['crl', '-inform', 'DER', '-noout', '-text'], { input: delta }).toString();
    expect(dText).toMatch(/X509v3 Delta CRL Indicator: critical\s+10/);
    expect(dText).toMatch(/Remove From CRL/);
    // -extended_crl: without it OpenSSL may take the delta itself for the complete CRL (get_crl_score only
    // skips CRLs with a deltaCRLIndicator under extended CRL support)
    const args = ['verify', '-attime', String(NOW.getTime() / 1000), '-crl_check', '-extended_crl', '-CAfile', join(dir, 'ca.pem'), '-CRLfile', both];
    // without deltas the certificate is only on the delta CRL, so the base alone says OK …
    const plain = openssl([...args, inDelta]);
    expect(plain.out).toMatch(/: OK/);
    // … with deltas OpenSSL applies the delta on top of its base and finds it revoked
    const r = openssl([...args, '-use_deltas', inDelta]);
    expect(r.out).toMatch(/certificate revoked/);
    expect(r.code).not.toBe(0);
    expect(openssl([...args, '-use_deltas', inBase]).out).toMatch(/certificate revoked/);
  });
});

describe('encodeCrl streaming', () => {
  it('encodes 100k entries from an async iterator; the scanner reads them all back', async () => {
    const N = 100_000;
    const t0 = Date.UTC(2026, 0, 1);
    async function* source(): AsyncGenerator<CrlEntryInput> {
      for (let i = 0; i < N; i++) {
        yield {
          serial: (0x4a000000 + i * 7).toString(16),
          revocationDate: new Date(t0 + i * 1000),
          ...(i % 11 === 0 ? {} : { reason: [1, 2, 3, 4, 5, 6][i % 6]! }),
          ...(i % 1000 === 0 ? { invalidityDate: new Date(t0 + i * 1000 - 86_400_000) } : {}),
        };
      }
    }
    const der = await encodeCrl(baseParams({ entries: source() }));
    const info = scanCrl(der);
    expect(info.entryCount).toBe(N);
    expect(info.crlNumber).toBe(7n);
    expect(verifyCrlSignature(der, ca.spki)).toBe(true);
    let i = 0;
    for (const e of info.entries()) {
      if (i % 9973 === 0 || i === N - 1) {
        expect(e.serialHex).toBe((0x4a000000 + i * 7).toString(16));
        expect(e.revocationDate.getTime()).toBe(t0 + i * 1000);
        expect(e.reason).toBe(i % 11 === 0 ? undefined : [1, 2, 3, 4, 5, 6][i % 6]);
        expect(e.invalidityDate?.getTime()).toBe(i % 1000 === 0 ? t0 + i * 1000 - 86_400_000 : undefined);
      }
      i++;
    }
    expect(i).toBe(N);
    expect(findRevoked(info, (0x4a000000 + 77_777 * 7).toString(16))?.revocationDate.getTime()).toBe(t0 + 77_777_000);
    expect(findRevoked(info, '4a000001')).toBeUndefined();
  });

  it('writes the same bytes in place when told about how many entries come, whether the guess is right, low or high', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const entries = (n: number): CrlEntryInput[] =>
      Array.from({ length: n }, (_, i) => ({ serial: (0x5b000000 + i).toString(16), revocationDate: new Date(t0 + i * 1000), ...(i % 3 ? { reason: 1 } : {}) }));
    for (const n of [0, 5000, 30_000]) {
      const reference = await encodeCrl(baseParams({ entries: entries(n) }));
      for (const expectedEntries of [n, 2000, 100_000, 0]) {
        const inPlace = await encodeCrl(baseParams({ entries: entries(n), expectedEntries }));
        expect(inPlace.equals(reference), `${n} entries, ${expectedEntries} expected`).toBe(true);
      }
      expect(verifyCrlSignature(reference, ca.spki)).toBe(true);
      expect(scanCrl(reference).entryCount).toBe(n);
    }
  });

  it('takes a generator lazily and reports the bad entry by index', async () => {
    let pulled = 0;
    function* source(): Generator<CrlEntryInput> {
      for (let i = 0; i < 10; i++) {
        pulled++;
        yield { serial: i === 5 ? 'xyz' : (i + 1).toString(16), revocationDate: THIS_UPDATE };
      }
    }
    await expect(encodeCrl(baseParams({ entries: source() }))).rejects.toThrow(/entry 5: serial "xyz" is not hex/);
    expect(pulled).toBe(6);
  });
});

describe('encodeCrl decisions and refusals', () => {
  async function entriesOf(entries: CrlEntryInput[], extensions = baseParams().extensions) {
    return [...scanCrl(await encodeCrl(baseParams({ entries, extensions }))).entries()];
  }

  it('writes reason 0 (unspecified) as no reasonCode extension', async () => {
    const [e] = await entriesOf([{ serial: '01', revocationDate: THIS_UPDATE, reason: ext.CRL_REASON.unspecified }]);
    expect(e).toEqual({ serialHex: '01', revocationDate: THIS_UPDATE });
    const plain = await encodeCrl(baseParams({ entries: [{ serial: '01', revocationDate: THIS_UPDATE }] }));
    const zero = await encodeCrl(baseParams({ entries: [{ serial: '01', revocationDate: THIS_UPDATE, reason: 0 }] }));
    expect(zero.equals(plain)).toBe(true);
  });

  it('allows removeFromCRL only in a delta CRL', async () => {
    const entry = { serial: '01', revocationDate: THIS_UPDATE, reason: ext.CRL_REASON.removeFromCRL };
    await expect(encodeCrl(baseParams({ entries: [entry] }))).rejects.toThrow(/removeFromCRL \(8\) may only appear in a delta CRL/);
    const [e] = await entriesOf([entry], [ext.crlNumber(2n), ext.deltaCrlIndicator(1n)]);
    expect(e?.reason).toBe(8);
  });

  it.each([
    [{ serial: '', revocationDate: THIS_UPDATE }, /not 1–128 hex digits/],
    [{ serial: '00', revocationDate: THIS_UPDATE }, /serial number 0 is not a positive integer/],
    [{ serial: new Uint8Array(0), revocationDate: THIS_UPDATE }, /serial number 0/],
    [{ serial: '80' + '00'.repeat(19), revocationDate: THIS_UPDATE }, /21 octets; RFC 5280 §4.1.2.2 allows at most 20/],
    [{ serial: 'g1', revocationDate: THIS_UPDATE }, /not hex/],
    [{ serial: 12 as unknown as string, revocationDate: THIS_UPDATE }, /hex text or bytes/],
    [{ serial: '01', revocationDate: new Date(NaN) }, /revocationDate is not a valid Date/],
    [{ serial: '01', revocationDate: '2026-01-01' as unknown as Date }, /revocationDate is not a Date/],
    [{ serial: '01', revocationDate: new Date('1949-12-31T00:00:00Z') }, /outside 1950–9999/],
    [{ serial: '01', revocationDate: THIS_UPDATE, reason: 7 }, /7 is not a CRLReason code/],
    [{ serial: '01', revocationDate: THIS_UPDATE, reason: 11 }, /11 is not a CRLReason code/],
    [{ serial: '01', revocationDate: THIS_UPDATE, invalidityDate: new Date(NaN) }, /invalidityDate is not a valid Date/],
  ] as [CrlEntryInput, RegExp][])('refuses entry %j', async (entry, message) => {
    const p = encodeCrl(baseParams({ entries: [entry] }));
    await expect(p).rejects.toThrow(message);
    await p.catch((e) => expect(isPkiError(e, 'CRL_INPUT_INVALID')).toBe(true));
  });

  it('refuses bad fixed fields before reading any entry', async () => {
    const never = {
      [Symbol.iterator]: () => {
        throw new Error('entries read');
      },
    } as Iterable<CrlEntryInput>;
    const cases: [Partial<CrlParams>, RegExp][] = [
      [{ issuer: new Uint8Array([4, 0]) }, /issuer must be the DER of a Name/],
      [{ issuer: new Uint8Array([0x30, 5]) }, /issuer must be the DER of a Name/],
      [{ nextUpdate: THIS_UPDATE }, /nextUpdate must be later than thisUpdate/],
      [{ thisUpdate: new Date(NaN) }, /thisUpdate is not a valid Date/],
      [{ extensions: [new Uint8Array([0x30, 0])] }, /CRL extension 0 is not one DER Extension/],
      [{ extensions: [ext.crlNumber(1n), ext.crlNumber(2n)] }, /2\.5\.29\.20 is given twice/],
    ];
    for (const [over, message] of cases) await expect(encodeCrl(baseParams({ ...over, entries: never }))).rejects.toThrow(message);
  });
});

/** Entries (without invalidity dates) as one batch of columns, with `spare` unused slots at the end of each array. */
function columnsOf(entries: readonly CrlEntryInput[], spare = 0): CrlEntryColumns {
  const bytes = entries.map((e) => (typeof e.serial === 'string' ? Buffer.from(e.serial.length % 2 ? `0${e.serial}` : e.serial, 'hex') : Buffer.from(e.serial)));
  const serials = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0) + spare * 20);
  const serialEnds = new Uint32Array(entries.length + spare);
  let o = 0;
  bytes.forEach((b, i) => {
    serials.set(b, o);
    serialEnds[i] = o += b.length;
  });
  return {
    count: entries.length,
    serials,
    serialEnds,
    revocationTimes: Float64Array.from([...entries.map((e) => e.revocationDate.getTime()), ...Array<number>(spare).fill(NaN)]),
    reasons: Uint8Array.from([...entries.map((e) => e.reason ?? 0), ...Array<number>(spare).fill(7)]),
  };
}

describe('encodeCrl from entry columns (a store\'s pages, no object per entry)', () => {
  const ENTRIES: CrlEntryInput[] = [
    ...SAMPLE.filter((e) => !e.invalidityDate),
    { serial: '00ff', revocationDate: new Date('2026-04-07T23:59:59.999Z') }, // a leading zero byte, a high bit
    { serial: 'abc', revocationDate: new Date('2049-12-31T23:59:59Z'), reason: ext.CRL_REASON.keyCompromise }, // odd digits; the last UTCTime
    { serial: '80', revocationDate: new Date('1969-12-31T23:59:59.500Z'), reason: ext.CRL_REASON.cACompromise }, // before the epoch
    { serial: '01', revocationDate: new Date('1950-01-01T00:00:00Z'), reason: ext.CRL_REASON.privilegeWithdrawn },
    { serial: '02', revocationDate: new Date('9999-12-31T23:59:59Z'), reason: ext.CRL_REASON.aACompromise },
  ];

  it('writes the same bytes as from single entries, and as X509CrlGenerator', async () => {
    const single = await encodeCrl(baseParams({ entries: ENTRIES }));
    const columns = await encodeCrl(baseParams({ entries: undefined, entryColumns: [columnsOf(ENTRIES, 3)] }));
    expect(columns.toString('hex')).toBe(single.toString('hex'));
    const withReasons = ENTRIES.filter((e) => e.reason);
    const theirs = await x509Crl(withReasons, baseParams().extensions);
    expect((await encodeCrl(baseParams({ entries: undefined, entryColumns: [columnsOf(withReasons)] }))).toString('hex')).toBe(Buffer.from(theirs.rawData).toString('hex'));
  });

  it('writes each revocation time as der.ts and the scanner read it, whatever the day, year and milliseconds', async () => {
    const times: number[] = [];
    for (let i = 0; i < 2000; i++) times.push(Math.floor(Math.random() * (Date.UTC(2100, 0, 1) - Date.UTC(1950, 0, 1))) + Date.UTC(1950, 0, 1));
    // runs of one day (the writer keeps the day's digits), day and year boundaries
    for (let i = 0; i < 200; i++) times.push(Date.UTC(2026, 5, 1) + i * 431_999);
    times.push(Date.UTC(2049, 11, 31, 23, 59, 59, 999), Date.UTC(2050, 0, 1), Date.UTC(1970, 0, 1) - 1, Date.UTC(1970, 0, 1), Date.UTC(2024, 1, 29, 12));
    const entries = times.map((t, i) => ({ serial: (i + 1).toString(16), revocationDate: new Date(t) }));
    const der = await encodeCrl(baseParams({ entries: undefined, entryColumns: [columnsOf(entries)] }));
    const info = scanCrl(der);
    let i = 0;
    for (const e of info.entries()) {
      const whole = new Date(Math.floor(times[i]! / 1000) * 1000);
      expect(e.revocationDate.getTime(), new Date(times[i]!).toISOString()).toBe(whole.getTime());
      i++;
    }
    expect(i).toBe(times.length);
    // and the bytes of each time are der.ts's
    const start = info.revoked.start;
    const first = der.subarray(start, start + 2 + der[start + 1]!);
    const serialLen = first[3]!;
    expect(Buffer.from(first.subarray(4 + serialLen)).toString('hex')).toBe(time(new Date(times[0]!)).toString('hex'));
  });

  it('takes batches whose arrays are refilled for the next one (longer than their count), in place or not', async () => {
    const n = 30_000;
    const all: CrlEntryInput[] = Array.from({ length: n }, (_, i) => ({
      serial: (0x7f00_0000_0000n + BigInt(i) * 977n).toString(16),
      revocationDate: new Date(Date.UTC(2026, 0, 1) + i * 61_000),
      ...(i % 4 ? { reason: [1, 3, 4][i % 3] } : {}),
    }));
    const reference = await encodeCrl(baseParams({ entries: all }));
    const batch: CrlEntryColumns = columnsOf(all.slice(0, 1000), 500);
    async function* pages(): AsyncGenerator<CrlEntryColumns> {
      for (let from = 0; from < n; from += 1000) {
        const next = columnsOf(all.slice(from, from + 1000));
        batch.serials.fill(0xee).set(next.serials);
        batch.serialEnds.fill(0).set(next.serialEnds);
        batch.revocationTimes.fill(NaN).set(next.revocationTimes);
        batch.reasons.fill(7).set(next.reasons);
        batch.count = next.count;
        yield batch;
      }
    }
    for (const expectedEntries of [undefined, n, 1000]) {
      const der = await encodeCrl(baseParams({ entries: undefined, entryColumns: pages(), ...(expectedEntries === undefined ? {} : { expectedEntries }) }));
      expect(der.equals(reference), `expected ${expectedEntries}`).toBe(true);
    }
  });

  it('allows removeFromCRL only in a delta CRL', async () => {
    const entry = { serial: '01', revocationDate: THIS_UPDATE, reason: ext.CRL_REASON.removeFromCRL };
    await expect(encodeCrl(baseParams({ entries: undefined, entryColumns: [columnsOf([entry])] }))).rejects.toThrow(/entry 0: removeFromCRL \(8\) may only appear in a delta CRL/);
    const delta = await encodeCrl(baseParams({ entries: undefined, entryColumns: [columnsOf([entry])], extensions: [ext.crlNumber(2n), ext.deltaCrlIndicator(1n)] }));
    expect([...scanCrl(delta).entries()][0]?.reason).toBe(8);
  });

  it.each([
    [{ serial: '00', revocationDate: THIS_UPDATE }, /entry 1: serial number 0 is not a positive integer/],
    [{ serial: new Uint8Array(0), revocationDate: THIS_UPDATE }, /entry 1: serial number 0/],
    [{ serial: '80' + '00'.repeat(19), revocationDate: THIS_UPDATE }, /entry 1: serial number is 21 octets/],
    [{ serial: '01', revocationDate: new Date(NaN) }, /entry 1: revocationDate is not a valid Date/],
    [{ serial: '01', revocationDate: new Date(8.64e15 + 86_400_000) }, /entry 1: revocationDate is not a valid Date/],
    [{ serial: '01', revocationDate: new Date('1949-12-31T23:59:59Z') }, /entry 1: revocationDate year 1949 is outside 1950–9999/],
    [{ serial: '01', revocationDate: THIS_UPDATE, reason: 7 }, /entry 1: 7 is not a CRLReason code/],
    [{ serial: '01', revocationDate: THIS_UPDATE, reason: 200 }, /entry 1: 200 is not a CRLReason code/],
  ] as [CrlEntryInput, RegExp][])('refuses column entry %j', async (entry, message) => {
    const p = encodeCrl(baseParams({ entries: undefined, entryColumns: [columnsOf([{ serial: '05', revocationDate: THIS_UPDATE }, entry])] }));
    await expect(p).rejects.toThrow(message);
    await p.catch((e) => expect(isPkiError(e, 'CRL_INPUT_INVALID')).toBe(true));
  });

  it('refuses batches that do not hold what they say, and entries given both ways or not at all', async () => {
    const good = columnsOf([{ serial: '05', revocationDate: THIS_UPDATE }, { serial: '06', revocationDate: THIS_UPDATE }]);
    const cases: [Partial<CrlParams>, RegExp][] = [
      [{ entryColumns: [{ ...good, count: 3 }] }, /its columns hold fewer than 3 entries/],
      [{ entryColumns: [{ ...good, count: -1 }] }, /count -1 is not a whole number/],
      [{ entryColumns: [{ ...good, serialEnds: Uint32Array.from([1, 9]) }] }, /its columns hold fewer than 2 entries/],
      [{ entryColumns: [{ ...good, serialEnds: Uint32Array.from([1, 0]) }] }, /entry 1: serial of .* bytes is a negative length/],
      [{ entryColumns: [{ ...good, revocationTimes: [0, 0] as unknown as Float64Array }] }, /must be a Uint8Array, Uint32Array, Float64Array and Uint8Array/],
      [{ entryColumns: [null as unknown as CrlEntryColumns] }, /is not an object/],
      [{ entries: [{ serial: '01', revocationDate: THIS_UPDATE }], entryColumns: [good] }, /either one by one \(entries\) or in columns \(entryColumns\)/],
      [{ entries: undefined }, /either one by one \(entries\) or in columns \(entryColumns\)/],
    ];
    for (const [over, message] of cases) {
      const p = encodeCrl(baseParams({ entries: undefined, ...over }));
      await expect(p, String(message)).rejects.toThrow(message);
      await p.catch((e) => expect(isPkiError(e, 'CRL_INPUT_INVALID')).toBe(true));
    }
  });
});
