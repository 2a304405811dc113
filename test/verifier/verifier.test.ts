import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
