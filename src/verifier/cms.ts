import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import { Attribute, id_contentType, id_messageDigest, id_signedData, id_signingTime } from '@peculiar/asn1-cms';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Name, Time } from '@peculiar/asn1-x509';
import { SigningCertificateV2, OID_SIGNING_CERTIFICATE_V2 } from '../pki/cms-sign.js';
import { SignedAttributeSet, SignedContentInfo, type SignedDataWithRawCertificates } from '../pki/cms-schema.js';
import { readSignedData, type AlgorithmView, type SignedDataView, type SignerInfoView } from '../pki/cms-reader.js';
import { readOid, readSingle, readTime, TAG } from '../pki/der.js';
import { PkiError } from '../pki/errors.js';
import { KEY_USAGE, parseCertificate, toArrayBuffer, type ParsedCertificate } from './certificate.js';
import { algorithmName, hashName, verifySignatureWith } from './signatures.js';
import { BoundedMap } from './memo.js';
import { nameKey } from './names.js';
import type { ReasonCode } from './types.js';

/**
 * CMS SignedData (RFC 5652 §5) from untrusted bytes — DER through the fast reader (pki/cms-reader.ts, fuzzed
 * differentially against @peculiar/asn1-cms), anything else through the typed asn1-cms schemas: one signer,
 * found by issuer+serial or subject key identifier among the certificates in the message; signed attributes
 * content-type, message-digest, signing-time and ESS signing-certificate-v2 (RFC 5035); the signature over
 * the attributes' SET encoding by RSA PKCS#1 v1.5, RSA-PSS or ECDSA.
 */
export interface CmsCheck {
  problems: { code: ReasonCode; message: string }[];
  signer?: ParsedCertificate;
  certificates: ParsedCertificate[];
  signingTime: Date | null;
  mode: 'detached' | 'enveloping' | null;
  algorithm: string | null;
  /** The content the signature was checked over: a view of the bytes given, not a copy. */
  content: Buffer | null;
}

export class MalformedCms extends Error {}

const MAX_BYTES = 16 * 1024 * 1024;

/** DER as given (a view: nothing here writes to it, and the message can be large), or PEM decoded. */
function pemToDer(input: Uint8Array): Buffer {
  const bytes = view(input);
  if (!bytes.subarray(0, 64).includes('-----BEGIN', 0, 'latin1')) return bytes;
  const m = /-----BEGIN (?:CMS|PKCS7)-----([\s\S]*?)-----END (?:CMS|PKCS7)-----/.exec(Buffer.from(input).toString('latin1'));
  if (!m) throw new MalformedCms('a PEM file without a CMS or PKCS7 block');
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

function eContentBytes(sd: SignedDataWithRawCertificates): Buffer | null {
  const e = sd.encapContentInfo.eContent;
  if (!e) return null;
  if (e.single) return Buffer.from(e.single.buffer);
  if (e.any) {
    const parsed = asn1js.fromBER(e.any);
    if (parsed.offset === -1 || !(parsed.result instanceof asn1js.OctetString)) throw new MalformedCms('eContent is not an OCTET STRING');
    const os = parsed.result;
    if (!os.idBlock.isConstructed) return Buffer.from(os.valueBlock.valueHexView);
    return Buffer.concat((os.valueBlock.value as asn1js.OctetString[]).map((p) => Buffer.from(p.valueBlock.valueHexView)));
  }
  return null;
}

/**
 * The envelope: DER (what our signer, OpenSSL without -stream and most signers write) through the fast reader
 * (pki/cms-reader.ts, fuzzed differentially against @peculiar/asn1-cms); anything it refuses — BER with
 * indefinite lengths from a streaming signer (`openssl cms -sign -stream`), or broken bytes — through the
 * typed asn1-cms schemas as before, so what verifies and the reason given for what does not are unchanged.
 */
function readEnvelope(der: Buffer): SignedDataView {
  try {
    return readSignedData(der);
  } catch (e) {
    if (!(e instanceof PkiError)) throw e;
  }
  let sd: SignedDataWithRawCertificates;
  try {
    const info = AsnConvert.parse(der, SignedContentInfo);
    if (info.contentType !== id_signedData) throw new Error(`content type ${info.contentType} is not signedData`);
    sd = info.content;
  } catch (e) {
    throw new MalformedCms(`not a CMS SignedData: ${(e as Error).message}`);
  }
  const alg = (a: AlgorithmIdentifier): AlgorithmView => ({ oid: a.algorithm, parameters: a.parameters ? new Uint8Array(a.parameters) : null });
  const attrs = (list: Attribute[]) => list.map((a) => ({ oid: a.attrType, values: a.attrValues.map((v) => new Uint8Array(v)) }));
  return {
    version: sd.version,
    digestAlgorithms: sd.digestAlgorithms.map(alg),
    eContentType: sd.encapContentInfo.eContentType,
    eContent: eContentBytes(sd),
    certificates: (sd.certificates ?? []).map((c) => new Uint8Array(c)),
    crls: (sd.crls ?? []).map((c) => new Uint8Array(c)),
    signerInfos: sd.signerInfos.map((si) => {
      const ias = si.sid.issuerAndSerialNumber;
      const ski = si.sid.subjectKeyIdentifier;
      return {
        version: si.version,
        sid: ias ? { issuer: new Uint8Array(AsnConvert.serialize(ias.issuer)), serial: new Uint8Array(ias.serialNumber) } : { subjectKeyIdentifier: ski ? new Uint8Array(ski.buffer) : new Uint8Array(0) },
        digestAlgorithm: alg(si.digestAlgorithm),
        // Signed as SET OF, carried as [0] IMPLICIT (RFC 5652 §5.4): encoded again in the order received (a
        // BER-encoded SignerInfo fails the signature check, as DER is what RFC 5652 asks to be signed).
        signedAttrs: si.signedAttrs ? { der: Buffer.from(AsnConvert.serialize(new SignedAttributeSet(si.signedAttrs))), attributes: attrs(si.signedAttrs) } : null,
        signatureAlgorithm: alg(si.signatureAlgorithm),
        signature: new Uint8Array(si.signature.buffer),
        unsignedAttrs: si.unsignedAttrs ? attrs(si.unsignedAttrs) : null,
      };
    }),
  };
}

/** Comparison keys of the issuer names signers give (a handful of CAs, asked again and again). */
const issuerKeys = new BoundedMap<string, string>(1000);

function issuerKeyOf(issuer: Uint8Array): string {
  return issuerKeys.get(Buffer.from(issuer.buffer, issuer.byteOffset, issuer.byteLength).toString('latin1'), () => {
    try {
      return nameKey(AsnConvert.parse(issuer, Name));
    } catch (e) {
      throw new MalformedCms(`the signer's issuer is not a Name: ${(e as Error).message}`);
    }
  });
}

function findSigner(si: SignerInfoView, certs: ParsedCertificate[]): ParsedCertificate | undefined {
  const sid = si.sid;
  if ('issuer' in sid) {
    const serial = Buffer.from(sid.serial).toString('hex').toUpperCase();
    const candidates = certs.filter((c) => c.serialHex === serial);
    if (candidates.length === 0) return undefined;
    const issuer = issuerKeyOf(sid.issuer);
    return candidates.find((c) => c.issuerKey === issuer);
  }
  const id = Buffer.from(sid.subjectKeyIdentifier);
  return certs.find((c) => c.subjectKeyId?.equals(id));
}

const algorithmIdentifier = (a: AlgorithmView) => new AlgorithmIdentifier({ algorithm: a.oid, parameters: a.parameters ? toArrayBuffer(a.parameters) : null });

export function checkCms(input: Uint8Array, detachedContent: Uint8Array | undefined): CmsCheck {
  const out: CmsCheck = { problems: [], certificates: [], signingTime: null, mode: null, algorithm: null, content: null };
  if (input.length === 0 || input.length > MAX_BYTES) throw new MalformedCms(`a signature of ${input.length} bytes is not one this verifier accepts`);
  const sd = readEnvelope(pemToDer(input));
  for (const der of sd.certificates) {
    if (der[0] !== 0x30) continue; // another CertificateChoices than a plain certificate ([0]…[3] IMPLICIT)
    out.certificates.push(parseCertificate(der));
  }
  if (sd.signerInfos.length !== 1) throw new MalformedCms(`${sd.signerInfos.length} signers; exactly one is expected`);
  const si = sd.signerInfos[0]!;
  const embedded = sd.eContent ? Buffer.from(sd.eContent.buffer, sd.eContent.byteOffset, sd.eContent.byteLength) : null;
  let content: Buffer;
  if (embedded && detachedContent) {
    out.mode = 'enveloping';
    content = embedded;
    if (!embedded.equals(detachedContent)) problem(out, 'content-altered', 'the content given differs from the content the signature carries');
  } else if (embedded) {
    out.mode = 'enveloping';
    content = embedded;
  } else if (detachedContent) {
    out.mode = 'detached';
    content = view(detachedContent);
  } else throw new MalformedCms('the signature is detached and no content was given to check it against');
  out.content = content;

  const digestOid = si.digestAlgorithm.oid;
  const hash = hashName(digestOid);
  if (!hash) throw new MalformedCms(`digest algorithm ${digestOid} is not supported`);
  const signatureAlgorithm = algorithmIdentifier(si.signatureAlgorithm);
  out.algorithm = algorithmName(signatureAlgorithm, digestOid);
  const signer = findSigner(si, out.certificates);
  if (!signer) throw new MalformedCms('the SignedData does not carry the signer\u2019s certificate');
  out.signer = signer;

  let signedBytes: Buffer;
  if (si.signedAttrs) {
    const signedAttrs = si.signedAttrs;
    const ct = signedAttribute(signedAttrs.attributes, id_contentType);
    if (!ct) throw new MalformedCms('the signed attributes lack content-type');
    if (objectId(ct) !== sd.eContentType) problem(out, 'signature', 'the signed content-type differs from the content\u2019s type');
    const md = signedAttribute(signedAttrs.attributes, id_messageDigest);
    if (!md) throw new MalformedCms('the signed attributes lack message-digest');
    if (!octets(md).equals(createHash(hash).update(content).digest())) problem(out, 'content-altered', 'the content is not what was signed (message digest differs)');
    const st = signedAttribute(signedAttrs.attributes, id_signingTime);
    if (st) out.signingTime = timeOf(st);
    const scv2 = signedAttribute(signedAttrs.attributes, OID_SIGNING_CERTIFICATE_V2);
    if (scv2) {
      const first = signingCertificate(scv2);
      const h = first?.hashOid ? hashName(first.hashOid) : 'sha256';
      if (!first || !h || !first.certHash.equals(certificateHash(signer, h)))
        problem(out, 'signature', 'signing-certificate-v2 names another certificate than the one that signed');
    }
    signedBytes = signedAttrs.der;
  } else {
    if (sd.eContentType !== '1.2.840.113549.1.7.1') problem(out, 'signature', 'no signed attributes, yet the content is not id-data');
    signedBytes = content;
  }
  let key;
  try {
    key = signer.publicKey();
  } catch (e) {
    throw new MalformedCms((e as Error).message);
  }
  if (!verifySignatureWith(signatureAlgorithm, signedBytes, si.signature, key, digestOid))
    problem(out, 'signature', `the signature does not verify with the key of ${signer.subjectText}`);
  const ku = signer.keyUsage;
  if (ku !== undefined && !(ku & (KEY_USAGE.digitalSignature | KEY_USAGE.nonRepudiation)))
    problem(out, 'key-usage', `the key of ${signer.subjectText} is not for signatures (keyUsage lacks digitalSignature and nonRepudiation)`);
  return out;
}

/**
 * signing-certificate-v2's first ESSCertIDv2 (hash algorithm, hash), read with the typed schema once per value:
 * a signer sends the same value with every message, and the schema's GeneralNames make it the slowest part.
 */
const signingCertificates = new BoundedMap<string, { hashOid: string | undefined; certHash: Buffer } | null>(1000);
function signingCertificate(value: Buffer): { hashOid: string | undefined; certHash: Buffer } | null {
  return signingCertificates.get(value.toString('latin1'), () => {
    const first = AsnConvert.parse(value, SigningCertificateV2).certs[0];
    return first ? { hashOid: first.hashAlgorithm?.algorithm, certHash: Buffer.from(first.certHash.buffer) } : null;
  });
}

/** The signer certificate's hash for signing-certificate-v2, once per certificate and hash. */
const certificateHashes = new WeakMap<ParsedCertificate, Map<string, Buffer>>();
function certificateHash(c: ParsedCertificate, hash: string): Buffer {
  let m = certificateHashes.get(c);
  if (!m) certificateHashes.set(c, (m = new Map()));
  let h = m.get(hash);
  if (!h) m.set(hash, (h = createHash(hash).update(c.der).digest()));
  return h;
}

function problem(out: CmsCheck, code: ReasonCode, message: string): void {
  out.problems.push({ code, message });
}

/** The one value of a signed attribute, or undefined; an attribute twice (or with several values) is malformed. */
function signedAttribute(attributes: readonly { oid: string; values: Uint8Array[] }[], type: string): Buffer | undefined {
  let found: Uint8Array[] | undefined;
  for (const a of attributes) {
    if (a.oid !== type) continue;
    if (found || a.values.length !== 1) throw new MalformedCms(`the signed attribute ${type} appears more than once`);
    found = a.values;
  }
  return found ? view(found[0]!) : undefined;
}

/** The same bytes as a Buffer, not copied. */
function view(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** message-digest's value: `MessageDigest ::= OCTET STRING`. */
function octets(der: Buffer): Buffer {
  try {
    const t = readSingle(der);
    if (t.tag === TAG.OCTET_STRING) return der.subarray(t.contentStart, t.end);
  } catch {
    /* read by the schema below */
  }
  return Buffer.from(AsnConvert.parse(der, OctetString).buffer);
}

/** signing-time's value: `Time ::= CHOICE { utcTime, generalTime }`. */
function timeOf(der: Buffer): Date {
  try {
    return readTime(der, readSingle(der));
  } catch {
    return AsnConvert.parse(der, Time).getTime();
  }
}

/** An OBJECT IDENTIFIER value on its own (content-type's value), dotted. */
function objectId(der: Buffer): string {
  try {
    return readOid(der, readSingle(der));
  } catch {
    throw new MalformedCms('content-type is not an OBJECT IDENTIFIER');
  }
}
