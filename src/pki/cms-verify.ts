import { createHash, X509Certificate } from 'node:crypto';
import { ContentInfo, SignedData, id_contentType, id_messageDigest, id_signedData } from '@peculiar/asn1-cms';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { bytesOf, childList, readSingle, TAG } from './der.js';
import { PkiError } from './errors.js';
import { OID_RSA_ENCRYPTION, OID_SHA256, OID_SHA256_WITH_RSA } from './oids.js';
import { verifySignature } from './signed.js';

/**
 * Checks a detached CMS SignedData (RFC 5652 §5.4–5.6) over given content: one signer, SHA-256, signed
 * attributes with content-type and a message digest equal to the content's, and the signature (RSA PKCS#1
 * v1.5) over the attributes' DER SET by the key of the signer certificate carried in the SignedData. The
 * input is untrusted: it is parsed with the typed @peculiar/asn1-cms schemas, and every failure is a
 * PkiError CMS_SIGNATURE_INVALID with the reason. Returns the signer's certificate; trusting it (path,
 * revocation) is the caller's business.
 */
export interface DetachedSignatureCheck {
  /** DER of the signer's certificate as carried in the SignedData. */
  signerCertificate: Buffer;
}

const MAX_CMS_BYTES = 64 * 1024;

function invalid(message: string, cause?: unknown): PkiError {
  return new PkiError('CMS_SIGNATURE_INVALID', message, {}, cause ? { cause } : undefined);
}

export function verifyDetachedSignature(cms: Uint8Array, content: Uint8Array): DetachedSignatureCheck {
  if (cms.length === 0 || cms.length > MAX_CMS_BYTES) throw invalid(`a signature of ${cms.length} bytes is not one this check accepts`);
  let signedData: SignedData;
  try {
    // One DER object and nothing after it.
    const outer = readSingle(cms);
    if (outer.tag !== TAG.SEQUENCE) throw new Error('not a SEQUENCE');
    const info = AsnConvert.parse(cms, ContentInfo);
    if (info.contentType !== id_signedData) throw new Error(`content type ${info.contentType} is not signedData`);
    signedData = AsnConvert.parse(info.content, SignedData);
  } catch (e) {
    throw invalid(`not a CMS SignedData: ${(e as Error).message}`, e);
  }
  if (signedData.encapContentInfo.eContent) throw invalid('the signature is not detached (it carries its content)');
  if (signedData.signerInfos.length !== 1) throw invalid(`${signedData.signerInfos.length} signers; exactly one is expected`);
  const si = signedData.signerInfos[0]!;
  if (si.digestAlgorithm.algorithm !== OID_SHA256) throw invalid(`digest algorithm ${si.digestAlgorithm.algorithm} is not SHA-256`);
  if (si.signatureAlgorithm.algorithm !== OID_RSA_ENCRYPTION && si.signatureAlgorithm.algorithm !== OID_SHA256_WITH_RSA)
    throw invalid(`signature algorithm ${si.signatureAlgorithm.algorithm} is not RSA PKCS#1 v1.5`);
  if (!si.signedAttrs) throw invalid('no signed attributes');
  const attr = (type: string) => {
    const found = si.signedAttrs!.filter((a) => a.attrType === type);
    if (found.length !== 1 || found[0]!.attrValues.length !== 1) throw invalid(`the signed attribute ${type} must appear exactly once with one value`);
    return Buffer.from(found[0]!.attrValues[0]!);
  };
  // content-type id-data (06 09 2A 86 48 86 F7 0D 01 07 01), message-digest OCTET STRING of SHA-256(content)
  if (!attr(id_contentType).equals(Buffer.from('06092a864886f70d010701', 'hex'))) throw invalid('the signed content type is not id-data');
  const digest = attr(id_messageDigest);
  const expected = createHash('sha256').update(content).digest();
  if (!digest.equals(Buffer.concat([Buffer.from([0x04, 0x20]), expected]))) throw invalid('the message digest does not match the content');

  const sid = si.sid.issuerAndSerialNumber;
  const certificates = (signedData.certificates ?? []).flatMap((c) => (c.certificate ? [c.certificate] : []));
  const signer = certificates.find(
    (c) =>
      sid &&
      Buffer.from(AsnConvert.serialize(c.tbsCertificate.issuer)).equals(Buffer.from(AsnConvert.serialize(sid.issuer))) &&
      Buffer.from(c.tbsCertificate.serialNumber).equals(Buffer.from(sid.serialNumber)),
  );
  if (!signer) throw invalid('the SignedData does not carry the signer\u2019s certificate');
  const signerDer = Buffer.from(AsnConvert.serialize(signer));
  let key;
  try {
    key = new X509Certificate(signerDer).publicKey;
  } catch (e) {
    throw invalid('the signer\u2019s certificate cannot be read', e);
  }
  // The signature covers the attributes as a DER SET (0x31), not as the [0] IMPLICIT they are carried in.
  const signedSet = Buffer.from(signedAttributesDer(cms));
  signedSet[0] = 0x31;
  if (!verifySignature(OID_SHA256_WITH_RSA, signedSet, new Uint8Array(si.signature.buffer), key)) throw invalid('the signature does not verify with the signer\u2019s key');
  return { signerCertificate: signerDer };
}

/**
 * The signed attributes exactly as encoded (the library keeps no raw copy of a repeated field): ContentInfo →
 * [0] → SignedData → signerInfos (the last SET) → SignerInfo → the [0] after the digest algorithm.
 */
function signedAttributesDer(cms: Uint8Array): Uint8Array {
  const info = readSingle(cms);
  const [, explicit] = childList(cms, info);
  const [signedData] = childList(cms, explicit!);
  const fields = childList(cms, signedData!);
  const signerInfos = fields[fields.length - 1]!;
  if (signerInfos.tag !== TAG.SET) throw invalid('no signerInfos');
  const [signerInfo] = childList(cms, signerInfos);
  const attrs = childList(cms, signerInfo!).find((t) => t.tag === 0xa0);
  if (!attrs) throw invalid('no signed attributes');
  return bytesOf(cms, attrs);
}

export function certificateOf(der: Uint8Array): Certificate {
  return AsnConvert.parse(der, Certificate);
}
