import { JpkiError, type ErrorKind } from '../common/errors.js';

/**
 * The stable codes of pki/. Every one is a property of the bytes handed in (a bad CSR, a weak key, a broken
 * CRL), so all map to the 'malformed' kind: the caller sent something the interface does not accept.
 */
export type PkiErrorCode =
  /** The CSR is not a DER/PEM PKCS#10 CertificationRequest (bad framing, wrong tags, trailing bytes). */
  | 'CSR_MALFORMED'
  /** The CSR's self-signature does not verify with the public key it carries. */
  | 'CSR_SIGNATURE_INVALID'
  /** A public key that is not a well-formed SubjectPublicKeyInfo node:crypto can load. */
  | 'KEY_MALFORMED'
  /** RSA modulus below the minimum, or above the maximum we are willing to verify with. */
  | 'KEY_TOO_SMALL'
  | 'KEY_TOO_LARGE'
  /** A key type or curve the profile does not allow (Ed25519, secp256k1, RSA-PSS-only keys…). */
  | 'KEY_ALGORITHM_UNSUPPORTED'
  /** An RSA public exponent that is even or 1. */
  | 'KEY_EXPONENT_INVALID'
  /** A signature algorithm we do not verify (RSA-PSS, SHA-1, unknown OIDs). */
  | 'SIGNATURE_ALGORITHM_UNSUPPORTED'
  /** The CRL is not a DER CertificateList, or a field breaks RFC 5280 §5. */
  | 'CRL_MALFORMED'
  /** The CRL's signature does not verify with the issuer's key. */
  | 'CRL_SIGNATURE_INVALID'
  /** The encoder was given a value it cannot put in a conforming CRL (bad serial, reason, date, extension). */
  | 'CRL_INPUT_INVALID'
  /** An extension builder was given a value the extension cannot hold. */
  | 'EXTENSION_INPUT_INVALID'
  /** The resident's four facts cannot go into a certificate as given (empty, too long, impossible date…). */
  | 'RESIDENT_FACTS_INVALID'
  /** A certificate does not follow the JPKI profile (parsing back what a builder or another CA produced). */
  | 'CERTIFICATE_PROFILE_VIOLATION'
  /** A certificate is not DER X.509 as we can read it. */
  | 'CERTIFICATE_MALFORMED'
  /** A detached CMS signature is malformed or does not verify over the content (cms-verify.ts). */
  | 'CMS_SIGNATURE_INVALID'
  /** Not a DER CMS SignedData as the fast reader accepts it (cms-reader.ts). */
  | 'CMS_MALFORMED';

export class PkiError extends JpkiError {
  declare readonly code: PkiErrorCode;
  constructor(
    code: PkiErrorCode,
    message: string,
    params: Record<string, string | number> = {},
    options?: { cause?: unknown; kind?: ErrorKind },
  ) {
    super(code, options?.kind ?? 'malformed', message, params, options?.cause === undefined ? undefined : { cause: options.cause });
  }
}

export function isPkiError(e: unknown, code?: PkiErrorCode): e is PkiError {
  return e instanceof PkiError && (code === undefined || e.code === code);
}
