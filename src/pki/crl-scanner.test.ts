/**
 * The CRL scanner against CRLs from three writers — `openssl ca -gencrl`, @peculiar/x509, our encoder — and
 * against hand-built and damaged DER: every failure is a PkiError CRL_MALFORMED with an offset, never a crash.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicKey, generateKeyPairSync, sign as nodeSign, webcrypto, KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import {
  scanCrl,
  verifyCrlSignature,
  assertCrlSignature,
  findRevoked,
  buildRevocationIndex,
  normalizeSerialHex,
  type CrlEntry,
} from './crl-scanner.js';
import { encodeCrl, type CrlEntryInput } from './crl-encoder.js';
import * as ext from './extensions.js';
import * as der from './der.js';
import { signTbs, algorithmIdentifier } from './signed.js';
import { digestOf, type Signer, type SignatureAlgorithm } from './signer.js';
import { isPkiError, PkiError } from './errors.js';

const THIS_UPDATE = new Date('2026-05-31T23:00:00Z');
const NEXT_UPDATE = new Date('2026-06-02T23:00:00Z');

function softSigner(privateKey: KeyObject, algorithm: SignatureAlgorithm): Signer {
  const publicKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { algorithm, publicKey, sign: async (data) => nodeSign(digestOf(algorithm), data, privateKey) };
}

/** The PkiError a function throws (fails the test when it throws something else or nothing). */
function pkiErrorOf(f: () => unknown): PkiError {
  try {
    f();
  } catch (e) {
    if (e instanceof PkiError) return e;
    throw new Error(`expected a PkiError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected a PkiError, nothing was thrown');
}

const fromPem = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');

let dir: string;
let rsa: { key: KeyObject; signer: Signer; spki: Uint8Array };
let issuer: Buffer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'jpki-crl-scan-'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signer = softSigner(privateKey, 'RSA-SHA256');
  rsa = { key: privateKey, signer, spki: signer.publicKey };
  issuer = der.sequence(der.set(der.sequence(der.oid('2.5.4.6'), der.printableString('JP'))), der.set(der.sequence(der.oid('2.5.4.10'), der.utf8String('JPKI'))));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a CRL from `openssl ca -gencrl`', () => {
  let crl: Buffer;
  let caSpki: Buffer;
  let caSki: string;
  let caSubject: Uint8Array;

  beforeAll(() => {
    const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/C=JP/O=JPKI/OU=JPKI for digital signature', '-days', '3650', '-addext', 'subjectKeyIdentifier=hash']);
    writeFileSync(
      join(dir, 'ca.cnf'),
      [
        '[ca]',
        'default_ca = d',
        '[d]',
        'database = ./index.txt',
        'crlnumber = ./crlnumber',
        'certificate = ./ca.pem',
        'private_key = ./ca.key',
        'default_md = sha256',
        'crl_extensions = crl_ext',
        '[crl_ext]',
        'authorityKeyIdentifier = keyid:always',
        'issuingDistributionPoint = critical, @idp',
        '[idp]',
        'fullname = URI:http://crl.jpki.example/sign.crl',
        'onlyuser = TRUE',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'crlnumber'), '2A\n');
    const row = (status: string, revoked: string, serial: string, cn: string) => `${status}\t310101000000Z\t${revoked}\t${serial}\tunknown\t/CN=${cn}`;
    writeFileSync(
      join(dir, 'index.txt'),
      [
        row('R', '260401030000Z', '0A', 'a'),
        row('R', '260402030000Z,keyCompromise', 'FF01', 'b'),
        row('R', '260403030000Z,keyTime,20260330000000Z', '0ABCDEF0', 'c'),
        row('R', '260404030000Z,certificateHold', '1234', 'd'),
        row('R', '260405030000Z,unspecified', '5678', 'e'),
        row('R', '260406030000Z,superseded', '01', 'f'),
        row('V', '', '02', 'g'),
        row('R', '260407030000Z,CACompromise', '03', 'h'),
        row('R', '260408030000Z,affiliationChanged', '04', 'i'),
        row('R', '260409030000Z,cessationOfOperation', '05', 'j'),
        '',
      ].join('\n'),
    );
    run(['ca', '-config', 'ca.cnf', '-gencrl', '-crl_lastupdate', '20260531230000Z', '-crl_nextupdate', '20260602230000Z', '-out', 'crl.pem', '-batch']);
    crl = fromPem(readFileSync(join(dir, 'crl.pem'), 'utf8'));
    const caDer = fromPem(readFileSync(join(dir, 'ca.pem'), 'utf8'));
    const cert = new x509.X509Certificate(caDer);
    caSpki = Buffer.from(cert.publicKey.rawData);
    caSki = cert.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
    caSubject = new Uint8Array(cert.subjectName.toArrayBuffer());
  });

  it('reads the CRL-level fields', () => {
    const info = scanCrl(crl);
    expect(info.version).toBe(2);
    expect(Buffer.from(info.issuer).equals(Buffer.from(caSubject))).toBe(true);
    expect(info.thisUpdate.toISOString()).toBe('2026-05-31T23:00:00.000Z');
    expect(info.nextUpdate?.toISOString()).toBe('2026-06-02T23:00:00.000Z');
    expect(info.crlNumber).toBe(42n);
    expect(info.deltaCrlIndicator).toBeUndefined();
    expect(Buffer.from(info.authorityKeyId!).toString('hex')).toBe(caSki);
    expect(info.issuingDistributionPoint).toMatchObject({ uris: ['http://crl.jpki.example/sign.crl'], onlyContainsUserCerts: true, onlyContainsCACerts: false, indirectCrl: false });
    expect(info.signatureAlgorithmOid).toBe('1.2.840.113549.1.1.11');
    expect(info.unknownCriticalExtensions).toEqual([]);
    expect(info.extensions.map((e) => [e.oid, e.critical])).toEqual([
      ['2.5.29.35', false],
      ['2.5.29.28', true],
      ['2.5.29.20', false],
    ]);
    expect(info.entryCount).toBe(9);
  });

  it('reads every entry, with OpenSSL’s explicit unspecified (0) and its keyTime invalidity date', () => {
    const entries = [...scanCrl(crl).entries()];
    const d = (s: string) => new Date(s);
    expect(entries).toEqual<CrlEntry[]>([
      { serialHex: '01', revocationDate: d('2026-04-06T03:00:00Z'), reason: 4 },
      { serialHex: '03', revocationDate: d('2026-04-07T03:00:00Z'), reason: 2 },
      { serialHex: '04', revocationDate: d('2026-04-08T03:00:00Z'), reason: 3 },
      { serialHex: '05', revocationDate: d('2026-04-09T03:00:00Z'), reason: 5 },
      { serialHex: '0a', revocationDate: d('2026-04-01T03:00:00Z') },
      { serialHex: '1234', revocationDate: d('2026-04-04T03:00:00Z'), reason: 6 },
      { serialHex: '5678', revocationDate: d('2026-04-05T03:00:00Z'), reason: 0 },
      { serialHex: 'ff01', revocationDate: d('2026-04-02T03:00:00Z'), reason: 1 },
      { serialHex: '0abcdef0', revocationDate: d('2026-04-03T03:00:00Z'), reason: 1, invalidityDate: d('2026-03-30T00:00:00Z') },
    ]);
  });

  it('verifies its signature with the CA key and not with another', () => {
    expect(verifyCrlSignature(crl, caSpki)).toBe(true);
    expect(verifyCrlSignature(crl, rsa.spki)).toBe(false);
    expect(() => assertCrlSignature(crl, caSpki)).not.toThrow();
    expect(pkiErrorOf(() => assertCrlSignature(crl, rsa.spki)).code).toBe('CRL_SIGNATURE_INVALID');
  });

  it('finds serials however they are written, and only those on the CRL', () => {
    expect(findRevoked(crl, 'FF01')?.reason).toBe(1);
    expect(findRevoked(crl, '00ff01')?.serialHex).toBe('ff01');
    expect(findRevoked(crl, 'ff:01')?.serialHex).toBe('ff01');
    expect(findRevoked(crl, 'a')?.serialHex).toBe('0a');
    expect(findRevoked(crl, '02')).toBeUndefined();
    expect(findRevoked(crl, '01ff')).toBeUndefined();
    expect(findRevoked(crl, '7f01')).toBeUndefined();
    const index = buildRevocationIndex(crl);
    expect(index.size).toBe(9);
    expect(index.has('0A')).toBe(true);
    expect(index.get('0abcdef0')?.invalidityDate?.toISOString()).toBe('2026-03-30T00:00:00.000Z');
    expect(index.get('02')).toBeUndefined();
    expect(pkiErrorOf(() => findRevoked(crl, 'xyz')).code).toBe('CRL_INPUT_INVALID');
  });
});

describe('a CRL from @peculiar/x509', () => {
  it('reads what X509Crl reads, on 5,000 entries (beyond asn1js’s default node limit)', async () => {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', keys.publicKey));
    const N = 5000;
    // X509CrlGenerator is O(N²) in its duplicate check: 5,000 is about the most a test can afford
    const entries = Array.from({ length: N }, (_, i) => ({
      serialNumber: (0x8000 + i * 3).toString(16),
      revocationDate: new Date(Date.UTC(2026, 3, 1) + i * 60_000),
      ...(i % 3 ? { reason: (i % 6) + 1 } : {}),
      ...(i % 500 === 0 ? { invalidity: new Date(Date.UTC(2026, 2, 1)) } : {}),
    }));
    const crl = await x509.X509CrlGenerator.create({
      issuer: 'C=JP, O=JPKI',
      thisUpdate: THIS_UPDATE,
      nextUpdate: NEXT_UPDATE,
      signingKey: keys.privateKey,
      signingAlgorithm: alg,
      extensions: [new x509.Extension(new Uint8Array(ext.crlNumber(9n))), new x509.Extension(new Uint8Array(ext.deltaCrlIndicator(8n)))],
      entries,
    });
    const raw = new Uint8Array(crl.rawData);
    const info = scanCrl(raw);
    expect(info.entryCount).toBe(N);
    expect(info.crlNumber).toBe(9n);
    expect(info.deltaCrlIndicator).toBe(8n);
    expect(info.signatureAlgorithmOid).toBe('1.2.840.10045.4.3.2');
    expect(verifyCrlSignature(raw, spki)).toBe(true);
    const parsed = new x509.X509Crl(raw, { berOptions: { maxNodes: 20 * N, maxContentLength: 1 << 30 } } as object);
    const theirs = parsed.entries.map((e) => ({
      serialHex: e.serialNumber,
      revocationDate: e.revocationDate,
      ...(e.reason !== undefined ? { reason: e.reason } : {}),
      ...(e.invalidity ? { invalidityDate: e.invalidity } : {}),
    }));
    expect([...info.entries()]).toEqual(theirs);
    expect(parsed.thisUpdate).toEqual(info.thisUpdate);
  });
});

/** A CRL assembled field by field, to reach what no well-behaved writer produces. */
async function handCrl(p: {
  version?: Buffer | null;
  tbsAlg?: Buffer;
  outerAlg?: Buffer;
  entries?: Buffer[] | null;
  extensions?: Buffer[] | null;
  extra?: Buffer[];
}): Promise<Buffer> {
  const alg = algorithmIdentifier('RSA-SHA256');
  const tbs = der.sequence(
    ...[
      p.version === undefined ? der.integer(1) : p.version,
      p.tbsAlg ?? alg,
      issuer,
      der.time(THIS_UPDATE),
      der.time(NEXT_UPDATE),
      p.entries ? der.sequence(...p.entries) : null,
      p.extensions ? der.explicit(0, der.sequence(...p.extensions)) : null,
      ...(p.extra ?? []),
    ].filter((x): x is Buffer => x !== null),
  );
  const sig = await rsa.signer.sign(tbs);
  return der.sequence(tbs, p.outerAlg ?? alg, der.bitString(sig));
}

const entry = (serial: Buffer, date: Buffer, ...exts: Buffer[]) => der.sequence(serial, date, ...(exts.length ? [der.sequence(...exts)] : []));
const when = der.utcTime(new Date('2026-04-01T00:00:00Z'));

describe('critical extensions', () => {
  it('reports unknown critical CRL and entry extensions, and certificateIssuer (indirect CRLs are not supported)', async () => {
    const crl = await handCrl({
      entries: [
        entry(der.integer(1), when, ext.reasonCode(1), ext.extension('1.2.3.4.5', true, der.NULL)),
        entry(der.integer(2), when, ext.extension('2.5.29.29', true, der.sequence(der.explicit(4, issuer)))),
        entry(der.integer(3), when, ext.extension('1.2.3.4.5', true, der.NULL), ext.extension('2.5.29.23', false, der.oid('1.2.840.10040.2.2'))),
      ],
      extensions: [ext.crlNumber(1n), ext.extension('1.2.3.9', true, der.NULL), ext.extension('1.2.3.10', false, der.NULL), ext.deltaCrlIndicator(0n)],
    });
    const info = scanCrl(crl);
    expect(info.unknownCriticalExtensions.sort()).toEqual(['1.2.3.4.5', '1.2.3.9', '2.5.29.29']);
    expect([...info.entries()].map((e) => e.serialHex)).toEqual(['01', '02', '03']);
    expect(verifyCrlSignature(crl, rsa.spki)).toBe(true);
  });

  it('reports nothing for a CRL with only known or non-critical extensions', async () => {
    const crl = await handCrl({ entries: [entry(der.integer(1), when, ext.extension('2.5.29.23', false, der.NULL))], extensions: [ext.crlNumber(1n)] });
    expect(scanCrl(crl).unknownCriticalExtensions).toEqual([]);
  });
});

describe('structure', () => {
  it('reads a v1 CRL without extensions, without nextUpdate and without entries', async () => {
    const alg = algorithmIdentifier('RSA-SHA256');
    const tbs = der.sequence(alg, issuer, der.time(THIS_UPDATE));
    const crl = await signTbs(tbs, rsa.signer);
    const info = scanCrl(crl);
    expect(info).toMatchObject({ version: 1, entryCount: 0, extensions: [] });
    expect(info.nextUpdate).toBeUndefined();
    expect([...info.entries()]).toEqual([]);
    expect(verifyCrlSignature(crl, rsa.spki)).toBe(true);
  });

  it('reads negative serials (non-conforming, but real) with a minus sign', async () => {
    const crl = await handCrl({ entries: [entry(der.integer(-5), when)] });
    expect([...scanCrl(crl).entries()][0]?.serialHex).toBe('-fb');
  });

  it.each<[string, () => Promise<Buffer>, RegExp]>([
    ['an empty input', async () => Buffer.alloc(0), /\(expected a tag\) at byte 0/],
    ['text', async () => Buffer.from('-----BEGIN X509 CRL-----'), /at byte/],
    ['trailing bytes', async () => Buffer.concat([await handCrl({}), Buffer.from([0])]), /trailing bytes/],
    ['a version 3 (2)', async () => handCrl({ version: der.integer(2) }), /not v2/],
    ['a v1 CRL with extensions', async () => handCrl({ version: null, extensions: [ext.crlNumber(1n)] }), /v1 CRL cannot carry extensions/],
    ['a TBS algorithm that differs from the outer one', async () => handCrl({ tbsAlg: algorithmIdentifier('RSA-SHA384') }), /differs from signatureAlgorithm/],
    ['an extra TBS field', async () => handCrl({ extra: [der.NULL] }), /unexpected field \(tag 0x5\)/],
    ['duplicate CRL extensions', async () => handCrl({ extensions: [ext.crlNumber(1n), ext.crlNumber(2n)] }), /appears twice/],
    ['a negative CRL number', async () => handCrl({ extensions: [ext.extension('2.5.29.20', false, der.integer(-1))] }), /non-negative/],
    ['a broken IDP', async () => handCrl({ extensions: [ext.extension('2.5.29.28', true, der.sequence(der.NULL))] }), /unexpected field tag 0x5 in IssuingDistributionPoint/],
    ['an entry that is not a SEQUENCE', async () => handCrl({ entries: [der.integer(1)] }), /entry is not a SEQUENCE/],
    ['a non-minimal serial', async () => handCrl({ entries: [entry(Buffer.from('02020001', 'hex'), when)] }), /not minimally encoded/],
    ['a revocation date of Feb 30', async () => handCrl({ entries: [entry(der.integer(1), der.tlv(0x17, Buffer.from('260230000000Z')))] }), /not a real date/],
    ['a revocation date with fractions', async () => handCrl({ entries: [entry(der.integer(1), der.tlv(0x18, Buffer.from('20260230000000.5Z')))] }), /whole seconds/],
    ['a revocation date without Z', async () => handCrl({ entries: [entry(der.integer(1), der.tlv(0x17, Buffer.from('2602010000001')))] }), /does not end in Z/],
    ['reason code 7', async () => handCrl({ entries: [entry(der.integer(1), when, ext.extension('2.5.29.21', false, der.enumerated(7)))] }), /not a CRLReason/],
    ['a reason code that is an INTEGER', async () => handCrl({ entries: [entry(der.integer(1), when, ext.extension('2.5.29.21', false, der.integer(1)))] }), /not a CRLReason/],
    ['an invalidity date in UTCTime', async () => handCrl({ entries: [entry(der.integer(1), when, ext.extension('2.5.29.24', false, when))] }), /not a GeneralizedTime/],
    ['an entry extension without a value', async () => handCrl({ entries: [entry(der.integer(1), when, der.sequence(der.oid('2.5.29.21'), der.boolean(true)))] }), /without an extnValue/],
    ['data after the entry extensions', async () => handCrl({ entries: [der.sequence(der.integer(1), when, der.sequence(ext.reasonCode(1)), der.NULL)] }), /unexpected data after revocationDate/],
  ])('refuses %s with CRL_MALFORMED and the offset', async (_name, make, message) => {
    const crl = await make();
    const e = pkiErrorOf(() => scanCrl(crl));
    expect(e.code).toBe('CRL_MALFORMED');
    expect(e.kind).toBe('malformed');
    expect(e.message).toMatch(message);
    expect(typeof e.params.offset).toBe('number');
    expect(e.message).toMatch(new RegExp(`at byte ${e.params.offset}$`));
  });

  it('points at the offending byte', async () => {
    const good = await handCrl({ entries: [entry(der.integer(1), when), entry(der.integer(2), when)] });
    const bad = await handCrl({ entries: [entry(der.integer(1), when), entry(der.integer(2), der.tlv(0x17, Buffer.from('261301000000Z')))] });
    const e = pkiErrorOf(() => scanCrl(bad));
    const second = scanCrl(good).revoked.start + entry(der.integer(1), when).length;
    expect(e.params.offset).toBe(second + 2 + 3); // the entry header, the INTEGER, then the time
    expect(bad[e.params.offset as number]).toBe(0x17);
  });

  it('never crashes: every truncation and many byte flips give a CrlInfo or CRL_MALFORMED', async () => {
    const crl = await encodeCrl({
      issuer,
      signer: rsa.signer,
      thisUpdate: THIS_UPDATE,
      nextUpdate: NEXT_UPDATE,
      extensions: [ext.authorityKeyIdentifier(ext.keyIdentifierOf(rsa.spki)), ext.crlNumber(300n), ext.issuingDistributionPoint({ fullNameUris: ['http://x/'], onlySomeReasons: [1, 8] })],
      entries: [
        { serial: '0a', revocationDate: new Date('2026-04-01T00:00:00Z'), reason: 1, invalidityDate: new Date('2026-03-01T00:00:00Z') },
        { serial: 'ff01', revocationDate: new Date('2050-04-01T00:00:00Z') },
      ],
    });
    const attempt = (input: Uint8Array) => {
      try {
        const info = scanCrl(input);
        for (const e of info.entries()) void e;
        findRevoked(info, '0a');
        verifyCrlSignature(info, rsa.spki);
        return 'ok';
      } catch (e) {
        if (isPkiError(e, 'CRL_MALFORMED') || isPkiError(e, 'SIGNATURE_ALGORITHM_UNSUPPORTED')) return 'refused';
        throw e;
      }
    };
    for (let len = 0; len < crl.length; len++) expect(attempt(crl.subarray(0, len))).toBe('refused');
    let refused = 0;
    for (let i = 0; i < crl.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const copy = Buffer.from(crl);
        copy[i]! ^= mask;
        if (attempt(copy) === 'refused') refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
    expect(attempt(crl)).toBe('ok');
  });
});

describe('signatures', () => {
  it('rejects a changed TBS byte, a key of the wrong type and a bad key', async () => {
    const crl = await handCrl({ entries: [entry(der.integer(1), when)] });
    expect(verifyCrlSignature(crl, rsa.spki)).toBe(true);
    const info = scanCrl(crl);
    const tampered = Buffer.from(crl);
    tampered[info.revoked.start + 4]! ^= 0x01; // the serial number
    expect(scanCrl(tampered).entryCount).toBe(1);
    expect(verifyCrlSignature(tampered, rsa.spki)).toBe(false);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    expect(verifyCrlSignature(crl, ec)).toBe(false);
    expect(verifyCrlSignature(crl, createPublicKey(rsa.key))).toBe(true);
    expect(pkiErrorOf(() => verifyCrlSignature(crl, Buffer.from('3000', 'hex'))).code).toBe('KEY_MALFORMED');
  });

  it('refuses RSA-PSS and SHA-1 as unsupported algorithms', async () => {
    const pss = der.sequence(der.oid('1.2.840.113549.1.1.10'), der.sequence());
    const crl = await handCrl({ tbsAlg: pss, outerAlg: pss });
    const e = pkiErrorOf(() => verifyCrlSignature(crl, rsa.spki));
    expect(e.code).toBe('SIGNATURE_ALGORITHM_UNSUPPORTED');
    expect(e.message).toMatch(/RSA-PSS is not supported/);
    const sha1 = der.sequence(der.oid('1.2.840.113549.1.1.5'), der.NULL);
    expect(pkiErrorOf(() => verifyCrlSignature(handCrlSync(sha1), rsa.spki)).message).toMatch(/SHA-1/);
  });

  it('verifies ECDSA P-384 CRLs from the encoder', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const signer = softSigner(privateKey, 'ECDSA-SHA384');
    const crl = await encodeCrl({ issuer, signer, thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE, extensions: [], entries: [{ serial: '01', revocationDate: THIS_UPDATE }] });
    expect(scanCrl(crl).signatureAlgorithmOid).toBe('1.2.840.10045.4.3.3');
    expect(verifyCrlSignature(crl, signer.publicKey)).toBe(true);
    expect(verifyCrlSignature(crl, rsa.spki)).toBe(false);
  });
});

/** A structurally valid CRL with any algorithm identifier and a dummy signature. */
function handCrlSync(alg: Buffer): Buffer {
  const tbs = der.sequence(der.integer(1), alg, issuer, der.time(THIS_UPDATE), der.time(NEXT_UPDATE));
  return der.sequence(tbs, alg, der.bitString(Buffer.alloc(256, 1)));
}

describe('look-ups on a large CRL', () => {
  it('finds entries in a 20k CRL by serial, by index and in order', async () => {
    const N = 20_000;
    const serial = (i: number) => (0x800000 + i * 13).toString(16);
    const entries: CrlEntryInput[] = Array.from({ length: N }, (_, i) => ({ serial: serial(i), revocationDate: new Date(Date.UTC(2026, 0, 1) + i * 1000), reason: i % 2 ? 1 : 4 }));
    const crl = await encodeCrl({ issuer, signer: rsa.signer, thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE, extensions: [], entries });
    const info = scanCrl(crl);
    const index = buildRevocationIndex(info);
    expect(index.size).toBe(N);
    for (const i of [0, 1, 4567, N - 1]) {
      const want = { serialHex: normalizeSerialHex(serial(i)), revocationDate: entries[i]!.revocationDate, reason: entries[i]!.reason };
      expect(findRevoked(info, serial(i))).toEqual(want);
      expect(index.get(serial(i).toUpperCase())).toEqual(want);
    }
    expect(findRevoked(info, serial(N))).toBeUndefined();
    expect(index.has(serial(N))).toBe(false);
    expect(pkiErrorOf(() => findRevoked({ ...info }, '01')).code).toBe('CRL_INPUT_INVALID');
  });
});

describe('scanCrl input', () => {
  it('refuses what is not bytes', () => {
    expect(pkiErrorOf(() => scanCrl('MII...' as unknown as Uint8Array)).code).toBe('CRL_MALFORMED');
  });

  it('works on a view into a larger buffer', async () => {
    const crl = await handCrl({ entries: [entry(der.integer(7), when, ext.reasonCode(5))] });
    const big = Buffer.concat([Buffer.alloc(13, 0xee), crl, Buffer.alloc(5)]);
    const view = new Uint8Array(big.buffer, big.byteOffset + 13, crl.length);
    const info = scanCrl(view);
    expect([...info.entries()]).toEqual([{ serialHex: '07', revocationDate: new Date('2026-04-01T00:00:00Z'), reason: 5 }]);
    expect(findRevoked(view, '07')?.reason).toBe(5);
    expect(verifyCrlSignature(view, rsa.spki)).toBe(true);
  });
});


