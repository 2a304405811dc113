/**
 * Request parsing: OpenSSL's requests are read back exactly, ours are byte-identical to OpenSSL's, and every
 * malformed input — truncations, bit flips, wrong structures, other PKI objects — is OCSP_MALFORMED_REQUEST,
 * never another exception.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseOcspRequest, encodeOcspRequest, encodeCertId, nonceValue, OcspError, MAX_CERT_IDS, type OcspRequest } from '../../src/ocsp/index.js';
import { readCertificate } from '../../src/pki/certificate-reader.js';
import { fromPem } from '../../src/pki/pem.js';
import { sequence, explicit, integer, oid, tlv, NULL, readSingle, childList, bytesOf } from '../../src/pki/der.js';

/** The complete TLVs inside a constructed DER value. */
function childrenOf(der: Buffer): Buffer[] {
  return childList(der, readSingle(der)).map((t) => Buffer.from(bytesOf(der, t)));
}

const CASES = '/work/shared/testdata/ocsp-cases';

function expectMalformed(der: Uint8Array): void {
  let error: unknown;
  try {
    parseOcspRequest(der);
  } catch (e) {
    error = e;
  }
  expect(error, `accepted ${Buffer.from(der).toString('hex')}`).toBeInstanceOf(OcspError);
  expect((error as OcspError).code).toBe('OCSP_MALFORMED_REQUEST');
}

/** Parses or refuses as malformed — but never anything else. */
function parsesOrMalformed(der: Uint8Array): OcspRequest | undefined {
  try {
    return parseOcspRequest(der);
  } catch (e) {
    expect(e).toBeInstanceOf(OcspError);
    expect((e as OcspError).code).toBe('OCSP_MALFORMED_REQUEST');
    return undefined;
  }
}

describe('OCSP requests', () => {
  let dir: string;
  let issuer: { subject: Buffer; spki: Buffer };
  const serials: string[] = [];
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jpki-ocsp-req-'));
    run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/C=JP/O=JPKI/CN=Test CA', '-days', '30');
    for (const [name, serial] of [
      ['a', '0x4a1b2c3d4e5f60718293a4b5c6d7e8f9'],
      ['b', '0x05'],
      ['c', '0x80ff'],
    ] as const) {
      run('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', serial, '-days', '30', '-out', `${name}.pem`);
      serials.push(BigInt(serial).toString(16).padStart(2, '0').replace(/^(.)$/, '0$1'));
    }
    const ca = fromPem(readFileSync(join(dir, 'ca.pem'), 'utf8'))!;
    const view = readCertificate(ca);
    issuer = { subject: Buffer.from(view.subject), spki: Buffer.from(view.subjectPublicKeyInfo) };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const opensslRequest = (name: string, ...args: string[]) => {
    run('ocsp', '-issuer', 'ca.pem', ...args, '-reqout', `${name}.der`);
    return readFileSync(join(dir, `${name}.der`));
  };

  it('encodes a request byte for byte as `openssl ocsp -reqout` does (SHA-1 and SHA-256 CertIDs)', () => {
    const sha1 = opensslRequest('sha1', '-cert', 'a.pem', '-no_nonce');
    expect(encodeOcspRequest([encodeCertId('sha1', issuer, serials[0]!)]).equals(sha1)).toBe(true);
    const sha256 = opensslRequest('sha256', '-sha256', '-cert', 'a.pem', '-no_nonce');
    expect(encodeOcspRequest([encodeCertId('sha256', issuer, serials[0]!)]).equals(sha256)).toBe(true);
    const two = opensslRequest('two', '-cert', 'b.pem', '-cert', 'c.pem', '-no_nonce');
    expect(encodeOcspRequest([encodeCertId('sha1', issuer, '05'), encodeCertId('sha1', issuer, '80ff')]).equals(two)).toBe(true);
  });

  it("reads OpenSSL's requests: CertIDs, serials, hash algorithms and the nonce", () => {
    const r = parseOcspRequest(opensslRequest('nonce', '-cert', 'a.pem', '-cert', 'b.pem', '-cert', 'c.pem', '-nonce'));
    expect(r.certIds.map((c) => c.serial)).toEqual([serials[0], '05', '80ff']);
    expect(r.certIds.every((c) => c.hash === 'sha1')).toBe(true);
    expect(r.signed).toBe(false);
    expect(r.nonce).toBeDefined();
    // OpenSSL's nonce: an OCTET STRING of 16 random bytes inside extnValue
    expect(nonceValue(r.nonce!).length).toBe(18);
    const withNonce = encodeOcspRequest([encodeCertId('sha1', issuer, '05')], Buffer.alloc(16, 7));
    expect(Buffer.from(nonceValue(parseOcspRequest(withNonce).nonce!).subarray(2)).equals(Buffer.alloc(16, 7))).toBe(true);
    const r256 = parseOcspRequest(opensslRequest('r256', '-sha256', '-cert', 'a.pem', '-no_nonce'));
    expect(r256.certIds[0]!.hash).toBe('sha256');
    expect(r256.nonce).toBeUndefined();
    // the CertID is kept as the exact bytes sent, to be echoed
    expect(Buffer.from(r256.certIds[0]!.der).equals(encodeCertId('sha256', issuer, serials[0]!))).toBe(true);
  });

  it('reads a signed request and marks it so (the signature is neither required nor checked)', () => {
    const r = parseOcspRequest(opensslRequest('signed', '-cert', 'a.pem', '-signer', 'b.pem', '-signkey', 'b.key', '-no_nonce'));
    expect(r.signed).toBe(true);
    expect(r.certIds[0]!.serial).toBe(serials[0]);
  });

  it('keeps an unknown hash algorithm or hashes of the wrong length as "not computable", not as an error', () => {
    const good = encodeCertId('sha1', issuer, '05');
    // SHA-1's OID 1.3.14.3.2.26 → 1.3.14.3.2.27 (not a hash we know)
    const i = good.indexOf(Buffer.from([0x2b, 0x0e, 0x03, 0x02, 0x1a]));
    const other = Buffer.from(good);
    other[i + 4] = 0x1b;
    expect(parseOcspRequest(encodeOcspRequest([other])).certIds[0]!.hash).toBeUndefined();
    const sha256Oid = encodeCertId('sha256', issuer, '05');
    const mixed = Buffer.concat([sha256Oid.subarray(0, 2 + 15), good.subarray(2 + 11)]);
    mixed[1] = mixed.length - 2;
    expect(parseOcspRequest(encodeOcspRequest([mixed])).certIds[0]!.hash).toBeUndefined();
  });

  it('reads zero and negative serials as "no certificate of ours", not as an error', () => {
    const zero = Buffer.from(encodeCertId('sha1', issuer, '05'));
    zero[zero.length - 1] = 0x00;
    expect(parseOcspRequest(encodeOcspRequest([zero])).certIds[0]!.serial).toBeUndefined();
    const negative = Buffer.from(zero);
    negative[negative.length - 1] = 0xff;
    expect(parseOcspRequest(encodeOcspRequest([negative])).certIds[0]!.serial).toBeUndefined();
  });

  it.each([
    ['empty', '', 'end of data'],
    ['one byte', '30', 'end of data'],
    ['NULL', '0500', 'not a SEQUENCE'],
    ['text', Buffer.from('GET / HTTP/1.1').toString('hex'), 'runs past the end'],
    ['indefinite length (BER)', '3080308030800000000000', 'indefinite length'],
    ['a SET instead of a SEQUENCE', '310430023000', 'not a SEQUENCE'],
    ['an empty request list', '300430023000', 'request list is empty'],
    ['an empty tbsRequest', '30023000', 'requestList is not a SEQUENCE'],
    ['a length beyond the limit', '3084ffffffff30', 'exceeds the limit'], ['a length running past the end', '301030023000', 'runs past the end'],
    ['a non-minimal length', '30810430023000', 'not minimally encoded'],
    ['trailing bytes', '3004300230000000', 'trailing bytes'],
  ])('refuses %s as malformed', (_name, hex, reason) => {
    expectMalformed(Buffer.from(hex, 'hex'));
    expect(() => parseOcspRequest(Buffer.from(hex, 'hex'))).toThrow(reason);
  });

  it('refuses structural defects inside an otherwise sound request, each for its own reason', () => {
    const certId = encodeCertId('sha1', issuer, '05');
    const tbs = (...fields: Buffer[]) => sequence(sequence(...fields));
    const list = sequence(sequence(certId));
    const cases: [Buffer, string][] = [
      [tbs(explicit(0, integer(1)), list), 'only version v1'],
      [tbs(list, explicit(3, NULL)), 'unexpected field in tbsRequest'],
      [sequence(sequence(list), explicit(0, NULL), NULL), 'unexpected field after tbsRequest'],
      [tbs(sequence(sequence(sequence(...childrenOf(certId).slice(0, 3))))), 'CertID without serialNumber'],
      [tbs(sequence(sequence(certId, explicit(1, NULL)))), 'unexpected field in Request'],
      [tbs(sequence(sequence(sequence(...childrenOf(certId).slice(0, 3), tlv(0x02, Buffer.from([0x00, 0x05])))))), 'not minimally encoded'],
      [tbs(sequence(sequence(sequence(sequence(oid('1.3.14.3.2.26'), integer(0)), ...childrenOf(certId).slice(1))))), 'parameters must be NULL or absent'],
      [tbs(list, explicit(2, sequence())), 'empty Extensions'],
    ];
    for (const [der, reason] of cases) {
      expectMalformed(der);
      expect(() => parseOcspRequest(der)).toThrow(reason);
    }
    // the version written out as v1 (not DER, but harmless) is accepted
    expect(parseOcspRequest(tbs(explicit(0, integer(0)), list)).certIds).toHaveLength(1);
  });

  it('refuses every truncation of a valid request, and the request with a byte appended', () => {
    const valid = encodeOcspRequest([encodeCertId('sha256', issuer, serials[0]!), encodeCertId('sha1', issuer, '05')], randomBytes(16));
    expect(parseOcspRequest(valid).certIds).toHaveLength(2);
    for (let n = 0; n < valid.length; n++) expectMalformed(valid.subarray(0, n));
    expectMalformed(Buffer.concat([valid, Buffer.from([0])]));
  });

  it('refuses a nonce longer than 64 bytes, an empty one, and a request for more than 50 certificates', () => {
    expectMalformed(encodeOcspRequest([encodeCertId('sha1', issuer, '05')], randomBytes(63)));
    expect(parseOcspRequest(encodeOcspRequest([encodeCertId('sha1', issuer, '05')], randomBytes(32))).nonce).toBeDefined();
    const many = Array.from({ length: MAX_CERT_IDS + 1 }, (_, i) => encodeCertId('sha1', issuer, (i + 1).toString(16)));
    expectMalformed(encodeOcspRequest(many));
    expect(parseOcspRequest(encodeOcspRequest(many.slice(0, MAX_CERT_IDS))).certIds).toHaveLength(MAX_CERT_IDS);
  });

  it('refuses other PKI objects: real OCSP responses and certificates from OpenSSL\'s test data', () => {
    const files = readdirSync(CASES).filter((f) => f.endsWith('.ors') || f.endsWith('.pem'));
    expect(files.length).toBeGreaterThan(60);
    for (const f of files) {
      const text = readFileSync(join(CASES, f), 'utf8');
      const der = f.endsWith('.ors') ? Buffer.from(text.replace(/\s+/g, ''), 'base64') : fromPem(text)!;
      expectMalformed(der);
    }
  });

  it('survives 2,000 random bit flips and byte changes of valid requests: parsed or malformed, nothing else', () => {
    const valid = encodeOcspRequest([encodeCertId('sha1', issuer, serials[0]!), encodeCertId('sha256', issuer, '80ff')], randomBytes(16));
    let parsed = 0;
    for (let i = 0; i < 2000; i++) {
      const m = Buffer.from(valid);
      const at = i % m.length;
      if (i % 2) m[at] = m[at]! ^ (1 << (i % 8));
      else m[at] = (i * 37) & 0xff;
      if (parsesOrMalformed(m)) parsed++;
    }
    // some mutations only touch hash or nonce bytes and still parse
    expect(parsed).toBeGreaterThan(0);
    for (let i = 0; i < 500; i++) parsesOrMalformed(randomBytes(1 + (i % 200)));
  });
});
