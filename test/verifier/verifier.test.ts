import { execFileSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/common/clock.js';
import { OID_GPKI_POLICY_AUTH, OID_GPKI_POLICY_SIGN } from '../../src/pki/oids.js';
import { createVerifier, type RevocationFetcher, type VerifierConfig } from '../../src/verifier/index.js';
import { createTestInstallation, opensslCsr, type TestInstallation } from '../support/installation.js';
import { pemCertificate } from './conformance-support.js';

/**
 * The verifier as a library: CMS variants OpenSSL makes (RSA PKCS#1 v1.5, RSA-PSS, ECDSA, signer by subject
 * key identifier, enveloping), malformed input of every kind giving `malformed` without a throw, revocation
 * that cannot be obtained giving `indeterminate` (OCSP asked first, then the CRL; timeouts), and the path
 * search over the installation's real hierarchy (both bridges, every cross-certificate pair: cycles), with
 * its depth limit and the policy mapping through the bridges.
 */
let dir: string;
const content = Buffer.from('住民票の写しの交付請求\n');
const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });

/** A small PKI made by OpenSSL: root → EE (RSA), root → EE (P-256), with CRL DP and OCSP URLs. */
function makePki(): { root: Buffer; rsa: { key: string; cert: string }; ec: { key: string; cert: string } } {
  const ext = join(dir, 'ext.cnf');
  writeFileSync(
    ext,
    ['[ca]', 'basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash', '[ee]', 'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,nonRepudiation', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid', 'crlDistributionPoints=URI:http://127.0.0.1:9/crl/root.crl', 'authorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp', ''].join('\n'),
  );
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'root.key'), '-out', join(dir, 'root.pem'), '-days', '30', '-subj', '/C=JP/O=Test/CN=Test Root', '-extensions', 'ca', '-config', ext, '-set_serial', '1']);
  const ee = (name: string, keyArgs: string[]) => {
    const { key, csr } = opensslCsr(dir, name, keyArgs);
    const cert = join(dir, `${name}.pem`);
    openssl(['x509', '-req', '-in', csr, '-CA', join(dir, 'root.pem'), '-CAkey', join(dir, 'root.key'), '-set_serial', String(Math.floor(Math.random() * 1e9)), '-days', '10', '-extfile', ext, '-extensions', 'ee', '-out', cert]);
    return { key, cert };
  };
  return { root: pemCertificate(join(dir, 'root.pem')), rsa: ee('rsa-ee', ['-newkey', 'rsa:2048']), ec: ee('ec-ee', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']) };
}

function sign(signer: { key: string; cert: string }, extra: string[] = []): Buffer {
  const inFile = join(dir, 'content.txt');
  writeFileSync(inFile, content);
  const out = join(dir, `sig-${Math.random()}.p7s`);
  openssl(['cms', '-sign', '-binary', '-md', 'sha256', '-in', inFile, '-signer', signer.cert, '-inkey', signer.key, '-outform', 'DER', '-out', out, ...extra]);
  return readFileSync(out);
}

let pki: ReturnType<typeof makePki>;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'jpki-verifier-'));
  pki = makePki();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const offline = (extra: Partial<VerifierConfig> = {}) => createVerifier({ anchors: [pki.root], revocation: { mode: 'off' }, ...extra });

describe('CMS variants', () => {
  it('RSA PKCS#1 v1.5, RSA-PSS, ECDSA, signer by SKI, enveloping: valid, with the algorithm named', async () => {
    const cases: [Buffer, Buffer | undefined, string, string][] = [
      [sign(pki.rsa), content, 'RSA-PKCS1-v1_5/SHA256', 'detached'],
      [sign(pki.rsa, ['-keyopt', 'rsa_padding_mode:pss']), content, 'RSA-PSS/SHA256', 'detached'],
      [sign(pki.ec), content, 'ECDSA/SHA256', 'detached'],
      [sign(pki.rsa, ['-keyid']), content, 'RSA-PKCS1-v1_5/SHA256', 'detached'],
      [sign(pki.ec, ['-nodetach']), undefined, 'ECDSA/SHA256', 'enveloping'],
    ];
    for (const [signature, c, alg, mode] of cases) {
      const r = await offline().verify({ signature, ...(c ? { content: c } : {}) });
      expect(r.reasons).toEqual([]);
      expect(r).toMatchObject({ verdict: 'valid', signatureAlgorithm: alg, mode });
      expect(r.path).toHaveLength(2);
    }
  });

  it('other content than was signed: invalid, content-altered', async () => {
    const r = await offline().verify({ signature: sign(pki.ec), content: Buffer.from('something else') });
    expect(r.reasons.map((x) => x.code)).toEqual(['content-altered']);
  });

  it('malformed input of any kind: invalid, malformed, never a throw', async () => {
    const good = sign(pki.rsa);
    const inputs: Buffer[] = [Buffer.alloc(0), Buffer.from('hello'), Buffer.from('-----BEGIN CMS-----\n@@@\n-----END CMS-----\n'), Buffer.alloc(3000, 0x30)];
    for (let cut = 1; cut < good.length; cut += 97) inputs.push(good.subarray(0, cut));
    for (let i = 0; i < 40; i++) {
      const flipped = Buffer.from(good);
      flipped[Math.floor(Math.random() * flipped.length)] ^= 1 << Math.floor(Math.random() * 8);
      inputs.push(flipped);
    }
    for (const [i, signature] of inputs.entries()) {
      const r = await offline().verify({ signature, content });
      expect(['valid', 'invalid']).toContain(r.verdict);
      // a truncated or junk message is never valid (a flipped bit may land in a field no signature covers,
      // e.g. the digestAlgorithms list, and then the message is still valid)
      if (i < inputs.length - 40) expect(r.verdict).toBe('invalid');
      if (r.verdict === 'invalid') expect(r.reasons.length).toBeGreaterThan(0);
    }
    const junk = await offline().verify({ signature: Buffer.from('hello'), content });
    expect(junk).toMatchObject({ verdict: 'invalid', reasons: [{ code: 'malformed' }], signer: null, path: [] });
    // a detached signature without its content
    expect((await offline().verify({ signature: good })).reasons[0]!.code).toBe('malformed');
  });
});

describe('what one verifier keeps between verifications', () => {
  /** An OCSP response about pki.rsa signed by the root, valid for `minutes`, from `openssl ocsp` with an index saying good or revoked. */
  function ocspResponse(status: 'good' | 'revoked', minutes: number): Buffer {
    const serial = openssl(['x509', '-in', pki.rsa.cert, '-noout', '-serial']).toString().trim().split('=')[1]!;
    const index = join(dir, 'index.txt');
    writeFileSync(index, `${status === 'good' ? 'V' : 'R'}\t301231235959Z\t${status === 'good' ? '' : '260101000000Z,keyCompromise'}\t${serial}\tunknown\t/CN=EE\n`);
    const [req, resp] = [join(dir, 'ocsp-req.der'), join(dir, `ocsp-${Math.random()}.der`)];
    openssl(['ocsp', '-issuer', join(dir, 'root.pem'), '-cert', pki.rsa.cert, '-no_nonce', '-reqout', req]);
    openssl(['ocsp', '-index', index, '-rsigner', join(dir, 'root.pem'), '-rkey', join(dir, 'root.key'), '-CA', join(dir, 'root.pem'), '-reqin', req, '-respout', resp, '-nmin', String(minutes), '-resp_no_certs']);
    return readFileSync(resp);
  }
  /** A responder serving `served.der` (CRLs: none), counting the OCSP requests. */
  function responder(der: Buffer) {
    const served = { der, asked: 0 };
    const fetcher: RevocationFetcher = {
      async fetch(_url, request) {
        if (!request.body) throw new Error('no CRL here');
        served.asked++;
        return served.der;
      },
    };
    return { served, fetcher };
  }
  const HOUR = 3600_000;

  it('an OCSP answer is asked once until its nextUpdate, its times checked at every verification; then it is asked again', async () => {
    const clock = new FixedClock(Date.now());
    const { served, fetcher } = responder(ocspResponse('good', 60));
    const v = createVerifier({ anchors: [pki.root], revocation: { fetcher }, clock });
    const signature = sign(pki.rsa);
    const good = await v.verify({ signature, content });
    expect(good.verdict).toBe('valid');
    expect(good.path[1]!.revocation).toMatchObject({ status: 'good', source: 'ocsp' });
    // the responder now says revoked; the kept answer stands until its nextUpdate
    served.der = ocspResponse('revoked', 24 * 60);
    expect(await v.verify({ signature, content })).toEqual(good);
    expect(served.asked).toBe(1);
    // the kept answer is not used for a time past its nextUpdate
    const later = await v.verify({ signature, content, at: new Date(clock.now().getTime() + 2 * HOUR) });
    expect(later.verdict).toBe('indeterminate');
    expect(later.reasons[0]!.message).toContain('the OCSP response is stale');
    expect(served.asked).toBe(1);
    // past its nextUpdate the answer is asked for again
    clock.advance(HOUR + 60_000);
    const revoked = await v.verify({ signature, content });
    expect(served.asked).toBe(2);
    expect(revoked.verdict).toBe('invalid');
    expect(revoked.reasons).toEqual([expect.objectContaining({ code: 'revoked', revocationReason: 'keyCompromise' })]);
    expect(revoked.path[1]!.revocation).toMatchObject({ status: 'revoked', source: 'ocsp' });
  });

  it('an altered answer is refused though a good one for the same certificate was kept; a refusal is kept 30 s', async () => {
    const clock = new FixedClock(Date.now());
    const { served, fetcher } = responder(ocspResponse('good', 24 * 60));
    const v = createVerifier({ anchors: [pki.root], revocation: { fetcher }, clock });
    const signature = sign(pki.rsa);
    expect((await v.verify({ signature, content })).verdict).toBe('valid');
    const altered = ocspResponse('good', 3 * 24 * 60);
    altered[altered.length - 1]! ^= 1; // the last byte of the signature
    served.der = altered;
    clock.advance(25 * HOUR);
    const refused = await v.verify({ signature, content });
    expect(refused.verdict).toBe('indeterminate');
    expect(refused.reasons[0]!.message).toContain('the signature on the OCSP response does not verify');
    served.der = ocspResponse('good', 3 * 24 * 60);
    clock.advance(29_000);
    expect((await v.verify({ signature, content })).verdict).toBe('indeterminate');
    clock.advance(2_000);
    expect((await v.verify({ signature, content })).verdict).toBe('valid');
    expect(served.asked).toBe(3);
  });

  it('a certificate altered after a good verification does not verify', async () => {
    const v = offline();
    const signature = sign(pki.rsa);
    expect((await v.verify({ signature, content })).verdict).toBe('valid');
    const cert = pemCertificate(pki.rsa.cert);
    const altered = Buffer.from(signature);
    altered[altered.indexOf(cert) + cert.length - 1]! ^= 1; // the last byte of the certificate's signature
    const r = await v.verify({ signature: altered, content });
    expect(r.verdict).toBe('invalid');
    expect(r.reasons).toEqual([expect.objectContaining({ code: 'signature', message: expect.stringContaining('the signature on the certificate of') })]);
    expect((await v.verify({ signature, content })).verdict).toBe('valid');
  });

  it('reports as a fresh verifier would, at any validation time and for any alteration of the message', async () => {
    const warm = offline();
    const signature = sign(pki.rsa);
    const now = Date.now();
    const DAY = 24 * HOUR;
    const reports = [];
    for (const at of [now, now + 20 * DAY, now - DAY, now, now + 5 * DAY].map((t) => new Date(t))) {
      const r = await warm.verify({ signature, content, at });
      expect(r).toEqual(await offline().verify({ signature, content, at }));
      reports.push(r);
    }
    expect(reports.map((r) => r.reasons.map((x) => x.code))).toEqual([[], ['expired'], ['not-yet-valid'], [], []]);
    const at = new Date(now);
    for (let i = 0; i < 60; i++) {
      const flipped = Buffer.from(signature);
      flipped[Math.floor(Math.random() * flipped.length)] ^= 1 << Math.floor(Math.random() * 8);
      expect(await warm.verify({ signature: flipped, content, at })).toEqual(await offline().verify({ signature: flipped, content, at }));
    }
  });
});

describe('a CA certificate renewed with the same key: the path the time picks', () => {
  const crypto = webcrypto as unknown as Crypto;
  const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  let root: Buffer;
  let pool: Buffer[];
  let leaf: Buffer;
  beforeAll(async () => {
    x509.cryptoProvider.set(crypto);
    const keys = async () => (await crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
    const [rootKeys, caKeys, leafKeys] = [await keys(), await keys(), await keys()];
    const ca = [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)];
    const make = async (serialNumber: string, subject: string, issuer: string, from: string, to: string, key: CryptoKeyPair, by: CryptoKeyPair, extensions: x509.Extension[]) =>
      Buffer.from((await x509.X509CertificateGenerator.create({ serialNumber, subject, issuer, notBefore: new Date(from), notAfter: new Date(to), signingAlgorithm: EC, publicKey: key.publicKey, signingKey: by.privateKey, extensions })).rawData);
    root = await make('01', 'CN=Root', 'CN=Root', '2020-01-01', '2040-01-01', rootKeys, rootKeys, ca);
    // the CA's certificate and its renewal: same name, same key, validity one after the other
    pool = [await make('02', 'CN=CA', 'CN=Root', '2020-01-01', '2025-01-01', caKeys, rootKeys, ca), await make('03', 'CN=CA', 'CN=Root', '2025-01-01', '2030-01-01', caKeys, rootKeys, ca)];
    leaf = await make('04', 'CN=Resident', 'CN=CA', '2021-01-01', '2029-01-01', leafKeys, caKeys, []);
  });

  it('one verifier asked at several times reports what a fresh verifier reports at each', async () => {
    const config = { anchors: [root], intermediates: pool, revocation: { mode: 'off' as const } };
    const warm = createVerifier(config);
    const serials: string[] = [];
    for (const at of ['2022-06-01', '2027-06-01', '2029-06-01', '2022-06-01', '2031-01-01', '2027-06-01'].map((d) => new Date(d))) {
      const r = await warm.validateCertificate(leaf, { at });
      expect(r).toEqual(await createVerifier(config).validateCertificate(leaf, { at }));
      serials.push(`${r.verdict} ${r.path[1]!.serial}`);
    }
    // the certificate valid at the time is tried first; with none valid, the report shows the first path tried
    expect(serials).toEqual(['valid 02', 'valid 03', 'invalid 03', 'valid 02', 'invalid 02', 'valid 03']);
  });
});

describe('revocation that cannot be obtained', () => {
  it('OCSP unreachable and no CRL: indeterminate; OCSP is asked first, then the CRL', async () => {
    const asked: string[] = [];
    const fetcher: RevocationFetcher = {
      async fetch(url, request) {
        asked.push(`${request.body ? 'POST' : 'GET'} ${url}`);
        throw new Error('connection refused');
      },
    };
    const r = await createVerifier({ anchors: [pki.root], revocation: { fetcher } }).verify({ signature: sign(pki.rsa), content });
    expect(r.verdict).toBe('indeterminate');
    expect(r.reasons).toEqual([expect.objectContaining({ code: 'revocation-unavailable' })]);
    expect(asked).toEqual(['POST http://127.0.0.1:9/ocsp', 'GET http://127.0.0.1:9/crl/root.crl']);
  });

  it('a responder that never answers: indeterminate after the timeout', async () => {
    const fetcher: RevocationFetcher = { fetch: (_url, request) => new Promise((_, reject) => request.signal.addEventListener('abort', () => reject(new Error('aborted')))) };
    const t0 = Date.now();
    const r = await createVerifier({ anchors: [pki.root], revocation: { fetcher, timeoutMs: 200 } }).verify({ signature: sign(pki.rsa), content });
    expect(r.verdict).toBe('indeterminate');
    expect(r.reasons[0]!.message).toContain('within 200 ms');
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe('path search over the installation’s hierarchy', () => {
  let t: TestInstallation;
  let signature: Buffer;
  let anchors: { agency: Buffer; tokyo: Buffer };
  let pool: Buffer[];
  beforeAll(async () => {
    t = await createTestInstallation({ prefectures: ['13', '27'] });
    const { key, csr } = opensslCsr(t.dir, 'resident');
    const issued = await t.services.ca.issue({ prefecture: '13', kind: 'sign', publicKey: { csr: readFileSync(csr) }, facts: { name: '公的 一郎', dateOfBirth: '1977-11-07', sex: '1', address: '東京都港区虎ノ門5丁目' }, municipality: '13103', actor: 'test' });
    const cert = t.pem('resident.pem', issued.der);
    signature = sign({ key, cert });
    const authorities = await t.services.ca.list();
    anchors = { agency: authorities.find((a) => a.kind === 'agency')!.certificate, tokyo: authorities.find((a) => a.id === 'pref-13')!.certificate };
    // every CA certificate and every cross-certificate pair (both directions: the graph has cycles)
    pool = [...authorities.map((a) => a.certificate), ...(await t.services.ca.certificates({ kind: 'cross' })).map((c) => c.der)];
  }, 120_000);
  afterAll(async () => t?.cleanup());

  const at = () => t.clock.now();

  it('finds agency CA → GPKI bridge → JPKI bridge → Tokyo → resident among the cycles, with the policy mapped through the bridges', async () => {
    const v = createVerifier({ anchors: [anchors.agency], intermediates: pool, revocation: { mode: 'off' }, policy: { initialPolicySet: [OID_GPKI_POLICY_SIGN], initialExplicitPolicy: true } });
    const r = await v.verify({ signature, content, at: at() });
    expect(r.reasons).toEqual([]);
    expect(r.path.map((p) => p.subject.replace(/^.*CN=/, '')).slice(0, 4)).toEqual(['総務省認証局', '政府認証基盤ブリッジ認証局', '公的個人認証サービスブリッジ認証局', '東京都知事']);
  });

  it('the authentication policy is not acceptable for a signing certificate: invalid, policy', async () => {
    const v = createVerifier({ anchors: [anchors.agency], intermediates: pool, revocation: { mode: 'off' }, policy: { initialPolicySet: [OID_GPKI_POLICY_AUTH], initialExplicitPolicy: true } });
    const r = await v.verify({ signature, content, at: at() });
    expect(r.verdict).toBe('invalid');
    expect(r.reasons.map((x) => x.code)).toContain('policy');
  });

  it('the depth limit: a path of four certificates is not searched with maxDepth 3 (no-path)', async () => {
    const v = createVerifier({ anchors: [anchors.agency], intermediates: pool, revocation: { mode: 'off' }, maxDepth: 3 });
    expect((await v.verify({ signature, content, at: at() })).reasons.map((x) => x.code)).toEqual(['no-path']);
  });

  it('another relying party’s anchor (the Tokyo CA itself): the short path', async () => {
    const v = createVerifier({ anchors: [anchors.tokyo], intermediates: pool, revocation: { mode: 'off' } });
    const r = await v.verify({ signature, content, at: at() });
    expect(r.verdict).toBe('valid');
    expect(r.path).toHaveLength(2);
  });

  it('without the cross-certificates there is no path from the agency CA', async () => {
    const v = createVerifier({ anchors: [anchors.agency], revocation: { mode: 'off' } });
    expect((await v.verify({ signature, content, at: at() })).reasons.map((x) => x.code)).toEqual(['no-path']);
  });
});
