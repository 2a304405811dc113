import { explicit, integer, sequence, time, unsignedInteger } from './der.js';
import { algorithmIdentifier, signTbs } from './signed.js';
import type { SignatureAlgorithm, Signer } from './signer.js';

/** Everything a v3 TBSCertificate holds, as DER pieces (RFC 5280 §4.1). */
export interface TbsCertificateParams {
  /** Positive serial number, big-endian magnitude bytes. */
  serial: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm;
  /** The issuer's subject Name, exactly as in the issuer's certificate. */
  issuer: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  subject: Uint8Array;
  subjectPublicKeyInfo: Uint8Array;
  /** Complete Extension TLVs, in the order they are to appear. */
  extensions: readonly Uint8Array[];
}

/**
 * TBSCertificate DER. Written with the project's DER module rather than @peculiar/x509: issuance is a hot
 * path and the library's builder costs about 1.3 ms per certificate (notes/libraries.md §8); the output is
 * checked byte for byte against @peculiar/x509 in certificate-builder.test.ts.
 */
export function encodeTbsCertificate(p: TbsCertificateParams): Buffer {
  return sequence(
    explicit(0, integer(2)), // v3
    unsignedInteger(p.serial),
    algorithmIdentifier(p.signatureAlgorithm),
    p.issuer,
    sequence(time(p.notBefore), time(p.notAfter)),
    p.subject,
    p.subjectPublicKeyInfo,
    explicit(3, sequence(...p.extensions)),
  );
}

/** Signs a TBSCertificate; the signer's algorithm must be the one written in the TBS. */
export async function signCertificate(tbs: Uint8Array, signer: Signer): Promise<Buffer> {
  return signTbs(tbs, signer);
}
