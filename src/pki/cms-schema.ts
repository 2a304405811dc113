import { Attribute, DigestAlgorithmIdentifiers, EncapsulatedContentInfo, SignerInfos } from '@peculiar/asn1-cms';
import { AsnArray, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';

/**
 * The typed CMS schemas the verifier reads untrusted SignedData with when the fast reader (cms-reader.ts)
 * refuses it, and the reference that reader is fuzzed against: @peculiar/asn1-cms's classes, with the
 * certificates and CRLs kept as their encoding.
 */

/** A SET OF whose elements are kept as their encoding (certificates: parsed once each, through the cache). */
@AsnType({ type: AsnTypeTypes.Set, itemType: AsnPropTypes.Any })
export class RawSet extends AsnArray<ArrayBuffer> {
  constructor(items?: ArrayBuffer[]) {
    super(items);
    Object.setPrototypeOf(this, RawSet.prototype);
  }
}

/**
 * RFC 5652 §5.1 SignedData as @peculiar/asn1-cms has it, except that the certificates and CRLs are kept as
 * bytes: each certificate is then parsed by the verifier's certificate cache (a resident's certificate and
 * the CA certificates come again and again), instead of being decoded and encoded again per message.
 * ```asn
 * SignedData ::= SEQUENCE {
 *   version CMSVersion,
 *   digestAlgorithms DigestAlgorithmIdentifiers,
 *   encapContentInfo EncapsulatedContentInfo,
 *   certificates [0] IMPLICIT CertificateSet OPTIONAL,
 *   crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
 *   signerInfos SignerInfos }
 * ```
 */
export class SignedDataWithRawCertificates {
  @AsnProp({ type: AsnPropTypes.Integer }) version = 1;
  @AsnProp({ type: DigestAlgorithmIdentifiers }) digestAlgorithms = new DigestAlgorithmIdentifiers();
  @AsnProp({ type: EncapsulatedContentInfo }) encapContentInfo = new EncapsulatedContentInfo();
  @AsnProp({ type: RawSet, context: 0, implicit: true, optional: true }) certificates?: RawSet;
  @AsnProp({ type: RawSet, context: 1, implicit: true, optional: true }) crls?: RawSet;
  @AsnProp({ type: SignerInfos }) signerInfos = new SignerInfos();
}

/** `ContentInfo ::= SEQUENCE { contentType, content [0] EXPLICIT ANY }` with the content read as SignedData in the same pass. */
export class SignedContentInfo {
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier }) contentType = '';
  @AsnProp({ type: SignedDataWithRawCertificates, context: 0 }) content = new SignedDataWithRawCertificates();
}

/** `SET OF Attribute` (the signed attributes as signed). */
@AsnType({ type: AsnTypeTypes.Set, itemType: Attribute })
export class SignedAttributeSet extends AsnArray<Attribute> {
  constructor(items?: Attribute[]) {
    super(items);
    Object.setPrototypeOf(this, SignedAttributeSet.prototype);
  }
}
