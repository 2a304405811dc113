import { createHash } from 'node:crypto';
import {
  Attribute,
  CertificateChoices,
  CertificateSet,
  ContentInfo,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
  DigestAlgorithmIdentifiers,
  id_contentType,
  id_data,
  id_messageDigest,
  id_signedData,
  id_signingTime,
} from '@peculiar/asn1-cms';
import { AsnArray, AsnConvert, AsnIntegerArrayBufferConverter, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, GeneralName, GeneralNames } from '@peculiar/asn1-x509';
import { oid, octetString, time, setOf } from './der.js';
import { PkiError } from './errors.js';
import { OID_RSA_ENCRYPTION, OID_SHA256 } from './oids.js';

/**
 * A detached CMS SignedData (RFC 5652) whose signature is made elsewhere — by the resident's card, which
 * takes a DigestInfo and adds the PKCS#1 v1.5 padding itself (card-protocol §3.5). The structure comes from
 * @peculiar/asn1-cms; the only bytes we put together are the signed attributes' SET, because the signature
 * covers them SET-tagged (0x31) while SignerInfo carries them as [0] (libraries.md §5).
 *
 * Signed attributes: content-type (id-data), message-digest (SHA-256), signing-time, and ESS
 * signing-certificate-v2 (RFC 5035) binding the signer's certificate, as CAdES-BES asks.
 */

/** id-aa-signingCertificateV2 (RFC 5035). */
export const OID_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';

/**
 * ```asn
 * IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
 * ```
 */
export class IssuerSerial {
  @AsnProp({ type: GeneralNames }) issuer = new GeneralNames();
  @AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })
  serialNumber: ArrayBuffer = new ArrayBuffer(0);
  constructor(params: Partial<IssuerSerial> = {}) {
    Object.assign(this, params);
  }
}

/**
 * ```asn
 * ESSCertIDv2 ::= SEQUENCE {
 *   hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
 *   certHash OCTET STRING,
 *   issuerSerial IssuerSerial OPTIONAL }
 * ```
 * SHA-256 is the default, so (DER) the hash algorithm is left out.
 */
export class EssCertIdV2 {
  @AsnProp({ type: AlgorithmIdentifier, optional: true }) hashAlgorithm?: AlgorithmIdentifier;
  @AsnProp({ type: OctetString }) certHash = new OctetString();
  @AsnProp({ type: IssuerSerial, optional: true }) issuerSerial?: IssuerSerial;
  constructor(params: Partial<EssCertIdV2> = {}) {
    Object.assign(this, params);
  }
}

@AsnType({ type: AsnTypeTypes.Sequence, itemType: EssCertIdV2 })
class EssCertIdV2Sequence extends AsnArray<EssCertIdV2> {
  constructor(items?: EssCertIdV2[]) {
    super(items);
    Object.setPrototypeOf(this, EssCertIdV2Sequence.prototype);
  }
}
/** `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies … OPTIONAL }` (policies unused). */
export class SigningCertificateV2 {
  @AsnProp({ type: EssCertIdV2Sequence }) certs = new EssCertIdV2Sequence();
  constructor(params: { certs?: EssCertIdV2[] } = {}) {
    if (params.certs) this.certs = new EssCertIdV2Sequence(params.certs);
  }
}

export interface DetachedSignatureParams {
  /** The exact bytes signed (the content is not carried: detached). */
  content: Uint8Array;
  /** The signer's certificate (DER); included in the SignedData and bound by signing-certificate-v2. */
  certificate: Uint8Array;
  signingTime: Date;
  /**
   * RSA PKCS#1 v1.5 over a SHA-256 DigestInfo: given the DigestInfo DER, return the signature (what
   * `JpkiClient.sign` does on the card).
   */
  signDigestInfo(digestInfo: Uint8Array): Promise<Uint8Array>;
}

const SHA256_DIGEST_INFO_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex');

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

function attribute(type: string, value: Uint8Array): Attribute {
  const v = Buffer.from(value);
  return new Attribute({ attrType: type, attrValues: [v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)] });
}

function parseCertificate(der: Uint8Array): Certificate {
  try {
    return AsnConvert.parse(der, Certificate);
  } catch (e) {
    throw new PkiError('CERTIFICATE_MALFORMED', `the signer's certificate is not DER X.509: ${(e as Error).message}`, {}, { cause: e });
  }
}

/** Builds and signs the detached SignedData; returns the ContentInfo DER (what a .p7s file holds). */
export async function signDetached(p: DetachedSignatureParams): Promise<Buffer> {
  const cert = parseCertificate(p.certificate);
  const tbs = cert.tbsCertificate;
  const essCertId = new EssCertIdV2({
    certHash: new OctetString(sha256(p.certificate)),
    issuerSerial: new IssuerSerial({
      issuer: new GeneralNames([new GeneralName({ directoryName: tbs.issuer })]),
      serialNumber: tbs.serialNumber,
    }),
  });
  const attributes = [
    attribute(id_contentType, oid(id_data)),
    attribute(id_signingTime, time(p.signingTime)),
    attribute(id_messageDigest, octetString(sha256(p.content))),
    attribute(OID_SIGNING_CERTIFICATE_V2, Buffer.from(AsnConvert.serialize(new SigningCertificateV2({ certs: [essCertId] })))),
  ];
  // DER order (X.690 §11.6): the signature covers the sorted SET, and SignerInfo must carry the same order.
  const encoded = attributes.map((a) => ({ a, der: Buffer.from(AsnConvert.serialize(a)) }));
  encoded.sort((x, y) => Buffer.compare(x.der, y.der));
  const signedSet = setOf(encoded.map((e) => e.der));
  const signature = await p.signDigestInfo(Buffer.concat([SHA256_DIGEST_INFO_PREFIX, sha256(signedSet)]));

  const sha256Id = new AlgorithmIdentifier({ algorithm: OID_SHA256 });
  const signerInfo = new SignerInfo({
    version: 1,
    sid: new SignerIdentifier({ issuerAndSerialNumber: new IssuerAndSerialNumber({ issuer: tbs.issuer, serialNumber: tbs.serialNumber }) }),
    digestAlgorithm: sha256Id,
    signedAttrs: encoded.map((e) => e.a),
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: OID_RSA_ENCRYPTION, parameters: null }),
    signature: new OctetString(signature),
  });
  const signedData = new SignedData({
    version: 1,
    digestAlgorithms: new DigestAlgorithmIdentifiers([sha256Id]),
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: id_data }),
    certificates: new CertificateSet([new CertificateChoices({ certificate: cert })]),
    signerInfos: new SignerInfos([signerInfo]),
  });
  const out = Buffer.from(AsnConvert.serialize(new ContentInfo({ contentType: id_signedData, content: AsnConvert.serialize(signedData) })));
  assertSignedAttributesKept(out, signedSet);
  return out;
}

/** The [0] the library wrote must hold exactly the bytes that were signed (a re-ordering would break it). */
function assertSignedAttributesKept(contentInfo: Buffer, signedSet: Buffer): void {
  const tagged = Buffer.from(signedSet);
  tagged[0] = 0xa0;
  if (contentInfo.indexOf(tagged) < 0) throw new Error('CMS: the signed attributes were re-encoded after signing');
}
