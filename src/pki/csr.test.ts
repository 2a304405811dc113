/**
 * The lean PKCS#10 parser on requests made by `openssl req` and by @peculiar/x509, compared field by field
 * with @peculiar/x509's Pkcs10CertificateRequest; tampered, truncated and foreign input; key policy.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, createPublicKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { parseCsr, verifyCsr, describePublicKey, checkKeyStrength, parsePublicKey, type ParsedCsr } from './csr.js';
import { PkiError, type PkiErrorCode } from './errors.js';
import * as der from './der.js';

let dir: string;
/** Requests by name: PEM text from `openssl req`. */
const req: Record<string, string> = {};

function opensslReq(name: string, keyArgs: string[], extra: string[] = []): void {
  const out = join(dir, `${name}.pem`);
  execFileSync(
    'openssl',
    ['req', '-new', ...keyArgs, '-nodes', '-keyout', join(dir, `${name}.key`), '-subj', '/C=JP/O=JPKI/CN=Yamada Taro', '-out', out, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  req[name] = readFileSync(out, 'utf8');
}

function errorOf(f: () => unknown): PkiError {
  try {
    f();
  } catch (e) {
    if (e instanceof PkiError) return e;
    throw new Error(`expected a PkiError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected a PkiError, nothing was thrown');
}
const codeOf = (f: () => unknown): PkiErrorCode => errorOf(f).code;

const pemToDer = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'jpki-csr-'));
  opensslReq('rsa2048', ['-newkey', 'rsa:2048']);
  opensslReq('rsa1024', ['-newkey', 'rsa:1024']);
  opensslReq('p256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  opensslReq('p384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-sha384']);
  opensslReq('secp256k1', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1']);
  opensslReq('rsa-sha512-san', ['-newkey', 'rsa:2048', '-sha512'], ['-addext', 'subjectAltName=DNS:jpki.example']);
  opensslReq('pss-signature', ['-newkey', 'rsa:2048', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32']);
  opensslReq('pss-key', ['-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048']);
  opensslReq('ed25519', ['-newkey', 'ed25519']);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fields @peculiar/x509 reads, in our shape. */
function viaPeculiar(der: Uint8Array) {
  const csr = new x509.Pkcs10CertificateRequest(new Uint8Array(der));
  return { csr, subject: Buffer.from(csr.subjectName.toArrayBuffer()), spki: Buffer.from(csr.publicKey.rawData), signature: Buffer.from(csr.signature), tbs: Buffer.from((csr as unknown as { tbs: ArrayBuffer }).tbs) };
}

function sameAsPeculiar(parsed: ParsedCsr, der: Uint8Array) {
  const p = viaPeculiar(der);
  expect(Buffer.from(parsed.subject).equals(p.subject)).toBe(true);
  expect(Buffer.from(parsed.subjectPublicKeyInfo).equals(p.spki)).toBe(true);
  expect(Buffer.from(parsed.signature).equals(p.signature)).toBe(true);
  expect(Buffer.from(parsed.certificationRequestInfo).equals(p.tbs)).toBe(true);
  return p.csr;
}

describe('requests from openssl req', () => {
  it.each(['rsa2048', 'rsa1024', 'p256', 'p384', 'secp256k1', 'rsa-sha512-san'])('%s: the same fields as @peculiar/x509, and the signature verifies', async (name) => {
    const pem = req[name]!;
    const parsed = verifyCsr(pem);
    const csr = sameAsPeculiar(parsed, pemToDer(pem));
    if (name !== 'secp256k1') expect(await csr.verify()).toBe(true); // WebCrypto has no secp256k1
    expect(Buffer.from(parsed.der).equals(pemToDer(pem))).toBe(true);
  });

  it('reads the subject and the algorithm, from PEM text, PEM bytes and DER', () => {
    const pem = req.rsa2048!;
    const fromText = parseCsr(pem);
    const fromBytes = parseCsr(Buffer.from(pem));
    const fromDer = parseCsr(pemToDer(pem));
    for (const p of [fromText, fromBytes, fromDer]) {
      expect(p.signatureAlgorithmOid).toBe('1.2.840.113549.1.1.11');
      expect(new x509.Name(new Uint8Array(p.subject)).toString()).toBe('C=JP, O=JPKI, CN=Yamada Taro');
      expect(p.attributes).toHaveLength(0);
    }
    expect(parseCsr(req.p384!).signatureAlgorithmOid).toBe('1.2.840.10045.4.3.3');
    expect(parseCsr(req['rsa-sha512-san']!).signatureAlgorithmOid).toBe('1.2.840.113549.1.1.13');
    expect(parseCsr(req['rsa-sha512-san']!).attributes.length).toBeGreaterThan(0);
  });

  it('accepts the old "NEW CERTIFICATE REQUEST" label and text around the block', () => {
    const pem = req.p256!.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST');
    expect(verifyCsr(`Certificate request for Yamada\n${pem}\ntrailing words`).signatureAlgorithmOid).toBe('1.2.840.10045.4.3.2');
  });

  it('refuses an RSA-PSS signature as unsupported, with a clear message', () => {
    const parsed = parseCsr(req['pss-signature']!);
    expect(parsed.signatureAlgorithmOid).toBe('1.2.840.113549.1.1.10');
    const e = errorOf(() => verifyCsr(parsed));
    expect(e.code).toBe('SIGNATURE_ALGORITHM_UNSUPPORTED');
    expect(e.message).toMatch(/^RSA-PSS is not supported: use sha256WithRSAEncryption/);
  });

  it('refuses RSA-PSS and Ed25519 keys as unsupported', () => {
    expect(errorOf(() => describePublicKey(parseCsr(req['pss-key']!).subjectPublicKeyInfo)).message).toMatch(/RSA-PSS keys .* are not supported/);
    expect(errorOf(() => describePublicKey(parseCsr(req.ed25519!).subjectPublicKeyInfo)).message).toBe('ed25519 keys are not supported: use RSA or ECDSA');
    expect(codeOf(() => verifyCsr(req.ed25519!))).toBe('SIGNATURE_ALGORITHM_UNSUPPORTED');
  });
});

describe('requests from @peculiar/x509', () => {
  it.each([
    ['RSA 2048 / SHA-256', { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 }],
    ['ECDSA P-256', { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }],
  ])('%s: parses the same fields and verifies', async (_name, alg) => {
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=山田 太郎, O=JPKI, C=JP',
      keys,
      signingAlgorithm: alg,
      extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
    });
    const der = new Uint8Array(csr.rawData);
    const parsed = verifyCsr(csr.toString('pem'));
    sameAsPeculiar(parsed, der);
    expect(Buffer.from(parsed.subjectPublicKeyInfo).equals(Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey)))).toBe(true);
  });
});

describe('damaged requests', () => {
  it('a changed signature or subject fails verification with CSR_SIGNATURE_INVALID', () => {
    for (const name of ['rsa2048', 'p256']) {
      const der = pemToDer(req[name]!);
      const sig = Buffer.from(der);
      sig[sig.length - 1]! ^= 0x01;
      expect(codeOf(() => verifyCsr(sig))).toBe('CSR_SIGNATURE_INVALID');
      const subj = Buffer.from(der);
      const at = subj.indexOf(Buffer.from('Yamada'));
      subj[at] = 'Z'.charCodeAt(0);
      expect(parseCsr(subj).subject).toBeDefined();
      expect(codeOf(() => verifyCsr(subj))).toBe('CSR_SIGNATURE_INVALID');
    }
  });

  it('a key swapped for another of the other type fails verification', () => {
    const rsa = parseCsr(req.rsa2048!);
    const ec = parseCsr(req.p256!);
    expect(codeOf(() => verifyCsr({ ...rsa, subjectPublicKeyInfo: ec.subjectPublicKeyInfo }))).toBe('CSR_SIGNATURE_INVALID');
    expect(codeOf(() => verifyCsr({ ...rsa, subjectPublicKeyInfo: Buffer.from('3000', 'hex') }))).toBe('KEY_MALFORMED');
  });

  it('verifyCsr gives one verdict per algorithm and key: RSA and EC accepted, a bad or foreign signature refused, PSS and Ed25519 unsupported', () => {
    const outcome = (f: () => unknown) => {
      try {
        f();
        return 'ok';
      } catch (e) {
        return (e as PkiError).code;
      }
    };
    const rsa = parseCsr(req.rsa2048!);
    const ec = parseCsr(req.p256!);
    const badSig = Buffer.from(pemToDer(req.rsa2048!));
    badSig[badSig.length - 1]! ^= 0x01;
    const cases: (ParsedCsr | string | Uint8Array)[] = [req.rsa2048!, req.p256!, req.p384!, badSig, { ...rsa, subjectPublicKeyInfo: ec.subjectPublicKeyInfo }, req['pss-signature']!, req.ed25519!];
    const sync = cases.map((c) => outcome(() => verifyCsr(c)));
    expect(sync).toEqual(['ok', 'ok', 'ok', 'CSR_SIGNATURE_INVALID', 'CSR_SIGNATURE_INVALID', 'SIGNATURE_ALGORITHM_UNSUPPORTED', 'SIGNATURE_ALGORITHM_UNSUPPORTED']);
    expect(verifyCsr(req.p256!).publicKey.asymmetricKeyType).toBe('ec');
  });

  it('every truncation of the DER is CSR_MALFORMED with an offset', () => {
    const der = pemToDer(req.p256!);
    for (let len = 0; len < der.length; len++) {
      const e = errorOf(() => parseCsr(der.subarray(0, len)));
      expect(e.code).toBe('CSR_MALFORMED');
      if (len > 0) expect(typeof e.params.offset).toBe('number');
    }
  });

  it.each<[string, string | Uint8Array, RegExp]>([
    ['garbage text', 'hello, I would like a certificate', /no "CERTIFICATE REQUEST" PEM block and not DER/],
    ['garbage bytes', Buffer.from([0x04, 0x02, 0x01, 0x02]), /not DER/],
    ['an empty string', '', /no "CERTIFICATE REQUEST" PEM block/],
    ['a certificate PEM', '-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n', /no "CERTIFICATE REQUEST" PEM block/],
    ['bad base64', '-----BEGIN CERTIFICATE REQUEST-----\nMII*\n-----END CERTIFICATE REQUEST-----\n', /not valid base64/],
    ['mismatched END label', '-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE-----\n', /ends with "CERTIFICATE"/],
    ['trailing bytes', Buffer.concat([Buffer.from('3000', 'hex'), Buffer.from([0])]), /trailing bytes/],
    ['an empty SEQUENCE', Buffer.from('3000', 'hex'), /has 0 fields, expected 3/],
    ['a v2 request', der.sequence(der.sequence(der.integer(1), der.sequence(), der.sequence(der.sequence(), der.bitString(Buffer.alloc(1)))), der.sequence(), der.bitString(Buffer.alloc(2))), /version is not v1/],
    ['a request without a public key', der.sequence(der.sequence(der.integer(0), der.sequence()), der.sequence(der.oid('1.2.840.113549.1.1.11')), der.bitString(Buffer.alloc(2))), /missing subjectPKInfo/],
    ['a signature with unused bits', der.sequence(der.sequence(der.integer(0), der.sequence(), der.sequence(der.sequence(), der.bitString(Buffer.alloc(1)))), der.sequence(der.oid('1.2.840.113549.1.1.11')), der.bitString(Buffer.alloc(2), 3)), /unused bits/],
  ])('%s is CSR_MALFORMED', (_name, input, message) => {
    const e = errorOf(() => parseCsr(input));
    expect(e.code).toBe('CSR_MALFORMED');
    expect(e.kind).toBe('malformed');
    expect(e.message).toMatch(message);
  });
});

describe('public keys', () => {
  it('describes RSA and EC keys', () => {
    expect(describePublicKey(parseCsr(req.rsa2048!).subjectPublicKeyInfo)).toEqual({ type: 'RSA', bits: 2048, publicExponent: 65537n });
    expect(describePublicKey(parseCsr(req.p256!).subjectPublicKeyInfo)).toEqual({ type: 'EC', bits: 256, curve: 'P-256' });
    expect(describePublicKey(parseCsr(req.p384!).subjectPublicKeyInfo)).toEqual({ type: 'EC', bits: 384, curve: 'P-384' });
    expect(describePublicKey(parseCsr(req.secp256k1!).subjectPublicKeyInfo)).toEqual({ type: 'EC', bits: 256, curve: 'secp256k1' });
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-521' });
    expect(describePublicKey(publicKey)).toEqual({ type: 'EC', bits: 521, curve: 'P-521' });
    const brainpool = generateKeyPairSync('ec', { namedCurve: 'brainpoolP256r1' }).publicKey;
    expect(describePublicKey(brainpool)).toEqual({ type: 'EC', bits: 256, curve: 'brainpoolP256r1' });
  });

  it('checkKeyStrength accepts RSA 2048, P-256 and P-384 by default, from SPKI bytes or the verified request’s KeyObject', () => {
    for (const name of ['rsa2048', 'p256', 'p384']) {
      expect(() => checkKeyStrength(parseCsr(req[name]!).subjectPublicKeyInfo)).not.toThrow();
      const verified = verifyCsr(req[name]!);
      expect(checkKeyStrength(verified.publicKey)).toEqual(describePublicKey(verified.subjectPublicKeyInfo));
    }
  });

  it('checkKeyStrength refuses with precise messages', () => {
    const rsa1024 = errorOf(() => checkKeyStrength(parseCsr(req.rsa1024!).subjectPublicKeyInfo, { minRsaBits: 2048, curves: ['P-256', 'P-384'] }));
    expect(rsa1024.code).toBe('KEY_TOO_SMALL');
    expect(rsa1024.message).toBe('RSA key of 1024 bits is too small: at least 2048 bits are required');
    expect(rsa1024.params).toEqual({ bits: 1024, minBits: 2048 });
    const k1 = errorOf(() => checkKeyStrength(parseCsr(req.secp256k1!).subjectPublicKeyInfo));
    expect(k1.code).toBe('KEY_ALGORITHM_UNSUPPORTED');
    expect(k1.message).toBe('EC key on curve secp256k1 is not allowed: use P-256 or P-384');
    expect(errorOf(() => checkKeyStrength(parseCsr(req.p384!).subjectPublicKeyInfo, { curves: ['P-256'] })).message).toBe('EC key on curve P-384 is not allowed: use P-256');
    expect(errorOf(() => checkKeyStrength(parseCsr(req.p256!).subjectPublicKeyInfo, { types: ['RSA'] })).message).toBe('EC keys are not allowed: use RSA');
    const big = errorOf(() => checkKeyStrength(parseCsr(req.rsa2048!).subjectPublicKeyInfo, { maxRsaBits: 1024, minRsaBits: 512 }));
    expect(big.code).toBe('KEY_TOO_LARGE');
    expect(big.message).toBe('RSA key of 2048 bits is too large: at most 1024 bits are accepted');
    const e3 = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 }).publicKey;
    const exp = errorOf(() => checkKeyStrength(e3));
    expect(exp.code).toBe('KEY_EXPONENT_INVALID');
    expect(exp.message).toBe('RSA public exponent 3 is not allowed: it must be odd and at least 65537');
    expect(() => checkKeyStrength(e3, { minRsaExponent: 3n })).not.toThrow();
    expect(codeOf(() => checkKeyStrength(Buffer.from('30030201', 'hex')))).toBe('KEY_MALFORMED');
  });

  it('parsePublicKey takes PEM SPKI, PEM PKCS#1 and DER SPKI', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    const pemSpki = publicKey.export({ format: 'pem', type: 'spki' }) as string;
    const pemPkcs1 = publicKey.export({ format: 'pem', type: 'pkcs1' }) as string;
    expect(Buffer.from(parsePublicKey(pemSpki)).equals(spki)).toBe(true);
    expect(Buffer.from(parsePublicKey(Buffer.from(pemSpki))).equals(spki)).toBe(true);
    expect(Buffer.from(parsePublicKey(pemPkcs1)).equals(spki)).toBe(true);
    expect(Buffer.from(parsePublicKey(spki)).equals(spki)).toBe(true);
    expect(describePublicKey(parsePublicKey(pemSpki)).bits).toBe(2048);
    expect(createPublicKey({ key: Buffer.from(parsePublicKey(pemPkcs1)), format: 'der', type: 'spki' }).asymmetricKeyType).toBe('rsa');
  });

  it('parsePublicKey refuses what is not a public key with KEY_MALFORMED', () => {
    expect(codeOf(() => parsePublicKey(req.rsa2048!))).toBe('KEY_MALFORMED');
    expect(codeOf(() => parsePublicKey(pemToDer(req.rsa2048!)))).toBe('KEY_MALFORMED');
    expect(codeOf(() => parsePublicKey('not a key'))).toBe('KEY_MALFORMED');
    expect(codeOf(() => parsePublicKey(Buffer.from('3003020100ff', 'hex')))).toBe('KEY_MALFORMED');
    expect(codeOf(() => parsePublicKey('-----BEGIN RSA PUBLIC KEY-----\nMAA=\n-----END RSA PUBLIC KEY-----'))).toBe('KEY_MALFORMED');
  });
});
