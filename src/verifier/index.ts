/**
 * The relying-party verifier (issue 9): is this signed application from whom it says, unaltered, and was the
 * signer's certificate good at the time? A library: no HTTP server, no database. The network is reached only
 * through the `RevocationFetcher` port handed in.
 *
 * ```ts
 * import { createVerifier } from '../verifier/index.js';
 * const verifier = createVerifier({
 *   anchors: [agencyCaDer],                 // the relying party's own trust anchor(s)
 *   intermediates: crossCertificatesDer,    // the bridge's cross-certificates (a pool; order does not matter)
 *   revocation: { fetcher, ocspResponder: 'http://…/ocsp', timeoutMs: 5000 },
 * });
 * const report = await verifier.verify({ signature: p7s, content: formBytes, at: new Date() });
 * if (report.verdict === 'valid') use(report.signer!.facts);   // name, DOB (with era), sex, address, flags
 * else show(report.reasons);                                   // [{ code: 'revoked', revokedAt, revocationReason, … }]
 * ```
 *
 * - `verify` never throws for bad input: anything malformed gives verdict `invalid`, reason `malformed`.
 * - `valid` only when: the CMS signature verifies (RSA PKCS#1 v1.5, RSA-PSS or ECDSA over the signed
 *   attributes), the content matches the message digest, signing-certificate-v2 (if present) names the
 *   signer's certificate, a path exists from the signer to an anchor and passes RFC 5280 §6 (signatures,
 *   validity at `at`, basic constraints, key usage, name constraints, policies), and every certificate on the
 *   path has a good status (OCSP first, CRLs — partitions, deltas, ARLs — as the fallback).
 * - `indeterminate` when the only problem is that a status could not be obtained (`revocation-unavailable`).
 * - One verifier instance keeps a cache of revocation data (until nextUpdate) and of checked certificate
 *   signatures: keep one per process.
 *
 * `verifySignedData(request, config)` is the one-shot form (a fresh verifier, no cache between calls).
 * `validateCertificate(der, { at })` runs the path search and validation alone (used by the conformance
 * harnesses: NIST PKITS, NIST path validation 1.07, OCSP cases).
 */
export type {
  ReasonCode,
  Reason,
  Verdict,
  RevocationStatus,
  PathElement,
  SignerFacts,
  SignerInfoReport,
  VerificationReport,
  RevocationFetcher,
  RevocationOptions,
  PolicyOptions,
  VerifierConfig,
  VerifyRequest,
  PathReport,
} from './types.js';
export { createVerifier, verifySignedData, type Verifier } from './verifier.js';
