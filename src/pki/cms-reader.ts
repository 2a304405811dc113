import { bytesOf, checkName, contentOf, DerError, readInteger, readOid, readSingle, readTime, readTlv, TAG, type Tlv } from './der.js';
import { PkiError } from './errors.js';

/**
 * A fast, read-only view of a CMS SignedData (RFC 5652 §5) for the verifier's hot path: one pass over the
 * DER with `der.ts`, byte ranges instead of objects. Certificates are handed on as their DER (the verifier
 * parses each once, by its bytes, with the typed schema), revocation information is skipped, the signed
 * attributes are kept as the bytes the signature covers (re-tagged as SET, RFC 5652 §5.4).
 *
 * Strict DER (definite minimal lengths, no trailing bytes, the fields in RFC 5652's order, no unknown fields);
 * anything else throws a PkiError CMS_MALFORMED. Whatever it accepts, @peculiar/asn1-cms reads the same way,
 * field for field: tested on our signer's and OpenSSL's messages and fuzzed differentially (target
 * `der-cms`, docs/reliability.md).
 */

export const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';

export interface AlgorithmView {
  oid: string;
  /** The parameters' complete DER, or null when absent or NULL (as @peculiar/asn1-x509 reads them). */
  parameters: Uint8Array | null;
}

export interface AttributeView {
  oid: string;
  /** Each value's complete DER, in the order received. */
  values: Uint8Array[];
}

export type SignerIdView = { issuer: Uint8Array; serial: Uint8Array } | { subjectKeyIdentifier: Uint8Array };

export interface SignerInfoView {
  version: number;
  /** issuerAndSerialNumber (issuer Name DER, serial INTEGER content as encoded) or [0] subjectKeyIdentifier. */
  sid: SignerIdView;
  digestAlgorithm: AlgorithmView;
  /** The signed attributes: `der` is the SET (tag 0x31) the signature covers; null when absent. */
  signedAttrs: { der: Buffer; attributes: AttributeView[] } | null;
  signatureAlgorithm: AlgorithmView;
  signature: Uint8Array;
  unsignedAttrs: AttributeView[] | null;
}

export interface SignedDataView {
  version: number;
  digestAlgorithms: AlgorithmView[];
  eContentType: string;
  /** The encapsulated content's octets (a constructed OCTET STRING's segments joined), or null when detached. */
  eContent: Uint8Array | null;
  /** Each CertificateChoices as its complete DER (a plain certificate starts with 0x30). */
  certificates: Uint8Array[];
  /** Each RevocationInfoChoice as its complete DER (framing checked, not read: the verifier fetches its own). */
  crls: Uint8Array[];
  signerInfos: SignerInfoView[];
}

/** Reads a DER ContentInfo holding a SignedData. Throws PkiError CMS_MALFORMED for anything else. */
export function readSignedData(der: Uint8Array): SignedDataView {
  try {
    return signedData(der);
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('CMS_MALFORMED', `not a DER CMS SignedData: ${(e as Error).message}`, {}, { cause: e });
  }
}

/** The TLVs directly inside a constructed value (no generator: this is the hot path). */
function kids(buf: Uint8Array, parent: Tlv, what: string): Tlv[] {
  if ((parent.tag & 0x20) === 0) throw new DerError(`${what} is not constructed`, parent.start);
  const out: Tlv[] = [];
  let o = parent.contentStart;
  while (o < parent.end) {
    const t = readTlv(buf, o, parent.end);
    out.push(t);
    o = t.end;
  }
  return out;
}

/**
 * A value read as ANY (parameters, attribute values): every constructed value in it well framed with DER
 * lengths, and the object identifiers and times in it well formed (asn1js, under the library, decodes those).
 */
function framing(buf: Uint8Array, t: Tlv, depth: number): void {
  if (t.tag === TAG.OID) readOid(buf, t);
  else if (t.tag === TAG.UTC_TIME || t.tag === TAG.GENERALIZED_TIME) readTime(buf, t);
  if ((t.tag & 0x20) === 0) return;
  if (depth > 32) throw new DerError('values nested too deeply', t.start);
  let o = t.contentStart;
  while (o < t.end) {
    const c = readTlv(buf, o, t.end);
    framing(buf, c, depth + 1);
    o = c.end;
  }
}

function need(t: Tlv | undefined, tag: number, what: string, at: number): Tlv {
  if (!t) throw new DerError(`missing ${what}`, at);
  if (t.tag !== tag) throw new DerError(`expected ${what} (tag 0x${tag.toString(16)}), found tag 0x${t.tag.toString(16)}`, t.start);
  return t;
}

/** CMSVersion: a small non-negative INTEGER (RFC 5652 has 0–5). */
function version(buf: Uint8Array, t: Tlv | undefined, what: string, at: number): number {
  const v = readInteger(buf, need(t, TAG.INTEGER, what, at));
  if (v < 0n || v > 255n) throw new DerError(`${what} ${v} is out of range`, t!.start);
  return Number(v);
}

function algorithm(buf: Uint8Array, t: Tlv | undefined, what: string, at: number): AlgorithmView {
  const seq = need(t, TAG.SEQUENCE, what, at);
  const f = kids(buf, seq, what);
  if (f.length < 1 || f.length > 2) throw new DerError(`${what} is not { algorithm, parameters }`, seq.start);
  // NULL parameters read as absent, as @peculiar/asn1-x509's AlgorithmIdentifier has them
  const p = f[1];
  if (p) framing(buf, p, 0);
  return { oid: readOid(buf, f[0]!), parameters: p && !(p.tag === TAG.NULL && p.end === p.contentStart) ? bytesOf(buf, p) : null };
}

/** `SET OF Attribute`, `Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF ANY }`. */
function attributes(buf: Uint8Array, set: Tlv, what: string): AttributeView[] {
  const out: AttributeView[] = [];
  for (const a of kids(buf, set, what)) {
    if (a.tag !== TAG.SEQUENCE) throw new DerError(`${what} holds an attribute that is not a SEQUENCE`, a.start);
    const f = kids(buf, a, 'Attribute');
    if (f.length !== 2) throw new DerError('an attribute is not { attrType, attrValues }', a.start);
    const oid = readOid(buf, f[0]!);
    const values = kids(buf, need(f[1], TAG.SET, 'attrValues', a.end), 'attrValues').map((v) => (framing(buf, v, 0), bytesOf(buf, v)));
    out.push({ oid, values });
  }
  return out;
}

function signerInfo(buf: Uint8Array, t: Tlv): SignerInfoView {
  if (t.tag !== TAG.SEQUENCE) throw new DerError('SignerInfo is not a SEQUENCE', t.start);
  const f = kids(buf, t, 'SignerInfo');
  let i = 0;
  const v = version(buf, f[i++], 'SignerInfo version', t.end);
  const s = f[i++];
  let sid: SignerIdView;
  if (s?.tag === TAG.SEQUENCE) {
    // IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber CertificateSerialNumber }
    const p = kids(buf, s, 'IssuerAndSerialNumber');
    if (p.length !== 2) throw new DerError('IssuerAndSerialNumber is not { issuer, serialNumber }', s.start);
    checkName(buf, p[0]!, 'issuer');
    const serial = need(p[1], TAG.INTEGER, 'serialNumber', s.end);
    readInteger(buf, serial); // minimal encoding
    sid = { issuer: bytesOf(buf, p[0]!), serial: contentOf(buf, serial) };
  } else if (s?.tag === 0x80) {
    sid = { subjectKeyIdentifier: contentOf(buf, s) };
  } else throw new DerError('SignerIdentifier is neither issuerAndSerialNumber nor [0] subjectKeyIdentifier', s?.start ?? t.end);
  const digestAlgorithm = algorithm(buf, f[i++], 'digestAlgorithm', t.end);
  let signedAttrs: SignerInfoView['signedAttrs'] = null;
  if (f[i]?.tag === 0xa0) {
    const a = f[i++]!;
    const der = Buffer.from(bytesOf(buf, a));
    der[0] = TAG.SET; // signed as SET OF, carried as [0] IMPLICIT (RFC 5652 §5.4)
    signedAttrs = { der, attributes: attributes(buf, a, 'signedAttrs') };
  }
  const signatureAlgorithm = algorithm(buf, f[i++], 'signatureAlgorithm', t.end);
  const signature = contentOf(buf, need(f[i++], TAG.OCTET_STRING, 'signature OCTET STRING', t.end));
  let unsignedAttrs: AttributeView[] | null = null;
  if (f[i]?.tag === 0xa1) unsignedAttrs = attributes(buf, f[i++]!, 'unsignedAttrs');
  if (i < f.length) throw new DerError(`unexpected field (tag 0x${f[i]!.tag.toString(16)}) in SignerInfo`, f[i]!.start);
  return { version: v, sid, digestAlgorithm, signedAttrs, signatureAlgorithm, signature, unsignedAttrs };
}

/** `[0] EXPLICIT OCTET STRING`: primitive, or (BER, as some signers write it) constructed of primitive segments. */
function eContentOf(buf: Uint8Array, wrapper: Tlv): Uint8Array {
  const inner = kids(buf, wrapper, 'eContent');
  if (inner.length !== 1) throw new DerError('eContent [0] does not hold exactly one value', wrapper.start);
  const os = inner[0]!;
  if (os.tag === TAG.OCTET_STRING) return contentOf(buf, os);
  if (os.tag !== (TAG.OCTET_STRING | 0x20)) throw new DerError('eContent is not an OCTET STRING', os.start);
  const parts = kids(buf, os, 'eContent');
  for (const p of parts) if (p.tag !== TAG.OCTET_STRING) throw new DerError('a segment of the constructed eContent is not a primitive OCTET STRING', p.start);
  return Buffer.concat(parts.map((p) => contentOf(buf, p)));
}

function signedData(buf: Uint8Array): SignedDataView {
  const ci = readSingle(buf);
  if (ci.tag !== TAG.SEQUENCE) throw new DerError('ContentInfo is not a SEQUENCE', 0);
  const top = kids(buf, ci, 'ContentInfo');
  if (top.length !== 2) throw new DerError('ContentInfo is not { contentType, content }', 0);
  const contentType = readOid(buf, top[0]!);
  if (contentType !== OID_SIGNED_DATA) throw new PkiError('CMS_MALFORMED', `content type ${contentType} is not signedData`);
  const wrapper = need(top[1], 0xa0, 'content [0]', ci.end);
  const inner = kids(buf, wrapper, 'content [0]');
  if (inner.length !== 1) throw new DerError('content [0] does not hold exactly one value', wrapper.start);
  const sd = need(inner[0], TAG.SEQUENCE, 'SignedData', wrapper.contentStart);
  const f = kids(buf, sd, 'SignedData');
  let i = 0;
  const v = version(buf, f[i++], 'SignedData version', sd.end);
  const digestAlgorithms = kids(buf, need(f[i++], TAG.SET, 'digestAlgorithms SET', sd.end), 'digestAlgorithms').map((t) => algorithm(buf, t, 'DigestAlgorithmIdentifier', t.start));
  const eci = kids(buf, need(f[i++], TAG.SEQUENCE, 'encapContentInfo', sd.end), 'encapContentInfo');
  if (eci.length < 1 || eci.length > 2) throw new DerError('encapContentInfo is not { eContentType, eContent }', f[i - 1]!.start);
  const eContentType = readOid(buf, eci[0]!);
  const eContent = eci[1] ? eContentOf(buf, need(eci[1], 0xa0, 'eContent [0]', f[i - 1]!.end)) : null;
  let certificates: Uint8Array[] = [];
  if (f[i]?.tag === 0xa0) certificates = kids(buf, f[i++]!, 'certificates').map((t) => bytesOf(buf, t));
  let crls: Uint8Array[] = [];
  if (f[i]?.tag === 0xa1) crls = kids(buf, f[i++]!, 'crls').map((t) => bytesOf(buf, t));
  const signerInfos = kids(buf, need(f[i++], TAG.SET, 'signerInfos SET', sd.end), 'signerInfos').map((t) => signerInfo(buf, t));
  if (i < f.length) throw new DerError(`unexpected field (tag 0x${f[i]!.tag.toString(16)}) in SignedData`, f[i]!.start);
  return { version: v, digestAlgorithms, eContentType, eContent, certificates, crls, signerInfos };
}
