/**
 * The response encoder byte for byte against @peculiar/asn1-ocsp (RSA PKCS#1 v1.5 is deterministic, so
 * whole signed responses compare equal), and OpenSSL verifying what it signs.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, CRLReason, Extension } from '@peculiar/asn1-x509';
import {
  BasicOCSPResponse,
  CertID,
  CertStatus,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
  KeyHash,
  id_pkix_ocsp_basic,
} from '@peculiar/asn1-ocsp';
import {
  encodeCertId,
  encodeOcspRequest,
  encodeResponseData,
  parseCertId,
  parseOcspRequest,
  responderKeyHash,
  signOcspResponse,
  statusResponse,
  type SingleResponseInput,
} from '../../src/ocsp/index.js';
import { readCertificate } from '../../src/pki/certificate-reader.js';
import { fromPem } from '../../src/pki/pem.js';
import type { Signer, SignatureAlgorithm } from '../../src/pki/signer.js';
import { OID_SHA256_WITH_RSA, OID_ECDSA_WITH_SHA256 } from '../../src/pki/oids.js';
import { readOcspResponse } from './support.js';

const NOW = new Date('2026-11-27T09:00:00Z');
const NEXT = new Date('2026-11-28T09:00:00Z');

function signerOf(key: KeyObject, algorithm: SignatureAlgorithm): Signer {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return { algorithm, publicKey: spki, sign: async (d) => sign('sha256', d, key) };
}

/** The same SingleResponse through asn1-ocsp. */
function peculiarSingle(r: SingleResponseInput): SingleResponse {
  const certID = AsnConvert.parse(r.certId, CertID);
  let certStatus: CertStatus;
  if (r.status.type === 'good') certStatus = new CertStatus({ good: null });
  else if (r.status.type === 'unknown') certStatus = new CertStatus({ unknown: null });
  else
    certStatus = new CertStatus({
      revoked: new RevokedInfo({
        revocationTime: r.status.revokedAt,
        ...(r.status.reason ? { revocationReason: new CRLReason(r.status.reason) } : {}),
      }),
    });
  return new SingleResponse({ certID, certStatus, thisUpdate: r.thisUpdate, ...(r.nextUpdate ? { nextUpdate: r.nextUpdate } : {}) });
}

describe('OCSP response encoding', () => {
  let dir: string;
  let rsa: KeyObject;
  let issuer: { subject: Buffer; spki: Buffer };
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jpki-ocsp-resp-'));
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/C=JP/O=JPKI/CN=Test CA', '-days', '30');
    writeFileSync(join(dir, 'ext.cnf'), ['[resp]', 'keyUsage = critical, digitalSignature', 'extendedKeyUsage = OCSPSigning', 'noCheck = ignored', ''].join('\n'));
    for (const key of ['rsa:2048', 'ec']) {
      const name = key === 'ec' ? 'resp-ec' : 'resp-rsa';
      const opts = key === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', key];
      run('req', '-new', ...opts, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '0x77', '-days', '30', '-extfile', 'ext.cnf', '-extensions', 'resp', '-out', `${name}.pem`);
    }
    run('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=leaf');
    run('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '0x4a1b2c3d4e5f6071', '-days', '30', '-out', 'leaf.pem');
    rsa = createPrivateKey(readFileSync(join(dir, 'resp-rsa.key')));
    const view = readCertificate(fromPem(readFileSync(join(dir, 'ca.pem'), 'utf8'))!);
    issuer = { subject: Buffer.from(view.subject), spki: Buffer.from(view.subjectPublicKeyInfo) };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cert = (name: string) => fromPem(readFileSync(join(dir, `${name}.pem`), 'utf8'))!;

  it('writes the status-only responses as asn1-ocsp does', () => {
    for (const [name, status] of [
      ['malformedRequest', OCSPResponseStatus.malformedRequest],
      ['internalError', OCSPResponseStatus.internalError],
      ['tryLater', OCSPResponseStatus.tryLater],
      ['unauthorized', OCSPResponseStatus.unauthorized],
    ] as const) {
      expect(statusResponse(name).equals(Buffer.from(AsnConvert.serialize(new OCSPResponse({ responseStatus: status }))))).toBe(true);
    }
  });

  it('signs responses byte-identical to asn1-ocsp: good, revoked (reason and none), unknown, several, nonce, certificates', async () => {
    const signer = signerOf(rsa, 'RSA-SHA256');
    const keyHash = responderKeyHash(signer.publicKey);
    const nonce = parseOcspRequest(encodeOcspRequest([encodeCertId('sha1', issuer, '05')], Buffer.alloc(16, 0xab))).nonce!;
    const cases: { responses: SingleResponseInput[]; nonce?: Uint8Array; certificates: Buffer[] }[] = [
      { responses: [{ certId: encodeCertId('sha1', issuer, '4a1b2c3d4e5f6071'), status: { type: 'good' }, thisUpdate: NOW, nextUpdate: NEXT }], certificates: [cert('resp-rsa')] },
      {
        responses: [{ certId: encodeCertId('sha256', issuer, '05'), status: { type: 'revoked', revokedAt: new Date('2026-11-20T01:02:03Z'), reason: 1 }, thisUpdate: NOW, nextUpdate: NEXT }],
        certificates: [],
      },
      { responses: [{ certId: encodeCertId('sha1', issuer, '80ff'), status: { type: 'revoked', revokedAt: NOW, reason: 0 }, thisUpdate: NOW }], certificates: [] },
      {
        responses: [
          { certId: encodeCertId('sha1', issuer, '06'), status: { type: 'unknown' }, thisUpdate: NOW, nextUpdate: NEXT },
          { certId: encodeCertId('sha1', issuer, '07'), status: { type: 'revoked', revokedAt: NOW, reason: 6 }, thisUpdate: NOW, nextUpdate: NEXT },
          { certId: encodeCertId('sha1', issuer, '08'), status: { type: 'good' }, thisUpdate: NOW, nextUpdate: NEXT },
        ],
        nonce,
        certificates: [cert('resp-rsa'), cert('ca')],
      },
    ];
    for (const c of cases) {
      const ours = await signOcspResponse({ responderKeyHash: keyHash, producedAt: NOW, responses: c.responses, ...(c.nonce ? { nonce: c.nonce } : {}), certificates: c.certificates, signer });
      const data = new ResponseData({
        responderID: new ResponderID({ byKey: new KeyHash(keyHash) }),
        producedAt: NOW,
        responses: c.responses.map(peculiarSingle),
        ...(c.nonce ? { responseExtensions: [AsnConvert.parse(c.nonce, Extension)] } : {}),
      });
      const tbs = Buffer.from(AsnConvert.serialize(data));
      expect(encodeResponseData({ responderKeyHash: keyHash, producedAt: NOW, responses: c.responses, ...(c.nonce ? { nonce: c.nonce } : {}) }).equals(tbs)).toBe(true);
      const basic = new BasicOCSPResponse({
        tbsResponseData: data,
        signatureAlgorithm: new AlgorithmIdentifier({ algorithm: OID_SHA256_WITH_RSA, parameters: null }),
        signature: new Uint8Array(await signer.sign(tbs)).buffer,
        ...(c.certificates.length ? { certs: c.certificates.map((d) => AsnConvert.parse(d, Certificate)) } : {}),
      });
      const theirs = new OCSPResponse({
        responseStatus: OCSPResponseStatus.successful,
        responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic)) }),
      });
      expect(ours.toString('hex')).toBe(Buffer.from(AsnConvert.serialize(theirs)).toString('hex'));
    }
  });

  it('echoes the request nonce extension as it came, and writes whole seconds only', async () => {
    const signer = signerOf(rsa, 'RSA-SHA256');
    const nonce = parseOcspRequest(encodeOcspRequest([encodeCertId('sha1', issuer, '05')], Buffer.from('0123456789abcdef'))).nonce!;
    const der = await signOcspResponse({
      responderKeyHash: responderKeyHash(signer.publicKey),
      producedAt: new Date(NOW.getTime() + 999),
      responses: [{ certId: encodeCertId('sha1', issuer, '05'), status: { type: 'good' }, thisUpdate: new Date(NOW.getTime() + 999) }],
      nonce,
      certificates: [],
      signer,
    });
    const r = readOcspResponse(der);
    expect(r.nonce!.subarray(2).toString()).toBe('0123456789abcdef');
    expect(r.producedAt!.getTime()).toBe(NOW.getTime());
    expect(der.includes(Buffer.from('20261127090000Z'))).toBe(true);
    expect(der.includes(Buffer.from('.999Z'))).toBe(false);
  });

  it.each([
    ['RSA', 'resp-rsa', 'RSA-SHA256', OID_SHA256_WITH_RSA],
    ['ECDSA', 'resp-ec', 'ECDSA-SHA256', OID_ECDSA_WITH_SHA256],
  ] as const)('a %s delegated responder response verifies with `openssl ocsp -respin`', async (_n, name, alg, algOid) => {
    const signer = signerOf(createPrivateKey(readFileSync(join(dir, `${name}.key`))), alg);
    for (const [status, expected] of [
      [{ type: 'good' }, /leaf\.pem: good/],
      [{ type: 'revoked', revokedAt: new Date('2026-11-20T01:02:03Z'), reason: 1 }, /leaf\.pem: revoked[\s\S]*Reason: keyCompromise/],
    ] as const) {
      const der = await signOcspResponse({
        responderKeyHash: responderKeyHash(signer.publicKey),
        producedAt: new Date(),
        responses: [{ certId: encodeCertId('sha256', issuer, '4a1b2c3d4e5f6071'), status, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 3600_000) }],
        certificates: [cert(name)],
        signer,
      });
      expect(der.includes(Buffer.from(AsnConvert.serialize(new AlgorithmIdentifier({ algorithm: algOid, ...(alg.startsWith('RSA') ? { parameters: null } : {}) }))))).toBe(true);
      writeFileSync(join(dir, 'r.der'), der);
      const r = spawnSync('openssl', ['ocsp', '-respin', 'r.der', '-sha256', '-issuer', 'ca.pem', '-cert', 'leaf.pem', '-CAfile', 'ca.pem', '-no_nonce'], { cwd: dir, encoding: 'utf8' });
      const out = r.stdout + r.stderr;
      expect(out).toContain('Response verify OK');
      expect(out).toMatch(expected);
    }
  });

  it('parses the CertIDs it writes', () => {
    const c = parseCertId(encodeCertId('sha384', issuer, '00ff'));
    expect(c.hash).toBe('sha384');
    expect(c.serial).toBe('ff');
    expect(c.issuerNameHash.length).toBe(48);
  });
});
