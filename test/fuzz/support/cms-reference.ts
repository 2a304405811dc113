/**
 * The typed reference the fast CMS reader (src/pki/cms-reader.ts) is held to: @peculiar/asn1-cms reads the
 * same bytes and every field must come out the same — version, digest algorithms, eContentType and eContent,
 * certificates (as bytes), CRL count, each SignerInfo's version, sid, algorithms with their parameters, the
 * signed attributes (types, values, and the SET bytes the signature covers), signature, unsigned attributes.
 *
 * Certificates and CRLs are opaque to the reader: it hands each certificate on as bytes and the verifier parses
 * it with @peculiar/asn1-x509 (fuzzed as `der-certificate`); CRLs in a message are not used. The library reads
 * the message with each of those elements masked (turned into an OCTET STRING of zeros of the same size, at
 * the place the reader found it), so it judges the envelope only, with the asn1-cms classes and the
 * CertificateSet taken element by element as ANY — the schema the verifier used before the fast reader.
 * Used by src/pki/cms-reader.test.ts and the `der-cms` fuzz target.
 */
import * as asn1js from 'asn1js';
import { ContentInfo, id_signedData, type Attribute, type SignerInfo } from '@peculiar/asn1-cms';
import { AsnConvert } from '@peculiar/asn1-schema';
import type { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import type { AlgorithmView, AttributeView, SignedDataView } from '../../../src/pki/cms-reader.js';
import { SignedAttributeSet, SignedDataWithRawCertificates } from '../../../src/pki/cms-schema.js';
import { readTlv } from '../../../src/pki/der.js';

/** The library's reading; throws where the library refuses. */
export function referenceSignedData(der: Uint8Array): SignedDataWithRawCertificates {
  const info = AsnConvert.parse(der, ContentInfo);
  if (info.contentType !== id_signedData) throw new Error(`content type ${info.contentType}`);
  return AsnConvert.parse(info.content, SignedDataWithRawCertificates);
}

const hex = (b: ArrayBuffer | Uint8Array | null | undefined) => (b ? Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('hex') : 'absent');

/** eContent as the verifier read it with asn1js (primitive, or a constructed OCTET STRING's segments). */
function libraryEContent(sd: SignedDataWithRawCertificates): string {
  const e = sd.encapContentInfo.eContent;
  if (!e) return 'absent';
  if (e.single) return hex(e.single.buffer);
  if (e.any) {
    const parsed = asn1js.fromBER(e.any);
    if (parsed.offset === -1 || !(parsed.result instanceof asn1js.OctetString)) return 'not an OCTET STRING';
    const os = parsed.result;
    if (!os.idBlock.isConstructed) return hex(os.valueBlock.valueHexView);
    return hex(Buffer.concat((os.valueBlock.value as asn1js.OctetString[]).map((p) => Buffer.from(p.valueBlock.valueHexView))));
  }
  return 'absent';
}

function algorithmText(a: AlgorithmIdentifier): string {
  return `${a.algorithm}(${hex(a.parameters ?? null)})`;
}
function ourAlgorithm(a: AlgorithmView): string {
  return `${a.oid}(${hex(a.parameters)})`;
}
function libAttributes(attrs: Attribute[] | undefined): string {
  return attrs ? attrs.map((a) => `${a.attrType}=[${a.attrValues.map(hex).join(',')}]`).join(';') : 'absent';
}
function ourAttributes(attrs: AttributeView[] | null | undefined): string {
  return attrs ? attrs.map((a) => `${a.oid}=[${a.values.map(hex).join(',')}]`).join(';') : 'absent';
}

function libSigner(si: SignerInfo): Record<string, string> {
  const ias = si.sid.issuerAndSerialNumber;
  return {
    version: String(si.version),
    sid: ias ? `ias:${hex(AsnConvert.serialize(ias.issuer))}/${hex(ias.serialNumber)}` : si.sid.subjectKeyIdentifier ? `ski:${hex(si.sid.subjectKeyIdentifier.buffer)}` : 'none',
    digestAlgorithm: algorithmText(si.digestAlgorithm),
    signedAttrs: libAttributes(si.signedAttrs),
    signedBytes: si.signedAttrs ? hex(AsnConvert.serialize(new SignedAttributeSet(si.signedAttrs))) : 'absent',
    signatureAlgorithm: algorithmText(si.signatureAlgorithm),
    signature: hex(si.signature.buffer),
    unsignedAttrs: libAttributes(si.unsignedAttrs),
  };
}

function ourSigner(si: SignedDataView['signerInfos'][number]): Record<string, string> {
  return {
    version: String(si.version),
    sid: 'issuer' in si.sid ? `ias:${hex(si.sid.issuer)}/${hex(si.sid.serial)}` : `ski:${hex(si.sid.subjectKeyIdentifier)}`,
    digestAlgorithm: ourAlgorithm(si.digestAlgorithm),
    signedAttrs: ourAttributes(si.signedAttrs?.attributes),
    signedBytes: si.signedAttrs ? hex(si.signedAttrs.der) : 'absent',
    signatureAlgorithm: ourAlgorithm(si.signatureAlgorithm),
    signature: hex(si.signature),
    unsignedAttrs: ourAttributes(si.unsignedAttrs),
  };
}

/** Every field as text, the library's reading. */
export function libraryFields(der: Uint8Array): Record<string, string> {
  const sd = referenceSignedData(der);
  const out: Record<string, string> = {
    version: String(sd.version),
    digestAlgorithms: sd.digestAlgorithms.map(algorithmText).join(','),
    eContentType: sd.encapContentInfo.eContentType,
    eContent: libraryEContent(sd),
    certificates: (sd.certificates ?? []).map(hex).join(','),
    crls: (sd.crls ?? []).map(hex).join(','),
    signerCount: String(sd.signerInfos.length),
  };
  sd.signerInfos.forEach((si, i) => {
    for (const [k, v] of Object.entries(libSigner(si))) out[`signer${i}.${k}`] = v;
  });
  return out;
}

/** Every field as text, the fast reader's reading. */
export function readerFields(view: SignedDataView): Record<string, string> {
  const out: Record<string, string> = {
    version: String(view.version),
    digestAlgorithms: view.digestAlgorithms.map(ourAlgorithm).join(','),
    eContentType: view.eContentType,
    eContent: hex(view.eContent),
    certificates: view.certificates.map((c) => hex(masked(c))).join(','),
    crls: view.crls.map((c) => hex(masked(c))).join(','),
    signerCount: String(view.signerInfos.length),
  };
  view.signerInfos.forEach((si, i) => {
    for (const [k, v] of Object.entries(ourSigner(si))) out[`signer${i}.${k}`] = v;
  });
  return out;
}

/** An opaque element as the library is shown it: an OCTET STRING of zeros, the same size as the element. */
function masked(element: Uint8Array): Uint8Array {
  const out = new Uint8Array(element.length);
  const header = readTlv(element, 0).contentStart;
  out.set(element.subarray(0, header));
  out[0] = 0x04;
  return out;
}

/** The message with the reader's opaque elements (certificates, CRLs) masked where the reader found them. */
function maskOpaque(der: Uint8Array, view: SignedDataView): Uint8Array {
  const out = new Uint8Array(der);
  for (const e of [...view.certificates, ...view.crls]) {
    const at = e.byteOffset - der.byteOffset;
    if (e.buffer !== der.buffer || at < 0 || at + e.length > der.length) throw new Error('an opaque element is not a view of the message');
    out.set(masked(e), at);
  }
  return out;
}

/** The fields on which the reader and the library differ (empty when they agree); throws if the library refuses. */
export function cmsDifferences(der: Uint8Array, view: SignedDataView): string[] {
  const lib = libraryFields(maskOpaque(der, view));
  const ours = readerFields(view);
  const keys = new Set([...Object.keys(lib), ...Object.keys(ours)]);
  return [...keys].filter((k) => lib[k] !== ours[k]).map((k) => `${k}: reader ${ours[k]?.slice(0, 120)}, library ${lib[k]?.slice(0, 120)}`);
}
