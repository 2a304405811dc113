import type { PathReport, VerificationReport, VerifierConfig, VerifyRequest } from './types.js';

export interface Verifier {
  /** Verifies a CMS SignedData (detached with `content`, or enveloping). Never throws. */
  verify(request: VerifyRequest): Promise<VerificationReport>;
  /** Path search + RFC 5280 validation + revocation for one certificate (DER), with extra untrusted certificates. */
  validateCertificate(certificate: Uint8Array, options?: { at?: Date; untrusted?: readonly Uint8Array[] }): Promise<PathReport>;
}

export function createVerifier(config: VerifierConfig): Verifier {
  void config;
  throw new Error('not yet implemented');
}

export async function verifySignedData(request: VerifyRequest, config: VerifierConfig): Promise<VerificationReport> {
  return createVerifier(config).verify(request);
}
