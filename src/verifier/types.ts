/**
 * The verifier's public types: what a relying party hands in (ports, anchors, options) and the report it
 * gets back. Nothing here knows about HTTP or databases: revocation data arrives through the `fetch` port.
 */

/** Why a signature or a path is not valid. One code per failure; a report may carry several. */
export type ReasonCode =
  | 'malformed' // the input is not a CMS SignedData (or a certificate/CRL/response in it cannot be read)
  | 'signature' // a signature does not verify (the CMS signer's, a certificate's, a CRL's)
  | 'content-altered' // the message digest does not match the content
  | 'no-path' // no certification path from the signer to a trust anchor
  | 'expired' // a certificate on the path had expired at the validation time
  | 'not-yet-valid' // a certificate on the path was not yet valid at the validation time
  | 'revoked' // a certificate on the path is revoked (date and reason in the reason)
  | 'key-usage' // a key used for something its certificate does not allow
  | 'basic-constraints' // a non-CA certificate issues, or a path length constraint is exceeded
  | 'policy' // no acceptable certificate policy on the path (explicit policy, mapping, any-policy)
  | 'name-constraints' // a name outside a CA's permitted subtrees, or inside its excluded ones
  | 'critical-extension' // a critical extension the verifier does not process
  | 'revocation-unavailable'; // no usable OCSP response or CRL for a certificate on the path

export interface Reason {
  code: ReasonCode;
  /** One sentence in English saying what failed and where. */
  message: string;
  /** Subject of the certificate concerned, when there is one. */
  subject?: string;
  /** Revocation date (ISO 8601) for `revoked`. */
  revokedAt?: string;
  /** RFC 5280 CRLReason name for `revoked` (e.g. `keyCompromise`, `affiliationChanged`). */
  revocationReason?: string;
}

export type Verdict = 'valid' | 'invalid' | 'indeterminate';

/** Where the status of one certificate came from. */
export interface RevocationStatus {
  status: 'good' | 'revoked' | 'unknown' | 'not-checked';
  /** `ocsp` (URL), `crl` (URL or name), `anchor` (a trust anchor is not checked). */
  source: 'ocsp' | 'crl' | 'anchor' | 'none';
  url?: string;
  revokedAt?: string;
  revocationReason?: string;
  /** When the information used stops being fresh (nextUpdate). */
  nextUpdate?: string;
}

/** One certificate of the path used, from the trust anchor down to the signer. */
export interface PathElement {
  subject: string;
  issuer: string;
  /** Serial number, upper-case hex. */
  serial: string;
  /** SHA-256 of the DER, upper-case hex. */
  fingerprint: string;
  notBefore: string;
  notAfter: string;
  /** True for the trust anchor (the first element). */
  anchor: boolean;
  revocation: RevocationStatus;
}

/** The resident's facts from the signer certificate's subjectAltName (jpki-profile.md §1.1). */
export interface SignerFacts {
  name: string;
  /** ISO date, e.g. 1977-11-07. */
  dateOfBirth: string;
  /** Era form as the profile shows it, e.g. 昭和52年11月7日. */
  dateOfBirthEra: string;
  /** 1 male, 2 female, 3/9 other codes of the register. */
  sex: string;
  address: string;
  nameSubstitute: string;
  addressSubstitute: string;
}

export interface SignerInfoReport {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  /** Certificate DER, base64. */
  certificate: string;
  /** Facts decoded when the certificate is a JPKI signing certificate; null otherwise. */
  facts: SignerFacts | null;
}

export interface VerificationReport {
  verdict: Verdict;
  /** Empty when valid. */
  reasons: Reason[];
  /** The validation time used (ISO 8601). */
  validatedAt: string;
  /** Signing time from the signed attributes, if present (ISO 8601). Informational: not trusted time. */
  signingTime: string | null;
  /** `detached` when the content was supplied separately, `enveloping` when the SignedData carried it. */
  mode: 'detached' | 'enveloping' | null;
  /** Algorithm of the CMS signature: `RSA-PKCS1-v1_5/SHA-256`, `RSA-PSS/SHA-256`, `ECDSA/SHA-256`, … */
  signatureAlgorithm: string | null;
  signer: SignerInfoReport | null;
  /** The certification path used, trust anchor first; empty when none was found. */
  path: PathElement[];
}

/**
 * The one port to the network: GET `url` (no body) or POST `body` (an OCSP request, content type
 * `application/ocsp-request`). Resolves to the response body; rejects on any failure (HTTP status, refused
 * connection). `signal` aborts at the verifier's timeout.
 */
export interface RevocationFetcher {
  fetch(url: string, request: { body?: Uint8Array; contentType?: string; signal: AbortSignal }): Promise<Uint8Array>;
}

export interface RevocationOptions {
  /** Fetches OCSP responses and CRLs. Without it only `crls`/`ocspResponses` (and the cache) are used. */
  fetcher?: RevocationFetcher;
  /** An OCSP responder to ask for every certificate, before the certificate's own AIA URL. */
  ocspResponder?: string;
  /** Per request (default 5000 ms). */
  timeoutMs?: number;
  /** Pre-fetched CRLs (DER), e.g. from a file. */
  crls?: readonly Uint8Array[];
  /** Pre-fetched OCSP responses (DER OCSPResponse). */
  ocspResponses?: readonly Uint8Array[];
  /**
   * `require` (default): every certificate on the path must have a status, otherwise indeterminate.
   * `soft`: check what is available; a certificate with no information passes.
   * `off`: no revocation checking (tests of the path alone).
   */
  mode?: 'require' | 'soft' | 'off';
  /** Use OCSP (default true). With false, CRLs only. */
  ocsp?: boolean;
}

/** RFC 5280 §6.1.1 inputs about policies. */
export interface PolicyOptions {
  /** user-initial-policy-set (default {anyPolicy}). */
  initialPolicySet?: readonly string[];
  initialExplicitPolicy?: boolean;
  initialPolicyMappingInhibit?: boolean;
  initialAnyPolicyInhibit?: boolean;
}

export interface VerifierConfig {
  /** Trust anchors (DER certificates). The relying party's own: by default the agency CA. */
  anchors: readonly Uint8Array[];
  /** Certificates a path may go through (the cross-certificates, CA certificates), beside those in the message. */
  intermediates?: readonly Uint8Array[];
  revocation?: RevocationOptions;
  policy?: PolicyOptions;
  /** Longest path searched, anchor excluded (default 8). */
  maxDepth?: number;
  /** Validation time when a call gives none (default: now). */
  clock?: { now(): Date };
}

export interface VerifyRequest {
  /** The CMS ContentInfo (DER, or PEM `-----BEGIN CMS-----` / `PKCS7`). */
  signature: Uint8Array;
  /** The signed content when the signature is detached. */
  content?: Uint8Array;
  /** Validation time (default: the config's clock). */
  at?: Date;
}

/** The result of validating one certificate (`validateCertificate`): the path part of a report. */
export interface PathReport {
  verdict: Verdict;
  reasons: Reason[];
  path: PathElement[];
  validatedAt: string;
}
