import { describe, expect, it, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { constants, createPublicKey, privateEncrypt, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signDetached } from './cms-sign.js';
import { readSignedData, type SignedDataView } from './cms-reader.js';
import { explicit, octetString, oid, sequence, set, integer, tlvOf, readSingle, childList } from './der.js';
import { isPkiError } from './errors.js';
import { checkCms } from '../verifier/cms.js';
import { cmsDifferences } from '../../test/fuzz/support/cms-reference.js';
import { commandExists, needs } from '../../test/support/system.js';

/**
 * The fast CMS reader against @peculiar/asn1-cms, field for field (test/fuzz/support/cms-reference.ts), on
 * messages from our signer and from `openssl cms -sign` in each form the verifier meets.
 */
const CONTENT = Buffer.from('転出届\n氏名: 公的 一郎\n');
let dir = '';
const path = (f: string) => join(dir, f);

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

function opensslSigned(signer: 'rsa' | 'ec', options: string[]): Buffer {
  const out = path(`cms-${signer}-${options.join('').replace(/\W/g, '_')}.der`);
  openssl(['cms', '-sign', '-binary', '-md', 'sha256', '-in', path('content.txt'), '-signer', path(`${signer}.pem`), '-inkey', path(`${signer}.key`), '-outform', 'DER', '-out', out, ...options]);
  return readFileSync(out);
}

function readAndCompare(der: Uint8Array): SignedDataView {
  const view = readSignedData(der);
  expect(cmsDifferences(der, view)).toEqual([]);
  return view;
}

/** The SignerInfo's signature verifies over the bytes the reader says are signed. */
function signatureHolds(view: SignedDataView, certPem: string, options: { pss?: boolean } = {}): boolean {
  const si = view.signerInfos[0]!;
  const key = createPublicKey(certPem);
  const data = si.signedAttrs!.der;
  if (options.pss) return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, si.signature);
  return verify('sha256', data, key, si.signature);
}

describe('CMS SignedData reader (pki/cms-reader.ts)', () => {
  let available = true;
  beforeAll(() => {
    available = needs('openssl', commandExists('openssl'));
    if (!available) return;
    dir = mkdtempSync(join(tmpdir(), 'jpki-cms-reader-'));
    writeFileSync(path('content.txt'), CONTENT);
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path('rsa.key'), '-out', path('rsa.pem'), '-subj', '/C=JP/O=JPKI/CN=公的 一郎', '-utf8', '-days', '30', '-addext', 'subjectKeyIdentifier=hash']);
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path('ec.key'), '-out', path('ec.pem'), '-subj', '/C=JP/O=JPKI/CN=EC Signer', '-days', '30', '-addext', 'subjectKeyIdentifier=hash']);
    openssl(['x509', '-in', path('rsa.pem'), '-outform', 'DER', '-out', path('rsa.der')]);
  });

  it('reads what our signer writes as @peculiar/asn1-cms does, and the signature covers the SET it hands back', async () => {
    if (!available) return;
    const cert = readFileSync(path('rsa.der'));
    const key = readFileSync(path('rsa.key'), 'utf8');
    const p7s = await signDetached({ content: CONTENT, certificate: cert, signingTime: new Date('2026-04-01T01:02:03Z'), signDigestInfo: async (di) => privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, di) });
    const view = readAndCompare(p7s);
    expect(view.eContent).toBeNull();
    expect(view.certificates).toHaveLength(1);
    expect(Buffer.from(view.certificates[0]!).equals(cert)).toBe(true);
    const si = view.signerInfos[0]!;
    expect('issuer' in si.sid).toBe(true);
    expect(si.signedAttrs!.attributes.map((a) => a.oid)).toEqual(['1.2.840.113549.1.9.3', '1.2.840.113549.1.9.5', '1.2.840.113549.1.9.4', '1.2.840.113549.1.9.16.2.47']);
    expect(si.signedAttrs!.der[0]).toBe(0x31);
    expect(signatureHolds(view, readFileSync(path('rsa.pem'), 'utf8'))).toBe(true);
  });

  const cases: { name: string; signer: 'rsa' | 'ec'; options: string[]; enveloping: boolean; certs: number; ski: boolean; algorithm: string; pss?: boolean }[] = [
    { name: 'RSA, detached', signer: 'rsa', options: [], enveloping: false, certs: 1, ski: false, algorithm: '1.2.840.113549.1.1.1' },
    { name: 'RSA, enveloping', signer: 'rsa', options: ['-nodetach'], enveloping: true, certs: 1, ski: false, algorithm: '1.2.840.113549.1.1.1' },
    { name: 'RSA, -nocerts', signer: 'rsa', options: ['-nocerts'], enveloping: false, certs: 0, ski: false, algorithm: '1.2.840.113549.1.1.1' },
    { name: 'RSA, -keyid', signer: 'rsa', options: ['-keyid'], enveloping: false, certs: 1, ski: true, algorithm: '1.2.840.113549.1.1.1' },
    { name: 'RSA-PSS, enveloping', signer: 'rsa', options: ['-nodetach', '-keyopt', 'rsa_padding_mode:pss'], enveloping: true, certs: 1, ski: false, algorithm: '1.2.840.113549.1.1.10', pss: true },
    { name: 'RSA-PSS, -keyid -nocerts', signer: 'rsa', options: ['-keyid', '-nocerts', '-keyopt', 'rsa_padding_mode:pss'], enveloping: false, certs: 0, ski: true, algorithm: '1.2.840.113549.1.1.10', pss: true },
    { name: 'ECDSA, detached', signer: 'ec', options: [], enveloping: false, certs: 1, ski: false, algorithm: '1.2.840.10045.4.3.2' },
    { name: 'ECDSA, enveloping, -keyid', signer: 'ec', options: ['-nodetach', '-keyid'], enveloping: true, certs: 1, ski: true, algorithm: '1.2.840.10045.4.3.2' },
  ];
  for (const c of cases)
    it(`reads openssl cms -sign (${c.name}) as @peculiar/asn1-cms does`, () => {
      if (!available) return;
      const der = opensslSigned(c.signer, c.options);
      const view = readAndCompare(der);
      expect(view.eContentType).toBe('1.2.840.113549.1.7.1');
      expect(view.eContent === null ? null : Buffer.from(view.eContent).toString()).toBe(c.enveloping ? CONTENT.toString() : null);
      expect(view.certificates).toHaveLength(c.certs);
      const si = view.signerInfos[0]!;
      expect('subjectKeyIdentifier' in si.sid).toBe(c.ski);
      expect(si.version).toBe(c.ski ? 3 : 1);
      expect(si.signatureAlgorithm.oid).toBe(c.algorithm);
      if (c.pss) expect(si.signatureAlgorithm.parameters).not.toBeNull();
      expect(signatureHolds(view, readFileSync(path(`${c.signer}.pem`), 'utf8'), { pss: c.pss })).toBe(true);
      // the verifier reads it through the reader with the same outcome as before: nothing wrong but the trust
      // (or, without certificates, no signer to check it with)
      if (!c.certs) {
        expect(() => checkCms(der, CONTENT)).toThrow(/does not carry the signer/);
        return;
      }
      const check = checkCms(der, c.enveloping ? undefined : CONTENT);
      expect(check.problems).toEqual([]);
      expect(check.mode).toBe(c.enveloping ? 'enveloping' : 'detached');
      expect(check.signer?.subjectText).toContain(c.signer === 'rsa' ? '公的 一郎' : 'EC Signer');
    });

  it('joins the segments of a constructed eContent as asn1-cms and asn1js do', () => {
    if (!available) return;
    const der = opensslSigned('rsa', ['-nodetach']);
    // rebuild the message with its eContent as a constructed OCTET STRING of two segments (definite lengths)
    const ci = readSingle(der);
    const [ct, wrapper] = childList(der, ci);
    const sd = childList(der, childList(der, wrapper!)[0]!);
    const eci = childList(der, sd[2]!);
    const constructed = tlvOf(0x24, [octetString(CONTENT.subarray(0, 5)), octetString(CONTENT.subarray(5))]);
    const newEci = sequence(der.subarray(eci[0]!.start, eci[0]!.end), explicit(0, constructed));
    const rest = sd.map((t, i) => (i === 2 ? newEci : der.subarray(t.start, t.end)));
    const rebuilt = sequence(der.subarray(ct!.start, ct!.end), explicit(0, sequence(...rest)));
    const view = readAndCompare(rebuilt);
    expect(Buffer.from(view.eContent!).equals(CONTENT)).toBe(true);
  });

  it('refuses BER (openssl cms -sign -stream writes indefinite lengths) with CMS_MALFORMED; the verifier still reads it with the schemas', () => {
    if (!available) return;
    const ber = opensslSigned('rsa', ['-nodetach', '-stream']);
    expect(ber[1]).toBe(0x80);
    expect(() => readSignedData(ber)).toThrow(/indefinite length is not DER/);
    expect(isPkiError(catchError(() => readSignedData(ber)), 'CMS_MALFORMED')).toBe(true);
    const check = checkCms(ber, undefined);
    expect(check.problems).toEqual([]);
    expect(check.content?.equals(CONTENT)).toBe(true);
  });

  it('refuses what is not a DER SignedData with CMS_MALFORMED, never another error', () => {
    const signedData = (fields: Uint8Array[]) => sequence(oid('1.2.840.113549.1.7.2'), explicit(0, sequence(...fields)));
    const eci = sequence(oid('1.2.840.113549.1.7.1'));
    const bad: [string, Uint8Array, RegExp][] = [
      ['empty', new Uint8Array(0), /unexpected end of data/],
      ['trailing bytes', Buffer.concat([signedData([integer(1), set(), eci, set()]), Buffer.from([0])]), /trailing bytes/],
      ['another content type', sequence(oid('1.2.840.113549.1.7.1'), explicit(0, octetString(CONTENT))), /is not signedData/],
      ['no signerInfos', signedData([integer(1), set(), eci]), /missing signerInfos/],
      ['an unknown field', signedData([integer(1), set(), eci, set(), set()]), /unexpected field/],
      ['a negative version', signedData([integer(-1), set(), eci, set()]), /out of range/],
      ['a SignerInfo without signature', signedData([integer(1), set(), eci, set(sequence(integer(1), sequence(sequence(), integer(1)), sequence(oid('2.16.840.1.101.3.4.2.1')))) ]), /missing signatureAlgorithm/],
      ['a sid of another kind', signedData([integer(1), set(), eci, set(sequence(integer(1), octetString(Buffer.from('x'))))]), /neither issuerAndSerialNumber/],
    ];
    for (const [what, der, message] of bad) {
      const e = catchError(() => readSignedData(der));
      expect(isPkiError(e, 'CMS_MALFORMED'), what).toBe(true);
      expect((e as Error).message, what).toMatch(message);
    }
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('no error thrown');
}
