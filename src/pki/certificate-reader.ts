import { bytesOf, checkName, childList, readSingle, readTime, readUnsignedInteger, readInteger, readOid, DerError, TAG, type Tlv } from './der.js';
import { readExtensions, type ExtensionView } from './extensions.js';
import { PkiError } from './errors.js';
import { splitSigned } from './signed.js';

/**
 * A lean, read-only view of a TBSCertificate: byte ranges and the few decoded fields the CA's lints, the
 * OCSP responder and the verifier's fast paths need, without building an object tree.
 */
export interface TbsCertificateView {
  version: number;
  serial: Uint8Array;
  signatureAlgorithmOid: string;
  issuer: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  subject: Uint8Array;
  subjectPublicKeyInfo: Uint8Array;
  extensions: ExtensionView[];
}

export function readTbsCertificate(tbs: Uint8Array): TbsCertificateView {
  try {
    const outer = readSingle(tbs);
    if (outer.tag !== TAG.SEQUENCE) throw new DerError('TBSCertificate is not a SEQUENCE', 0);
    const f = childList(tbs, outer);
    let i = 0;
    let version = 1;
    if (f[0]?.tag === 0xa0) {
      const [v] = childList(tbs, f[0]);
      version = Number(readInteger(tbs, v!)) + 1;
      i = 1;
    }
    const need = (t: Tlv | undefined, tag: number, what: string): Tlv => {
      if (!t || t.tag !== tag) throw new DerError(`expected ${what}`, t?.start ?? outer.end);
      return t;
    };
    const serial = readUnsignedInteger(tbs, need(f[i], TAG.INTEGER, 'serialNumber'));
    const alg = childList(tbs, need(f[i + 1], TAG.SEQUENCE, 'signature AlgorithmIdentifier'));
    const issuer = need(f[i + 2], TAG.SEQUENCE, 'issuer');
    checkName(tbs, issuer, 'issuer');
    const validity = childList(tbs, need(f[i + 3], TAG.SEQUENCE, 'validity'));
    const subject = need(f[i + 4], TAG.SEQUENCE, 'subject');
    checkName(tbs, subject, 'subject');
    const spki = need(f[i + 5], TAG.SEQUENCE, 'subjectPublicKeyInfo');
    let extensions: ExtensionView[] = [];
    for (const t of f.slice(i + 6)) {
      if (t.tag === 0xa3) {
        const [seq] = childList(tbs, t);
        extensions = readExtensions(tbs, seq!);
      } else if (t.tag !== 0x81 && t.tag !== 0x82) throw new DerError(`unexpected field tag 0x${t.tag.toString(16)}`, t.start);
    }
    return {
      version,
      serial,
      signatureAlgorithmOid: readOid(tbs, alg[0]!),
      issuer: bytesOf(tbs, issuer),
      notBefore: readTime(tbs, validity[0]!),
      notAfter: readTime(tbs, validity[1]!),
      subject: bytesOf(tbs, subject),
      subjectPublicKeyInfo: bytesOf(tbs, spki),
      extensions,
    };
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('CERTIFICATE_MALFORMED', `not a DER TBSCertificate: ${(e as Error).message}`, {}, { cause: e });
  }
}

/** The TBS view of a whole certificate (DER). */
export function readCertificate(der: Uint8Array): TbsCertificateView & { tbs: Uint8Array; signature: Uint8Array } {
  let parts;
  try {
    parts = splitSigned(der);
  } catch (e) {
    throw new PkiError('CERTIFICATE_MALFORMED', `not a DER certificate: ${(e as Error).message}`, {}, { cause: e });
  }
  return { ...readTbsCertificate(parts.tbs), tbs: parts.tbs, signature: parts.signature };
}

export function findExtension(view: { extensions: ExtensionView[] }, oid: string): ExtensionView | undefined {
  return view.extensions.find((e) => e.oid === oid);
}
